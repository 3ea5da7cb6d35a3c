/**
 * A piscina task: writes one snapshot from a copy of the state that the snapshotter made into
 * a SharedArrayBuffer. Encoding (snapshot-runs.ts), hashing and the LMDB write happen here, on a
 * pool thread, so the snapshotter goes on consuming the output ring meanwhile.
 */
import { snapshotThreadNice, snapshotWritePaceMs, type EngineConfig } from '../constants.js';
import { lowerThreadPriority } from './thread-priority.js';
import { closeJournalDb, openJournalDb } from './journal-db.js';
import { writeSnapshot, type SnapshotFields } from './snapshot-store.js';

export interface SnapshotTask {
  dataDir: string;
  /** The arrays, at `offsets` (8-byte aligned); `lengths` gives each one's byte length. */
  state: SharedArrayBuffer;
  offsets: number[];
  lengths: number[];
  /** Per array, the bytes copied (StateImage.used): what follows them is not read. */
  used: number[];
  /** Per array, its base (StateImage.bases): what it holds past `used`. */
  bases: number[];
  counters: number[];
  fields: SnapshotFields & { config: EngineConfig };
  keep: number;
  /** Int32 word 0: set to 1 to stop writing (the node is stopping). */
  abort: SharedArrayBuffer;
}

export interface SnapshotTaskResult {
  /** -1: aborted, nothing written that a reader would take. */
  sequence: number;
  storedBytes: number;
}

export default function writeSnapshotTask(task: SnapshotTask): SnapshotTaskResult {
  lowerThreadPriority(snapshotThreadNice); // background work: spare CPU only
  const arrays = task.lengths.map(
    (length, i) => new Uint8Array(task.state, task.offsets[i], length),
  );
  const db = openJournalDb(task.dataDir, { create: false, readOnly: false });
  try {
    const image = { arrays, counters: task.counters, used: task.used, bases: task.bases };
    const abort = new Int32Array(task.abort);
    const aborted = (): boolean => Atomics.load(abort, 0) !== 0;
    const header = writeSnapshot(db, task.fields, image, task.keep, snapshotWritePaceMs, aborted);
    if (header === null) return { sequence: -1, storedBytes: 0 };
    let storedBytes = 0;
    for (const [, stored] of header.arrays) storedBytes += stored;
    return { sequence: header.sequence, storedBytes };
  } finally {
    closeJournalDb(db);
  }
}
