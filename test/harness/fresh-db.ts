/** A new data folder's storage, for tests of the journal and snapshot stores. */
import { closeJournalDb, openJournalDb, type JournalDb } from '../../src/journal/journal-db.js';
import { removeDir, tempDataDir } from './node-driver.js';

/** Runs `body` on a new data folder's storage, then closes it and removes the folder. */
export async function withDb(body: (db: JournalDb, dir: string) => void): Promise<void> {
  const dir = tempDataDir();
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    // Creating wrote the schema asynchronously: closing before it is done blocks for good.
    await db.root.committed;
    await db.root.flushed;
    try {
      body(db, dir);
    } finally {
      await closeJournalDb(db);
    }
  } finally {
    removeDir(dir);
  }
}
