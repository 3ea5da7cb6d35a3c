/**
 * A standby's group commit of the entries it receives, with the fsync off the event loop:
 * every append that arrived while the last write went to disk goes into the next transaction,
 * then one status. Writing synchronously blocked the event loop for each fsync; under load a
 * standby then read heartbeats too late, stood for election, and deposed a healthy primary.
 *
 *   append ─► add() ─► pending ──(turn ends)──► one transaction, fsync ─► stored(index, hash)
 *   append ─► add() ─► pending ─┐                      │ (in flight)
 *                               └──── next transaction, once that one is on disk
 *
 * With a standby log (constants.ts standbyLogOn), "one transaction, fsync" is one record
 * appended to the log (one O_DSYNC write), and LMDB takes the records after (log-applier.ts):
 *
 *   pending ─► log append (one flush) ─► stored(index, hash)
 *                         └─► LogApplier: one LMDB transaction per run of records ─► mark moves
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { standbyLogOn, standbyLogRecordBytesMax } from '../constants.js';
import { lastSequenceOf, type Entry } from '../replication/messages.js';
import type { ReplicaStore } from '../replication/replica-store.js';
import { logFileOf, logMarkOf, noteLogFileIn } from '../replication/log-mark.js';

export { forgetLogFile } from '../replication/log-mark.js'; // `bourse backup` of a node
export { standbyLogFile } from '../replication/standby-log.js'; // `bourse start`: a name
import type { JournalDb } from '../journal/journal-db.js';
import { isMemberBackup } from '../journal/member-folder.js';
import { StandbyLog, standbyLogFile } from '../replication/standby-log.js';
import { recoverStandbyLog, type LogStore } from '../replication/standby-log-replay.js';
import { LogApplier } from './log-applier.js';
import { StorageCode, StorageError } from '../journal/journal-errors.js';

export interface GroupCommitSink {
  /** Everything up to `index`, ending with `hash`, is on disk: `events` more of them. */
  stored(index: number, hash: string, events: number): void;
  /** A write failed: nothing more is written (the member must not ack or vote). */
  failed(error: Error): void;
  /** The highest event sequence committed: the store records it with each write. */
  committedSequence(): number;
  /** True once the member stops: writes in flight finish, no new one starts. */
  stopped(): boolean;
  /** A write of entries up to `index` starts (stage-times.ts). */
  writing(index: number): void;
  /** With a standby log: LMDB took more of it (the follow limit may move). */
  applied?(): void;
}

export class GroupCommit {
  /** Entries received but not yet written, and where the log ends once they are. */
  private pending: (readonly Entry[])[] = [];
  private pendingEnd: { index: number; hash: string } | null = null;
  /** The transaction on its way to disk, if any. */
  private storing: Promise<void> | null = null;
  private broken = false;
  /** With a standby log (constants.ts standbyLogOn): LMDB's writes of what it holds. */
  private readonly applier: LogApplier | null;

  /** With `log`, a write is durable once in the log, and LMDB takes it afterwards. */
  constructor(
    private readonly store: ReplicaStore,
    private readonly log: StandbyLog | null,
    private readonly sink: GroupCommitSink,
  ) {
    this.applier =
      log === null
        ? null
        : new LogApplier(store, {
            applied: () => sink.applied?.(),
            failed: (error) => this.fail(error),
          });
  }

  /**
   * The highest sequence a reader of LMDB may take as the log's (a hot standby's follow limit):
   * below every group the log holds that LMDB does not yet. Infinity: LMDB holds all of it.
   */
  get appliedBelow(): number {
    return this.applier === null ? Number.POSITIVE_INFINITY : this.applier.below;
  }

  /** Whether writes go to a standby log (its journal writer may use the file as primary). */
  get logged(): boolean {
    return this.log !== null;
  }

  /**
   * After the member's term as primary, whose journal writer appended to the same file (with
   * the journal log on) and stopped once LMDB held all of it: the next record is LMDB's mark's.
   */
  resumeLog(): void {
    this.log?.restartAt(this.store.logMark().record);
  }

  /** True once a write failed. */
  get failed(): boolean {
    return this.broken;
  }

  /** True while entries are being written, or wait to be: `stored` follows (or `failed`). */
  get writing(): boolean {
    return this.storing !== null || (this.pending.length > 0 && !this.broken);
  }

  /** Entries `at`.. to write, the last ending the log at `index`. */
  add(entries: readonly Entry[], index: number): void {
    this.pending.push(entries);
    this.pendingEnd = { index, hash: entries[entries.length - 1].hash };
    if (this.pending.length === 1 && this.storing === null) setImmediate(() => this.flush());
  }

  private flush(): void {
    // Stopped, what is pending stays for storeLeft (the clean stop's last write): taken and
    // dropped here, a flush that ran while the stop awaited LMDB left it out of the journal.
    if (this.storing !== null || this.sink.stopped()) return;
    const writes = this.pending;
    const end = this.pendingEnd;
    this.pending = [];
    if (writes.length === 0 || end === null || this.broken) return;
    let events = 0;
    for (const entries of writes) for (const entry of entries) events += entry.count;
    this.sink.writing(end.index);
    this.storing = this.writeAll(writes).then(
      () => {
        this.storing = null;
        if (this.sink.stopped()) return;
        this.sink.stored(end.index, end.hash, events);
        // After the microtasks stored() queued, one of which sends the status: the next write
        // begins in the call (ReplicaStore.writeMany), and the wake-up of LMDB's thread could
        // otherwise take the core before the status left.
        queueMicrotask(() => this.flush());
      },
      (error: Error) => {
        this.storing = null;
        this.fail(error);
      },
    );
  }

  private fail(error: Error): void {
    if (this.broken) return;
    this.broken = true;
    this.sink.failed(error);
  }

  /** Resolves once everything received is stored (before the workers take over). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.storing !== null) await this.storing;
      else if (this.pending.length > 0 && !this.sink.stopped()) this.flush();
      else break;
    }
    await this.applier?.idle(); // a promotion's workers read LMDB: all of the log in it
  }

  /**
   * At a clean stop (the member is stopped already): waits for the write in flight, then
   * stores what was received and not yet stored, so that the journal is what memory held (a
   * drill reads every stopped replica's disk; a standby caught up, by its commit, but 7,040
   * events short on disk failed the check as not identical). Rejects if that write fails. Closes
   * the standby log, if any.
   */
  async storeLeft(): Promise<void> {
    try {
      if (this.storing !== null) await this.storing;
      await this.applier?.idle();
      const writes = this.pending;
      this.pending = [];
      if (writes.length === 0 || this.broken) return;
      await this.storeInDb(writes);
    } finally {
      this.log?.close(); // nothing more is written to it
    }
  }

  /** Stores `writes` durably: in the log when there is one, else (or too large) in LMDB. */
  private async writeAll(writes: readonly (readonly Entry[])[]): Promise<void> {
    const log = this.log;
    const applier = this.applier;
    if (log === null || applier === null) return this.storeInDb(writes);
    const bytes = StandbyLog.sizeOf(writes);
    if (bytes > Math.min(standbyLogRecordBytesMax, log.fileBytes)) {
      await applier.idle(); // in order: every record before it in LMDB first
      return this.storeInDb(writes);
    }
    if (!log.fits(bytes)) {
      await applier.idle(); // LMDB holds every record: the lap may start again at 0
      log.wrap();
    }
    const committed = this.committedFor(writes);
    const after = await log.append(writes, committed);
    applier.add(writes, committed, after);
  }

  /**
   * Stores `writes` in one LMDB transaction, with the commit as far as they reach (and, with a
   * log, its mark at its tail: LMDB holds every record before it, applier.idle was awaited).
   */
  private storeInDb(writes: readonly (readonly Entry[])[]): Promise<void> {
    const mark = this.log === null ? null : this.log.next;
    return this.store.writeMany(writes, this.committedFor(writes), mark);
  }

  private committedFor(writes: readonly (readonly Entry[])[]): number {
    const last = writes[writes.length - 1];
    return Math.min(this.sink.committedSequence(), lastSequenceOf(last[last.length - 1]));
  }
}

/**
 * A member's standby log (null: none), when `options.standbyLog` (default constants.ts
 * standbyLogOn) asks for one, of `standbyLogBytes`: opened and replayed into LMDB
 * (standby-log-replay.ts), which must come before anything reads the journal. `say` tells how
 * many records a replay took (a member's log line). With the log off, a log left by a run with
 * it on is replayed all the same, then removed: turning it off loses nothing acknowledged.
 * A single node's journal log (journal-log.ts) is the same file, opened here too (`who`: 'the
 * node', with no id).
 */
export function openStandbyLog(
  store: LogStore,
  options: {
    id?: number;
    who?: string;
    dataDir: string;
    standbyLog?: boolean;
    standbyLogBytes?: number;
  },
  say: (line: string) => void,
): StandbyLog | null {
  const on = options.standbyLog ?? standbyLogOn;
  const who = options.who ?? `member ${options.id}`;
  const path = join(options.dataDir, standbyLogFile);
  const present = existsSync(path);
  refuseDamagedMark(store, options.dataDir, who);
  if (!present) refuseLostLog(store, path, who);
  if (!on && !present) return null;
  const log = StandbyLog.open(options.dataDir, options.standbyLogBytes);
  if (!present) noteLogFileIn(store.db, 'made'); // once made durable (preallocate)
  try {
    const { records, next } = recoverStandbyLog(store, log);
    const replayed = `${records} records replayed into the journal (next ${next.record})`;
    if (records > 0) say(`${who}: standby log: ${replayed}`);
  } catch (error) {
    log.close();
    throw error;
  }
  if (on) return log;
  // Started with the log off after a run with it on: what only the log held is in LMDB now.
  log.close();
  noteLogFileIn(store.db, 'removed'); // first: a crash before the file goes finds it, replays it
  rmSync(path);
  return null;
}

/**
 * LMDB's mark of the standby log is damaged: where the records past it begin is unknown, so
 * what the member acknowledged may be lost. It said only the mark's value (no folder, nothing
 * to do). @throws StorageError JOURNAL_CORRUPT
 */
function refuseDamagedMark(store: LogStore, dir: string, who: string): void {
  try {
    logMarkOf(store.db);
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    throw new StorageError(
      error.code,
      `${error.message}, in ${dir}: the log's records past LMDB may hold entries ${who} ` +
        `acknowledged, and where they begin is unknown. ${whatToDo(who)}; verify, ` +
        'inspect and replay still read this one',
    );
  }
}

/**
 * The standby log's file is gone, but a start made it and none removed it: it may have held
 * groups this member acknowledged that LMDB lacks, which a new log would forget without a
 * word (the member voting as if it held them). @throws StorageError JOURNAL_CORRUPT
 */
function refuseLostLog(store: LogStore, path: string, who: string): void {
  if (logFileOf(store.db) !== 'made') return;
  throw new StorageError(
    StorageCode.JournalCorrupt,
    `${path} is missing, and the journal says ${who} made it: it may have held entries ` +
      `${who} acknowledged and LMDB lacks. ${whatToDo(who)}; do not remove the standby log`,
  );
}

/** What an operator does with a folder whose log's records are lost to `who`. */
function whatToDo(who: string): string {
  return who.startsWith('member')
    ? `Start ${who} on an empty folder (it catches up from the others)`
    : 'Restore the folder from a backup (`bourse backup`)';
}

/** What the offline tools learn of a member's standby log (standbyLogPast). */
export interface StandbyLogPast {
  /** Whole records past LMDB's mark: acknowledged by the member, not in LMDB yet. */
  records: number;
  /**
   * What is damaged, or null: the mark, or the file (missing, shortened, unreadable). A start
   * of the member refuses such a folder (JOURNAL_CORRUPT); the tools read LMDB all the same.
   */
  damage: string | null;
}

/**
 * What the standby log in `dataDir` holds past the mark of `db` (its folder's LMDB, opened
 * read-only will do). `bourse backup` copies LMDB; verify, inspect and replay read it. Damage is
 * told, not thrown: inspect and replay stopped (exit 65) at a damaged mark, showing nothing of
 * a journal they read without it.
 */
export function standbyLogPast(dataDir: string, db: JournalDb): StandbyLogPast {
  const path = join(dataDir, standbyLogFile);
  try {
    const mark = logMarkOf(db);
    // A backup copies LMDB alone (backup.ts): its log's absence is no damage.
    if (logFileOf(db) === 'made' && !existsSync(path) && !isMemberBackup(db)) {
      return { records: 0, damage: `${path} is missing (the journal says a start made it)` };
    }
    const { records, short } = StandbyLog.readPast(dataDir, mark);
    const shortened = `${path} was shortened under its records (it ends inside them)`;
    return { records, damage: short ? shortened : null };
  } catch (error) {
    if (error instanceof StorageError) return { records: 0, damage: error.message };
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { records: 0, damage: `${path} cannot be read (${code})` };
  }
}
