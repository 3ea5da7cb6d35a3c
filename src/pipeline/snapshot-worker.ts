/**
 * Worker entry of the snapshotter: a replica that follows the journal (not the business-logic
 * thread, which it never stalls) and writes a snapshot every `snapshotIntervalEvents` journaled
 * events or `snapshotIntervalMs`, whichever comes first. Its snapshots are consistent at the end
 * of a journal batch by construction: it applies whole batches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EngineConfig } from '../constants.js';
import { snapshotKeepCount } from '../constants.js';
import { closeJournalDb, openJournalDb, type JournalDb } from '../journal/journal-db.js';
import { JournalProgress, ProgressSlot } from '../journal/journal-progress.js';
import { writeSnapshot } from '../journal/snapshot-store.js';
import { Replica } from './replay.js';

export interface SnapshotWorkerData {
  dataDir: string;
  config: EngineConfig;
  progress: SharedArrayBuffer;
  /** Int32 word 0: set to 1 to stop. */
  control: SharedArrayBuffer;
  intervalEvents: number;
  intervalMs: number;
  tailSequence: number;
}

function main(data: SnapshotWorkerData): void {
  const db = openJournalDb(data.dataDir, { create: false, readOnly: false });
  const progress = new JournalProgress(data.progress);
  const control = new Int32Array(data.control);
  const replica = new Replica(data.config);
  replica.loadNewestSnapshot(db, data.tailSequence);
  replica.replay(db, Infinity);
  parentPort?.postMessage({ type: 'ready', sequence: replica.sequence });
  let takenAt = performance.now();
  let writtenAt = progress.get(ProgressSlot.eventsWritten);
  while (Atomics.load(control, 0) === 0) {
    const seen = progress.version();
    const written = progress.get(ProgressSlot.eventsWritten);
    const behind = progress.get(ProgressSlot.sequenceDurable) > replica.sequence;
    const due =
      written - writtenAt >= data.intervalEvents || performance.now() - takenAt >= data.intervalMs;
    if (behind && due) {
      take(db, replica, data.config);
      takenAt = performance.now();
      writtenAt = written;
      continue;
    }
    progress.waitChange(seen, 100);
  }
  closeJournalDb(db);
  parentPort?.postMessage({ type: 'stopped' });
}

/** Catches up with the journal and writes a snapshot at the end of its last batch. */
function take(db: JournalDb, replica: Replica, config: EngineConfig): void {
  db.root.resetReadTxn();
  replica.replay(db, Infinity);
  const started = performance.now();
  const header = writeSnapshot(
    db,
    {
      sequence: replica.sequence,
      timestamp: replica.timestamp,
      batchHash: Buffer.from(replica.batchHash).toString('hex'),
      config,
      stateChecksum: replica.engine.checksum.hex(),
    },
    replica.engine.image(),
    snapshotKeepCount,
  );
  parentPort?.postMessage({
    type: 'snapshot',
    sequence: header.sequence,
    bytes: header.arrays.reduce((sum, [, stored]) => sum + stored, 0),
    ms: performance.now() - started,
  });
}

main(workerData as SnapshotWorkerData);
