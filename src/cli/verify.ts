/**
 * `bourse verify`: checks the whole journal's hash chain in parallel segments (piscina), then
 * every snapshot against a replay of the journal up to its sequence. Reports the first problem
 * with the sequence it belongs to.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { genesisHash } from '../journal/journal-codec.js';
import { closeJournalDb, type JournalDb } from '../journal/journal-db.js';
import { listSnapshots, loadSnapshot } from '../journal/snapshot-store.js';
import { StorageError } from '../journal/journal-errors.js';
import { Replica } from '../pipeline/replay.js';
import { openData } from './open-data.js';
import { progressBar } from './output.js';
import type { SegmentResult, SegmentTask } from './verify-task.js';

export interface VerifyReport {
  ok: boolean;
  batches: number;
  events: number;
  lastSequence: number;
  snapshotsChecked: number;
  problems: { sequence: number; message: string }[];
}

/** Segments per worker thread, so the progress bar moves and work evens out. */
const segmentsPerThread = 4;

export async function verify(dataDir: string): Promise<VerifyReport> {
  const { db, config } = openData(dataDir);
  const report: VerifyReport = {
    ok: true,
    batches: 0,
    events: 0,
    lastSequence: 0,
    snapshotsChecked: 0,
    problems: [],
  };
  try {
    await verifyChain(dataDir, db, report);
    if (report.problems.length === 0) verifySnapshots(db, new Replica(config), report);
  } finally {
    closeJournalDb(db);
  }
  report.ok = report.problems.length === 0;
  return report;
}

async function verifyChain(dataDir: string, db: JournalDb, report: VerifyReport): Promise<void> {
  const keys = [...db.journal.getKeys()];
  if (keys.length === 0) return;
  const threads = Math.max(1, Math.min(availableParallelism(), 4));
  const segmentCount = Math.min(keys.length, threads * segmentsPerThread);
  const tasks: SegmentTask[] = [];
  for (let i = 0; i < segmentCount; i++) {
    const from = Math.floor((i * keys.length) / segmentCount);
    const to = Math.floor(((i + 1) * keys.length) / segmentCount);
    const endKey = to < keys.length ? keys[to].toString('hex') : '';
    tasks.push({ dataDir, startKey: keys[from].toString('hex'), endKey });
  }
  const pool = new Piscina({
    filename: new URL('./verify-task.js', import.meta.url).href,
    maxThreads: threads,
  });
  const bar = progressBar('verify journal', segmentCount);
  let done = 0;
  const results = await Promise.all(
    tasks.map(async (task) => {
      const result = (await pool.run(task)) as SegmentResult;
      bar.update(++done);
      return result;
    }),
  );
  bar.stop();
  await pool.destroy();
  combine(results, report);
}

/** Adds up the segments and checks that each one links to the one before it. */
function combine(results: readonly SegmentResult[], report: VerifyReport): void {
  let prevHash = Buffer.from(genesisHash).toString('hex');
  for (const r of results) {
    if (r.error !== null) {
      report.problems.push(r.error);
      return;
    }
    if (r.batches > 0 && r.firstPrevHash !== prevHash) {
      const message =
        `journal batch at sequence ${r.firstSequence} ` + 'does not link to the batch before it';
      report.problems.push({ sequence: r.firstSequence, message });
      return;
    }
    report.batches += r.batches;
    report.events += r.events;
    report.lastSequence = r.lastSequence;
    prevHash = r.lastHash;
  }
}

/** Replays the journal once, stopping at each snapshot to compare it with the replayed state. */
function verifySnapshots(db: JournalDb, replica: Replica, report: VerifyReport): void {
  const snapshots = listSnapshots(db).reverse();
  const bar = progressBar('verify snapshots', snapshots.length);
  for (const header of snapshots) {
    replica.replay(db, header.sequence);
    const fail = (what: string): void => {
      report.problems.push({
        sequence: header.sequence,
        message: `snapshot at sequence ${header.sequence} ${what}`,
      });
    };
    try {
      loadSnapshot(db, header);
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      report.problems.push({ sequence: header.sequence, message: error.message });
      continue;
    }
    if (replica.sequence !== header.sequence) fail('is not at a batch end of the journal');
    else if (Buffer.from(replica.batchHash).toString('hex') !== header.batchHash) {
      fail('names a journal batch that is not there');
    } else if (replica.engine.checksum.hex() !== header.stateChecksum) {
      fail('differs from the state the journal replays to');
    }
    report.snapshotsChecked++;
    bar.update(report.snapshotsChecked);
  }
  bar.stop();
}
