/**
 * journal.mdb's own tables written on a disk that fails: the engine config every start stores,
 * and the schema version a new folder gets. lmdb-js throws a bare Error (code 5 on EIO); it
 * reached the CLI as "internal error" with a stack trace (exit 70), so `bourse start` on a
 * failing disk did not say so, and `bourse cluster` left a member that hit it down for good
 * (it starts again only members that exit 74, the disk, or 69, 73, 75). Found with an
 * LD_PRELOAD shim failing fdatasync: a member restarted on the disk died in storeConfig.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeJournalDb,
  openJournalDb,
  storeConfig,
  type JournalDb,
} from '../../../src/journal/journal-db.js';
import { exitCodeOf, StorageCode, StorageError } from '../../../src/journal/journal-errors.js';
import { smallConfig } from '../../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';

/**
 * Makes `db`'s synchronous meta writes fail as lmdb-js fails them on EIO; the function returned
 * puts them back.
 */
function failMetaWrites(db: JournalDb): () => void {
  const { transactionSync, putSync } = db.meta;
  const eio = (): never => {
    throw Object.assign(new Error('Input/output error'), { code: 5 });
  };
  db.meta.transactionSync = eio;
  db.meta.putSync = eio;
  return () => {
    db.meta.transactionSync = transactionSync;
    db.meta.putSync = putSync;
  };
}

test('the engine config on a failing disk: DATA_IO (exit 74), naming the write', async () => {
  const dir = tempDataDir();
  const db = openJournalDb(dir, { create: true, readOnly: false });
  const restore = failMetaWrites(db);
  try {
    assert.throws(
      () => storeConfig(db, smallConfig),
      (error: unknown) => {
        assert.ok(error instanceof StorageError, String(error));
        assert.equal(error.code, StorageCode.DataIo);
        assert.equal(exitCodeOf(error.code), 74);
        assert.match(error.message, /cannot write the engine config: input\/output error/);
        return true;
      },
    );
  } finally {
    restore();
    // lmdb-js closing an environment in the same turn that opened it never returns.
    await new Promise((resolve) => setTimeout(resolve, 10));
    await closeJournalDb(db);
    removeDir(dir);
  }
});
