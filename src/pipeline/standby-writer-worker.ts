/**
 * Worker entry of a hot standby's journal writer (standby-writer.ts): each group of entries the
 * member sends is stored in one synchronous LMDB transaction, fsync included, in this thread,
 * and answered 'stored' once it is durable, or 'failed' with the error (nothing of it stored).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { closeJournalDb, openJournalDb } from '../journal/journal-db.js';
import { writeGroup } from '../replication/standby-journal.js';
import type { StandbyWriterData, WriterReply, WriterRequest } from './standby-writer.js';

/** What crosses back of a failed write: enough for writeFailure to tell a full disk. */
function failedReply(id: number, error: unknown): WriterReply {
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  const known = typeof code === 'number' || typeof code === 'string' ? code : undefined;
  return { type: 'failed', id, name: e.name, message: e.message, code: known };
}

function main(data: StandbyWriterData): void {
  const port = parentPort;
  if (port === null) throw new Error('standby writer: not a worker thread');
  const db = openJournalDb(data.dataDir, { create: false, readOnly: false, snapshots: false });
  // Opening read the schema in a read transaction: held, it would pin LMDB's oldest snapshot
  // and every commit would grow the file (see journal-worker.ts). Writes read in their own.
  db.root.resetReadTxn();
  port.postMessage({ type: 'ready' } satisfies WriterReply);
  port.on('message', (request: WriterRequest) => {
    if (request.type === 'close') {
      void closeJournalDb(db).then(() => port.close());
      return;
    }
    let reply: WriterReply = { type: 'stored', id: request.id };
    try {
      writeGroup(db, request.packed);
    } catch (error) {
      reply = failedReply(request.id, error);
    }
    port.postMessage(reply);
  });
}

main(workerData as StandbyWriterData);
