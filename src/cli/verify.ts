/**
 * `bourse verify`: checks the whole journal's hash chain in parallel segments (piscina), then
 * every snapshot against a replay of the journal up to its sequence. Reports the first problem
 * with the sequence it belongs to.
 */
import { checkChain } from '../journal/chain-check.js';
import { genesisHash } from '../journal/journal-codec.js';
import { closeJournalDb, sequenceKey, type JournalDb } from '../journal/journal-db.js';
import { journalBatchEndingAt } from '../journal/journal-reader.js';
import { checkTimeIndex } from '../journal/time-index.js';
import { engineConfigProblem, type EngineConfig } from '../constants.js';
import {
  layoutReadable,
  listSnapshots,
  loadSnapshotStored,
  type SnapshotHeader,
} from '../journal/snapshot-store.js';
import { StorageError } from '../journal/journal-errors.js';
import { Replica, takenWith } from '../pipeline/replay.js';
import { standbyLogPast, type StandbyLogPast } from '../pipeline/group-commit.js';
import { openData } from './open-data.js';
import { progressBar, type Progress } from './output.js';

export interface VerifyReport {
  ok: boolean;
  batches: number;
  events: number;
  lastSequence: number;
  /** The last batch's hash (hex): with lastSequence, the head to keep as an anchor. */
  lastHash: string;
  snapshotsChecked: number;
  /**
   * Of those checked, the ones start skips (it replays from the journal instead): of another
   * state layout (this build cannot read their arrays), or taken under another engine config
   * than the folder's (its capacities were raised since). Not damage: verify passes them.
   */
  snapshotsOtherLayout: number;
  snapshotsOtherConfig: number;
  problems: { sequence: number; message: string }[];
  /**
   * Records the member's standby log holds past LMDB's mark (standbyLogPast): entries it
   * acknowledged that the journal verified lacks until its next start replays them; or what of
   * the log is damaged (the journal is verified all the same, and the report is not ok).
   */
  standbyLog: StandbyLogPast;
}

/** A head kept from an earlier verify: the batch ending at `sequence` had hash `hash` (hex). */
export interface Anchor {
  sequence: number;
  hash: string;
}

export async function verify(dataDir: string, anchor?: Anchor): Promise<VerifyReport> {
  const { db, config } = openData(dataDir, true);
  const report: VerifyReport = {
    ok: true,
    batches: 0,
    events: 0,
    lastSequence: 0,
    lastHash: '',
    snapshotsChecked: 0,
    snapshotsOtherLayout: 0,
    snapshotsOtherConfig: 0,
    problems: [],
    standbyLog: { records: 0, damage: null },
  };
  try {
    report.standbyLog = standbyLogPast(dataDir, db); // read-only, as is db
    const bar: { progress: Progress | null } = { progress: null };
    const chain = await checkChain(dataDir, db, sequenceKey(0), genesisHash, (done, total) => {
      bar.progress ??= progressBar('verify journal', total);
      bar.progress.update(done);
    });
    bar.progress?.stop();
    report.batches = chain.batches;
    report.events = chain.events;
    report.lastSequence = chain.lastSequence;
    report.lastHash = chain.lastHash;
    if (chain.problem !== null) report.problems.push(chain.problem);
    else if (anchor !== undefined && anchorFault(db, anchor) !== null) {
      report.problems.push({ sequence: anchor.sequence, message: anchorFault(db, anchor) ?? '' });
    } else verifyReplay(db, new Replica(config), report);
  } finally {
    closeJournalDb(db);
  }
  report.ok = report.problems.length === 0 && report.standbyLog.damage === null;
  return report;
}

/**
 * Replays the whole journal: every snapshot is compared on the way, and the events after the
 * newest must apply as well (a tail rewritten with recomputed hashes passes the chain).
 */
function verifyReplay(db: JournalDb, replica: Replica, report: VerifyReport): void {
  try {
    verifySnapshots(db, replica, report);
    const bar = progressBar('verify replay', report.lastSequence);
    replica.replay(db, Infinity, () => bar.update(replica.sequence));
    bar.stop();
    checkTimeIndex(db); // replay --to-time reads it
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    report.problems.push({ sequence: error.sequence, message: error.message });
  }
}

/** Replays the journal once, stopping at each snapshot to compare it with the replayed state. */
function verifySnapshots(db: JournalDb, replica: Replica, report: VerifyReport): void {
  const snapshots = listSnapshots(db).reverse();
  const restored = new Map<string, Replica>(); // by engine config: snapshots restore into these
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
      loadSnapshotStored(db, header); // its checks; no full-length copy of each array
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      report.problems.push({ sequence: header.sequence, message: error.message });
      continue;
    }
    const contents = contentFault(header, db, restored);
    if (contents !== null) fail(contents);
    else if (replica.sequence !== header.sequence || !replica.atBatchEnd) {
      fail('is not at a batch end of the journal');
    } else if (Buffer.from(replica.batchHash).toString('hex') !== header.batchHash) {
      fail('names a journal batch that is not there');
    } else if (replica.engine.checksum.hex() !== header.stateChecksum) {
      fail('differs from the state the journal replays to');
    }
    report.snapshotsChecked++;
    if (!layoutReadable(header.layout)) report.snapshotsOtherLayout++;
    else if (!takenWith(header, replica.engine.config)) report.snapshotsOtherConfig++;
    bar.update(report.snapshotsChecked);
  }
  bar.stop();
}

/**
 * What is wrong with the state a snapshot holds, restored as start restores it, or null. The
 * header's sha256 and batch hash alone passed a snapshot whose balance was changed and its
 * header re-hashed (start then skipped it: "does not match its state checksum"). Restored into
 * an engine of the snapshot's own config (a folder's capacities may have grown since); one of
 * an older state layout cannot be read by this build, and start skips it for that.
 */
function contentFault(
  header: SnapshotHeader,
  db: JournalDb,
  restored: Map<string, Replica>,
): string | null {
  if (!layoutReadable(header.layout)) return null;
  if (typeof header.config !== 'object' || header.config === null) return 'names no engine config';
  const config = header.config as EngineConfig;
  const problem = engineConfigProblem(config);
  if (problem !== null) return `names an engine config that cannot be (${problem})`;
  const key = JSON.stringify(config);
  const replica = restored.get(key) ?? new Replica(config);
  restored.set(key, replica);
  const reason = replica.tryLoad(db, header);
  return reason === null ? null : reason.replace(`snapshot at sequence ${header.sequence} `, '');
}

/**
 * Whether the journal still holds the anchor's batch: the chain proves each batch follows the
 * one before it, not that nothing was cut from or rewritten at the end (a chain re-hashed from
 * any batch on, or cut after any batch, still holds). A head kept from an earlier verify does:
 * once the whole chain holds, the batch ending at its sequence must have its hash, and every
 * batch before it is then the one that was there (appending after it is not detected: the new
 * head is printed). Returns what is wrong, or null.
 */
function anchorFault(db: JournalDb, anchor: Anchor): string | null {
  const kept = `the head kept (sequence ${anchor.sequence}, batch hash ${anchor.hash})`;
  const view = journalBatchEndingAt(db, anchor.sequence);
  if (view === null) return `no batch of the journal ends at sequence ${anchor.sequence}: ${kept}`;
  const hash = Buffer.from(view.hash).toString('hex');
  if (hash === anchor.hash) return null;
  return `the batch ending at sequence ${anchor.sequence} has hash ${hash}, not ${kept}`;
}

/**
 * How many snapshots were checked, and which of them start cannot use: `3 snapshots (2 usable
 * by start; 1 of another state layout: start skips it and replays from the journal)`. Before,
 * verify counted them with the others, and start then replayed far more than it led one to
 * expect.
 */
export function snapshotsLine(report: VerifyReport): string {
  const all = `${report.snapshotsChecked} snapshots`;
  const layout = report.snapshotsOtherLayout;
  const config = report.snapshotsOtherConfig;
  const skipped = layout + config;
  if (skipped === 0) return all;
  const kinds = [
    ...(layout > 0 ? [`${layout} of another state layout`] : []),
    ...(config > 0 ? [`${config} of another engine config`] : []),
  ];
  const them = skipped === 1 ? 'it' : 'them';
  const usable = report.snapshotsChecked - skipped;
  return (
    `${all} (${usable} usable by start; ${kinds.join(', ')}: ` +
    `start skips ${them} and replays from the journal)`
  );
}
