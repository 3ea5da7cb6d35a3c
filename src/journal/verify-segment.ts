/**
 * One chain-check task, run in a piscina worker (see chain-check.ts): checks a segment of the
 * journal (every batch's structure and hash, and the links inside the segment). The caller
 * checks the links between segments.
 */
import { StorageError } from './journal-errors.js';

export interface SegmentTask {
  dataDir: string;
  /** First key of the segment and first key after it (hex; '' for the end). */
  startKey: string;
  endKey: string;
}

export interface SegmentResult {
  batches: number;
  events: number;
  firstSequence: number;
  firstPrevHash: string;
  lastHash: string;
  lastSequence: number;
  /** The first problem found, with the sequence it belongs to. */
  error: { sequence: number; message: string } | null;
}

/**
 * LMDB's native module is loaded here, when a task runs, not when the thread starts: a pool
 * thread terminated while loading it (destroyed as soon as the tasks settled, before it had
 * taken one) would abort the whole process.
 */
export default async function verifySegment(task: SegmentTask): Promise<SegmentResult> {
  const { closeJournalDb, keySequence, openJournalDb } = await import('./journal-db.js');
  const { lastSequenceOf, readBatches } = await import('./journal-reader.js');
  const db = openJournalDb(task.dataDir, { create: false, readOnly: true });
  const end = task.endKey === '' ? null : Buffer.from(task.endKey, 'hex');
  const result: SegmentResult = {
    batches: 0,
    events: 0,
    firstSequence: keySequence(Buffer.from(task.startKey, 'hex')),
    firstPrevHash: '',
    lastHash: '',
    lastSequence: -1,
    error: null,
  };
  try {
    // Each view is used inside the call only: no batch is copied out of LMDB.
    readBatches(db, Buffer.from(task.startKey, 'hex'), null, (view) => {
      if (end !== null && view.firstSequence >= keySequence(end)) return false;
      if (result.batches === 0) result.firstPrevHash = Buffer.from(view.prevHash).toString('hex');
      result.batches++;
      result.events += view.count;
      result.lastHash = Buffer.from(view.hash).toString('hex');
      result.lastSequence = lastSequenceOf(view);
      return true;
    });
  } catch (error) {
    const sequence = error instanceof StorageError ? error.sequence : result.lastSequence + 1;
    result.error = { sequence, message: (error as Error).message };
  } finally {
    closeJournalDb(db);
  }
  return result;
}
