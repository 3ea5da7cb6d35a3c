/**
 * Checks a stretch of the journal's hash chain in parallel: the keys from `start` on are cut
 * into segments, piscina workers check each segment (structure, each batch's SHA-256, the links
 * inside it), and the links between segments are checked here. Used by `bourse verify` and,
 * alongside the apply, by recovery, so that checking hashes does not slow replay down.
 */
import { availableParallelism } from 'node:os';
import {
  chainCheckSegmentsPerThread,
  chainCheckThreadsMax,
  piscinaExecArgv,
} from '../constants.js';
import type { JournalDb } from './journal-db.js';
import { StorageError } from './journal-errors.js';
import { checkWalkEnd } from './journal-reader.js';
import type { SegmentResult, SegmentTask } from './verify-segment.js';

export interface ChainReport {
  batches: number;
  events: number;
  lastSequence: number;
  /** The hash of the last batch checked (hex; '' when none): the head an auditor can keep. */
  lastHash: string;
  /** The first problem found, with the sequence it belongs to; null when the chain holds. */
  problem: { sequence: number; message: string } | null;
}

/**
 * Checks every batch whose key is at or after `start`; the first must link to `prevHash`.
 * `onSegment` is called as segments finish (for a progress bar), with their count.
 */
export async function checkChain(
  dataDir: string,
  db: JournalDb,
  start: Buffer,
  prevHash: Uint8Array,
  onSegment?: (done: number, total: number) => void,
  threadsMax: number = chainCheckThreadsMax,
): Promise<ChainReport> {
  const keys = [...db.journal.getKeys({ start })];
  const report: ChainReport = {
    batches: 0,
    events: 0,
    lastSequence: 0,
    lastHash: '',
    problem: null,
  };
  try {
    checkWalkEnd(db, start, keys.at(-1) ?? null, keys.length); // the segments start from these
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    report.problem = { sequence: error.sequence, message: error.message };
    return report;
  }
  if (keys.length === 0) return report;
  const threads = Math.max(1, Math.min(availableParallelism(), threadsMax));
  const tasks = segments(dataDir, keys, threads * chainCheckSegmentsPerThread);
  // Loaded when there is a chain to check: `bourse replay` and `inspect` (no check) skip it.
  const { Piscina } = await import('piscina');
  const pool = new Piscina({
    execArgv: [...piscinaExecArgv],
    filename: new URL('./verify-segment.js', import.meta.url).href,
    maxThreads: threads,
  });
  let done = 0;
  try {
    // Every task settles before the pool is destroyed: destroying it while a thread is inside
    // an LMDB call (a failed task beside running ones) can abort the whole process.
    const settled = await Promise.allSettled(
      tasks.map(async (task) => {
        const result = (await pool.run(task)) as SegmentResult;
        onSegment?.(++done, tasks.length);
        return result;
      }),
    );
    const results: SegmentResult[] = [];
    for (const s of settled) {
      if (s.status === 'rejected') throw s.reason;
      results.push(s.value);
    }
    combine(results, Buffer.from(prevHash).toString('hex'), report);
  } finally {
    await pool.destroy();
  }
  return report;
}

function segments(dataDir: string, keys: readonly Buffer[], count: number): SegmentTask[] {
  const n = Math.min(keys.length, count);
  const tasks: SegmentTask[] = [];
  for (let i = 0; i < n; i++) {
    const from = Math.floor((i * keys.length) / n);
    const to = Math.floor(((i + 1) * keys.length) / n);
    const endKey = to < keys.length ? keys[to].toString('hex') : '';
    tasks.push({ dataDir, startKey: keys[from].toString('hex'), endKey });
  }
  return tasks;
}

/** Adds the segments up and checks that each links to the one before it. */
function combine(results: readonly SegmentResult[], prevHash: string, report: ChainReport): void {
  let prev = prevHash;
  for (const r of results) {
    if (r.error !== null) {
      report.problem = r.error;
      return;
    }
    if (r.batches > 0 && r.firstPrevHash !== prev) {
      const message =
        `journal batch at sequence ${r.firstSequence} ` + 'does not link to the batch before it';
      report.problem = { sequence: r.firstSequence, message };
      return;
    }
    report.batches += r.batches;
    report.events += r.events;
    report.lastSequence = r.lastSequence;
    if (r.batches > 0) report.lastHash = r.lastHash;
    prev = r.lastHash;
  }
}
