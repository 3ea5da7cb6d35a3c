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
import { JournalProgress } from '../journal/journal-progress.js';
import { JournalWriter } from '../journal/journal-writer.js';

export interface JournalWorkerData {
  dataDir: string;
  outputRing: SharedArrayBuffer;
  progress: SharedArrayBuffer;
  tailSequence: number;
  tailHash: Uint8Array;
  term: number;
}

function main(data: JournalWorkerData): void {
  const db = openJournalDb(data.dataDir, { create: false, readOnly: false });
  const ring = RingBuffer.attach(data.outputRing);
  const barrier = new SequenceBarrier(ring, 0, new WaitStrategy(ringSpinCount, ringSleepMs));
  const writer = new JournalWriter(db, barrier, new JournalProgress(data.progress), {
    sequence: data.tailSequence,
    hash: data.tailHash,
    term: data.term,
  });
  parentPort?.postMessage({ type: 'ready' });
  writer.run();
  closeJournalDb(db);
  parentPort?.postMessage({ type: 'stopped' });
}

main(workerData as JournalWorkerData);
