/**
 * A start's replay of the standby log (standby-log.ts) into LMDB, before the member serves or
 * loads its log: every whole record after LMDB's mark, in order, each checked (its CRC, then
 * each batch's SHA-256 and the chain onto what the journal holds before it) and stored with
 * the mark past it in one synchronous transaction. The first record that is not whole (a
 * torn tail: the crash came during its write, so it was never acknowledged) ends the replay
 * and is never applied; the log goes on from offset 0 with its number, the mark saying so.
 *
 * A whole record that does not check (its CRC holds, its batches do not) is no torn tail: the
 * start stops (StorageError JOURNAL_CORRUPT) rather than lose what it acknowledged. So does a
 * file that ends before the mark, or inside a record numbered in turn (StandbyLog.endsShort):
 * shortened by hand, it lost records a torn write never would.
 */
import { decodeBatch, genesisHash } from '../journal/journal-codec.js';
import { StorageCode, StorageError } from '../journal/journal-errors.js';
import { journalBatchEndingAt } from '../journal/journal-reader.js';
import type { JournalDb } from '../journal/journal-db.js';
import type { Entry } from './messages.js';
import { entryMetaOf } from './replica-store.js';
import { logMarkOf } from './log-mark.js';
import type { LogMark, StandbyLog } from './standby-log.js';

/**
 * What a replay writes into: LMDB's journal (recoverStandbyLog: a member's ReplicaStore), or
 * the deterministic simulation's model of it (bench/soak/sim-standby-log.ts).
 */
export interface ReplayTarget {
  /** Where LMDB holds the log to (its meta 'standby-log'). */
  logMark(): LogMark;
  /** A logged payload's entry, or why it is not one (a batch that does not decode). */
  entryOf(payload: Uint8Array): Entry | string;
  /** Hex hash of the journal's batch ending at `sequence` ('' when none does; > 0). */
  hashEndingAt(sequence: number): string;
  /** Stores `writes` (each cutting from its first sequence) and the mark, durably at once. */
  writeSync(writes: readonly (readonly Entry[])[], committed: number, mark: LogMark): void;
}

/**
 * What holds the log's mark and takes its records: a member's ReplicaStore, or a single node's
 * journal (pipeline/journal-log.ts: the journal writer's log).
 */
export interface LogStore {
  readonly db: JournalDb;
  /** Stores a record's groups with the mark past it, in one synchronous transaction. */
  writeSync(writes: readonly (readonly Entry[])[], committed: number, mark: LogMark): void;
}

/** Replays the log's records past LMDB's mark; returns how many, and where the log goes on. */
export function recoverStandbyLog(
  store: LogStore,
  log: StandbyLog,
): { records: number; next: LogMark } {
  return replayStandbyLog(
    {
      logMark: () => logMarkOf(store.db),
      entryOf: (payload) => {
        const view = decodeBatch(payload, true);
        return typeof view === 'string' ? view : { ...entryMetaOf(view), payload };
      },
      hashEndingAt: (sequence) => {
        const view = journalBatchEndingAt(store.db, sequence);
        return view === null ? '' : Buffer.from(view.hash).toString('hex');
      },
      writeSync: (writes, committed, mark) => store.writeSync(writes, committed, mark),
    },
    log,
  );
}

/** recoverStandbyLog, into `target`. @throws StorageError JOURNAL_CORRUPT */
export function replayStandbyLog(
  target: ReplayTarget,
  log: StandbyLog,
): { records: number; next: LogMark } {
  let mark = target.logMark();
  let records = 0;
  for (let found = log.readAt(mark); found !== null; found = log.readAt(mark)) {
    const writes = found.groups.map((group) =>
      group.map((payload) => entryOf(target, payload, mark)),
    );
    checkChain(target, writes, mark);
    target.writeSync(writes, found.committed, found.after);
    mark = found.after;
    records++;
  }
  if (log.endsShort(mark)) {
    // Not a torn tail: what it held past here, acknowledged, is gone. Replaying what is left
    // and going on said nothing, and this member voted as if it held them.
    const size = `the file (${log.fileBytes} bytes) was shortened under its records`;
    throw corrupt(mark, `${size}: start the member on an empty folder (it catches up)`);
  }
  const next = { record: mark.record, offset: 0 };
  target.writeSync([], 0, next); // whatever lies after the last whole record is never read
  log.restartAt(next.record);
  return { records, next };
}

function entryOf(target: ReplayTarget, payload: Uint8Array, mark: LogMark): Entry {
  const entry = target.entryOf(payload);
  if (typeof entry === 'string') throw corrupt(mark, `a batch is ${entry}`);
  return entry;
}

/** Each group follows on from the journal (or the record's earlier groups), and in itself. */
function checkChain(target: ReplayTarget, writes: readonly Entry[][], mark: LogMark): void {
  const earlier: Entry[] = [];
  for (const entries of writes) {
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k];
      const before = k > 0 ? entries[k - 1].hash : hashEndingAt(target, earlier, e.first - 1);
      if (before !== e.prevHash) throw corrupt(mark, `the batch at ${e.first} is not chained`);
      if (k > 0 && e.first !== entries[k - 1].last + 1) {
        throw corrupt(mark, `the batch at ${e.first} does not follow on`);
      }
    }
    earlier.push(...entries);
  }
}

/** Hex hash of the batch ending at `sequence`: one of the record's earlier, else the journal's. */
function hashEndingAt(target: ReplayTarget, earlier: readonly Entry[], sequence: number): string {
  if (sequence === 0) return Buffer.from(genesisHash).toString('hex');
  for (let k = earlier.length - 1; k >= 0; k--) {
    if (earlier[k].last === sequence) return earlier[k].hash;
  }
  return target.hashEndingAt(sequence);
}

function corrupt(mark: LogMark, what: string): StorageError {
  const where = `the standby log's record ${mark.record} (offset ${mark.offset})`;
  return new StorageError(StorageCode.JournalCorrupt, `${where}: ${what}`);
}
