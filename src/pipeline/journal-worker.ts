/**
 * Worker entry of the journal writer (consumer 0 of the output ring). It exits once the output
 * ring is halted and everything published is durable.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ringSleepMs, ringSpinCount } from '../constants.js';
import { RingBuffer } from '../ring/ring-buffer.js';
import { SequenceBarrier } from '../ring/sequence-barrier.js';
import { WaitStrategy } from '../ring/wait-strategy.js';
import { closeJournalDb, openJournalDb } from '../journal/journal-db.js';
import { JournalProgress, ProgressSlot } from '../journal/journal-progress.js';
import { journalTail } from '../journal/journal-reader.js';
import { JournalWriter, type JournalTail } from '../journal/journal-writer.js';
import { awaitPromotion } from './follower.js';
import { JournalLog } from './journal-log.js';

export interface JournalWorkerData {
  dataDir: string;
  outputRing: SharedArrayBuffer;
  progress: SharedArrayBuffer;
  tailSequence: number;
  tailHash: Uint8Array;
  term: number;
  /** A hot standby's writer: it starts at the journal's end once promoted (follower.ts). */
  follow: boolean;
  /** A cluster member's: each batch also goes to the main thread before its commit. */
  shareSealed: boolean;
  /** Batches go to the journal log, LMDB takes them after (journal-log.ts). */
  journalLog: boolean;
}

/**
 * Posts a copy of each sealed batch to the main thread (transferred, not copied again), with
 * when it was taken from the ring and sealed (wall clock, ms: stage-times.ts).
 */
function postSealed(firstSequence: number, bytes: Uint8Array, takenAtMs: number): void {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const sealedAtMs = performance.timeOrigin + performance.now();
  const message = { type: 'sealed', sequence: firstSequence, bytes: copy, takenAtMs, sealedAtMs };
  parentPort?.postMessage(message, [copy.buffer]);
}

function main(data: JournalWorkerData): void {
  const db = openJournalDb(data.dataDir, { create: false, readOnly: false });
  const ring = RingBuffer.attach(data.outputRing);
  const progress = new JournalProgress(data.progress);
  let tail: JournalTail = { sequence: data.tailSequence, hash: data.tailHash, term: data.term };
  parentPort?.postMessage({ type: 'ready' });
  if (data.follow) {
    // Opening read the schema in a read transaction. Held while this thread waits (a standby's
    // whole life), it pinned LMDB's oldest snapshot: no page freed after it could be reused,
    // and every group commit of the member grew journal.mdb by its dirty pages (~230 KB each:
    // 119 MB for 500 one-command commits; gigabytes an hour under load).
    db.root.resetReadTxn();
    if (!awaitPromotion(progress, () => ring.halted())) {
      closeJournalDb(db);
      parentPort?.postMessage({ type: 'stopped' });
      return;
    }
    // The member stored everything it had before promoting: nothing else writes from here.
    const end = journalTail(db);
    db.root.resetReadTxn();
    tail = { ...end, term: progress.get(ProgressSlot.promotedTerm) };
    parentPort?.postMessage({ type: 'promoted' });
  }
  const barrier = new SequenceBarrier(ring, 0, new WaitStrategy(ringSpinCount, ringSleepMs));
  const log = data.journalLog ? JournalLog.open(db, data.dataDir, data.progress) : null;
  const sealed = data.shareSealed ? postSealed : null;
  const writer = new JournalWriter(db, barrier, progress, tail, sealed, log);
  writer.run();
  log?.close(); // LMDB holds everything: a demotion's or a tool's reads find it all
  closeJournalDb(db);
  parentPort?.postMessage({ type: 'stopped' });
}

main(workerData as JournalWorkerData);
