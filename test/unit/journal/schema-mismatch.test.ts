/**
 * A folder of another schema version is refused with what to do. It said only "written with
 * schema version 99; this build reads 1": an operator who had just upgraded or gone back could
 * not tell which build to run, or whether the refusal had changed the folder. A value that is
 * no version is told as damage, not as another build's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { closeJournalDb, dataFile, openJournalDb } from '../../../src/journal/journal-db.js';
import { StorageCode, StorageError } from '../../../src/journal/journal-errors.js';
import { schemaVersion } from '../../../src/constants.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';

test('another schema version: refused, the folder unchanged, what to run said', async () => {
  const newer = String(schemaVersion + 98);
  const cases: [string, RegExp][] = [
    [newer, new RegExp(`a newer build wrote it: run one that reads schema version ${newer} `)],
    ['0', /that is no version \(its meta record is damaged\); restore the folder from a backup/],
    ['x', /that is no version/],
  ];
  for (const [stored, advice] of cases) {
    const dir = tempDataDir();
    try {
      const db = openJournalDb(dir, { create: true, readOnly: false });
      db.meta.putSync('schema-version', stored);
      await closeJournalDb(db);
      const before = readFileSync(dataFile(dir));
      for (const readOnly of [false, true]) {
        assert.throws(
          () => openJournalDb(dir, { create: false, readOnly }),
          (error: unknown) =>
            error instanceof StorageError &&
            error.code === StorageCode.SchemaMismatch &&
            error.message.includes(`schema version ${stored}; this build reads `) &&
            advice.test(error.message),
        );
      }
      assert.deepEqual(readFileSync(dataFile(dir)), before, 'the folder is unchanged');
    } finally {
      removeDir(dir);
    }
  }
});
