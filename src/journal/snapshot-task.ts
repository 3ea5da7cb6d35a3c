/**
 * A piscina task: writes one snapshot from its body, which the snapshotter encoded from its
 * state into a SharedArrayBuffer (snapshot-body.ts). Hashing and the paced LMDB writes happen
 * here, on a pool thread, so the snapshotter goes on consuming the output ring meanwhile.
 */
import { snapshotThreadNice, snapshotWritePaceMs, type EngineConfig } from '../constants.js';
import { lowerThreadPriority } from './thread-priority.js';
import { closeJournalDb, openJournalDb } from './journal-db.js';
import { writeSnapshotBody, type SnapshotFields } from './snapshot-store.js';
import type { EncodedArray } from './snapshot-runs.js';

export interface SnapshotTask {
  dataDir: string;
  /** The body from its start (bodyBytes), as encodeBody left it: not written until this ends. */
  state: SharedArrayBuffer;
  /** Per array: its full byte length, the bytes stored, its runs (EncodedArray). */
  arrays: EncodedArray[];
  bodyBytes: number;
  /** Per array, its base (StateImage.bases). */
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
  const db = openJournalDb(task.dataDir, { create: false, readOnly: false });
  try {
    const body = {
      arrays: task.arrays,
      bodyBytes: task.bodyBytes,
      bytes: new Uint8Array(task.state, 0, task.bodyBytes),
      counters: task.counters,
      bases: task.bases,
    };
    const abort = new Int32Array(task.abort);
    const aborted = (): boolean => Atomics.load(abort, 0) !== 0;
    const pace = snapshotWritePaceMs;
    const header = writeSnapshotBody(db, task.fields, body, task.keep, pace, aborted);
    if (header === null) return { sequence: -1, storedBytes: 0 };
    let storedBytes = 0;
    for (const [, stored] of header.arrays) storedBytes += stored;
    return { sequence: header.sequence, storedBytes };
  } finally {
    closeJournalDb(db);
  }
}
