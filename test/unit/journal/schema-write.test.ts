/**
 * A new folder's schema version is written with the folder's tables, synchronously. It was
 * written with lmdb-js's asynchronous `put` inside `transactionSync`: that left a write batch
 * open, so the schema, and every `transactionSync` made on the environment before the event
 * loop turned, were committed only later, not when the calls returned (strace: no fdatasync
 * until then).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeJournalDb, openJournalDb } from '../../../src/journal/journal-db.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';

/** Reads the folder's schema version from another process (what LMDB has committed). */
function schemaSeenElsewhere(dir: string): string {
  const module = new URL('../../../src/journal/journal-db.js', import.meta.url).href;
  const script = [
    `const { openJournalDb } = await import(${JSON.stringify(module)});`,
    'const options = { create: false, readOnly: true, snapshots: false };',
    'const db = openJournalDb(process.env.BOURSE_TEST_DIR, options);',
    "process.stdout.write(String(db.meta.get('schema-version')));",
    'process.exit(0);',
  ].join('\n');
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, BOURSE_TEST_DIR: dir },
  });
  assert.equal(child.status, 0, child.stderr);
  return child.stdout;
}

test("a new folder's schema version is committed when openJournalDb returns", async () => {
  const dir = tempDataDir();
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    // Before this thread yields to its event loop: another process sees what is committed.
    assert.match(schemaSeenElsewhere(dir), /^[0-9]+$/);
    await closeJournalDb(db);
  } finally {
    removeDir(dir);
  }
});
