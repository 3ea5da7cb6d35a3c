/**
 * The journal writer's log in front of LMDB (constants.ts journalLogOn): the standby log's file
 * and format (replication/standby-log.ts), written by the primary's (or a single node's)
 * journal writer. Each sealed batch is appended in one `O_DSYNC` write, one flush, and is
 * durable from that; LMDB takes the batches afterwards on a thread of its own (the applier,
 * journal-log-worker.ts), one synchronous transaction per run of records, its two flushes off
 * the writer's path. The writer blocks on each of its commits (its loop never yields), so an
 * LMDB commit in its thread after the log's write, however cheap, still held up the next batch.
 *
 *   journal writer ─► log append (one flush) ─► sequenceDurable: acks go out
 *                              │ tail record (shared words)
 *                              ▼
 *   applier thread ─► reads the records back ─► one LMDB transaction: batches, time index,
 *                     and the log's mark past them ─► sequenceCommitted (readers of LMDB)
 *
 * The log wraps to offset 0 only once LMDB holds, synced, every record in it (the applier's
 * mark is the tail); a batch too large for a record goes to LMDB directly, after the same wait.
 * A start replays the records past LMDB's mark first (openStandbyLog, standby-log-replay.ts),
 * so the writer always opens the log with LMDB holding all of it.
 *
 * Not in the hot folders: a record's one array per batch and its mark are allocated per batch.
 */
import { Worker } from 'node:worker_threads';
import { standbyLogRecordBytesMax } from '../constants.js';
import { decodeBatch } from '../journal/journal-codec.js';
import { readU64BE, sequenceKey, writeMeta } from '../journal/journal-db.js';
import type { JournalDb } from '../journal/journal-db.js';
import { StorageCode, StorageError, writeFailure } from '../journal/journal-errors.js';
import { JournalProgress, ProgressSlot } from '../journal/journal-progress.js';
import { lastSequenceOf } from '../journal/journal-reader.js';
import type { JournalSink } from '../journal/journal-writer.js';
import { TimeIndexRule } from '../journal/time-index.js';
import { logMarkKey, logMarkOf, markText } from '../replication/log-mark.js';
import { StandbyLog, type LoggedEntry, type LogMark } from '../replication/standby-log.js';
import type { LogStore } from '../replication/standby-log-replay.js';

/**
 * The words the writer and its applier share: Int32 words, float64 record numbers, then the
 * applier's failure (its error's code and message, UTF-8, each after its length).
 */
export const enum LogWord {
  appended = 0, // bumped by the writer after each append (the applier waits on it)
  applied = 1, // bumped by the applier after each LMDB transaction (the writer may wait on it)
  stop = 2,
  failed = 3,
  exited = 4,
}
const enum LogSlot {
  tailRecord = 0, // the writer's: the number the next record gets
  appliedRecord = 1, // the applier's: the first record LMDB lacks (its mark)
}
const slotsAt = 32;
const failureAt = 64;
const failureBytes = 512;
/** The applier's longest sleep before it looks again (ms): a stop also wakes it. */
export const logApplierWaitMs = 100;

export function newLogShared(): SharedArrayBuffer {
  return new SharedArrayBuffer(failureAt + failureBytes);
}

/** The shared words and record numbers, as each side views them. */
export function logViews(shared: SharedArrayBuffer): { words: Int32Array; slots: Float64Array } {
  return { words: new Int32Array(shared, 0, 8), slots: new Float64Array(shared, slotsAt, 2) };
}

/** The applier says why it stopped (a failed LMDB write): the writer throws it (failure()). */
export function reportFailure(shared: SharedArrayBuffer, error: unknown): void {
  const bytes = new Uint8Array(shared, failureAt, failureBytes);
  const code = String((error as NodeJS.ErrnoException).code ?? '');
  const text = Buffer.from(`${code}\n${(error as Error).message ?? String(error)}`);
  const length = Math.min(text.length, failureBytes - 4);
  new DataView(shared, failureAt - 4, 4).setUint32(0, length, true);
  bytes.set(text.subarray(0, length));
  const { words } = logViews(shared);
  Atomics.store(words, LogWord.failed, 1);
  Atomics.notify(words, LogWord.applied);
}

/** The applier's failure as the writer throws it: a StorageError keeps its code. */
function failure(shared: SharedArrayBuffer, path: string): Error {
  const length = new DataView(shared, failureAt - 4, 4).getUint32(0, true);
  const text = Buffer.from(new Uint8Array(shared, failureAt, length)).toString();
  const [code, ...lines] = text.split('\n');
  const message = `the journal log's applier: ${lines.join('\n')}`;
  if (/^(DATA|JOURNAL)_[A-Z_]+$/.test(code)) return new StorageError(code, message);
  const error = code === '' ? new Error(message) : Object.assign(new Error(message), { code });
  return writeFailure(error, 'the journal log, into LMDB', -1, path);
}

/**
 * LMDB's side of the log on a journal that is no member's (ReplicaStore is a member's): the
 * mark, and records taken as the journal writer would have written them, the time index too.
 */
export class JournalLogStore implements LogStore {
  /** Which batches the time index takes: on from the last one it holds. */
  private readonly timeIndex: TimeIndexRule;
  private readonly empty = Buffer.alloc(0);

  constructor(readonly db: JournalDb) {
    let indexedAt = -Infinity;
    for (const key of db.timeIndex.getKeys({ reverse: true, limit: 1 })) {
      indexedAt = readU64BE(key, 0);
    }
    this.timeIndex = new TimeIndexRule(indexedAt);
  }

  writeSync(writes: readonly (readonly LoggedEntry[])[], _committed: number, mark: LogMark): void {
    this.take(writes, mark);
  }

  /**
   * Stores `writes` (each a whole batch, in order, after the journal's end) and the mark past
   * them in one synchronous transaction: durable when it returns. Returns the last sequence.
   */
  take(writes: readonly (readonly LoggedEntry[])[], mark: LogMark): number {
    let last = 0;
    writeMeta(this.db, 'the journal log, into the journal', () =>
      this.db.journal.transactionSync(() => {
        for (const entries of writes) for (const e of entries) last = this.put(e.payload);
        this.db.meta.putSync(logMarkKey, markText(mark));
      }),
    );
    return last;
  }

  private put(payload: Uint8Array): number {
    const view = decodeBatch(payload, false);
    if (typeof view === 'string') {
      throw new StorageError(StorageCode.JournalCorrupt, `the journal log holds a batch ${view}`);
    }
    const key = sequenceKey(view.firstSequence);
    this.db.journal.putSync(key, Buffer.from(payload.buffer, payload.byteOffset, payload.length));
    const timeKey = this.timeIndex.keyFor(view.firstSequence, view.timestamp);
    if (timeKey !== null) this.db.timeIndex.putSync(timeKey, this.empty);
    return lastSequenceOf(view);
  }
}

/** The journal writer's sink with the log on: appends, and hands LMDB's work to the applier. */
export class JournalLog implements JournalSink {
  private readonly words: Int32Array;
  private readonly slots: Float64Array;

  private constructor(
    private readonly db: JournalDb,
    private readonly log: StandbyLog,
    private readonly progress: JournalProgress,
    private readonly shared: SharedArrayBuffer,
  ) {
    ({ words: this.words, slots: this.slots } = logViews(shared));
  }

  /**
   * Opens the log in `dataDir` (made and replayed by the start: LMDB holds all of it) where
   * LMDB's mark says, and starts its applier. Allocates (once).
   */
  static open(db: JournalDb, dataDir: string, progress: SharedArrayBuffer): JournalLog {
    const log = StandbyLog.open(dataDir);
    const mark = logMarkOf(db);
    log.restartAt(mark.record); // from offset 0: every record of the file is in LMDB
    const shared = newLogShared();
    const { slots } = logViews(shared);
    slots[LogSlot.tailRecord] = mark.record;
    slots[LogSlot.appliedRecord] = mark.record;
    const url = new URL('./journal-log-worker.js', import.meta.url);
    const applier = new Worker(url, { workerData: { dataDir, shared, progress } });
    applier.unref(); // it ends once told (close), or with this thread
    return new JournalLog(db, log, new JournalProgress(progress), shared);
  }

  commit(firstSequence: number, timestamp: number, bytes: Uint8Array): void {
    try {
      this.checkApplier();
      const writes = [[{ payload: bytes }]];
      const size = StandbyLog.sizeOf(writes);
      if (size > Math.min(standbyLogRecordBytesMax, this.log.fileBytes)) {
        this.waitApplied(); // in order: every record before it in LMDB first
        const last = new JournalLogStore(this.db).take(writes, this.log.next);
        this.progress.set(ProgressSlot.sequenceCommitted, last);
        return;
      }
      if (!this.log.fits(size)) {
        this.waitApplied(); // LMDB holds every record: the lap may start again at 0
        this.log.wrap();
      }
      const after = this.log.appendSync(writes, 0);
      this.slots[LogSlot.tailRecord] = after.record;
      Atomics.add(this.words, LogWord.appended, 1);
      Atomics.notify(this.words, LogWord.appended);
    } catch (error) {
      if (error instanceof StorageError) throw error;
      const what = `the journal batch at sequence ${firstSequence} (its log)`;
      throw writeFailure(error, what, firstSequence, this.db.path);
    }
  }

  /** Waits until LMDB holds every record, then stops the applier and closes the log. */
  close(): void {
    try {
      this.waitApplied();
    } finally {
      Atomics.store(this.words, LogWord.stop, 1);
      Atomics.notify(this.words, LogWord.appended);
      while (Atomics.load(this.words, LogWord.exited) === 0) {
        Atomics.wait(this.words, LogWord.exited, 0, logApplierWaitMs);
      }
      this.log.close();
    }
  }

  /** Blocks until the applier's mark is the log's tail. @throws its failure, if it failed */
  private waitApplied(): void {
    for (;;) {
      const seen = Atomics.load(this.words, LogWord.applied);
      this.checkApplier();
      if (this.slots[LogSlot.appliedRecord] >= this.slots[LogSlot.tailRecord]) return;
      Atomics.wait(this.words, LogWord.applied, seen, logApplierWaitMs);
    }
  }

  /** @throws the applier's failure, or that it ended with records LMDB lacks */
  private checkApplier(): void {
    if (Atomics.load(this.words, LogWord.failed) !== 0) throw failure(this.shared, this.db.path);
    if (Atomics.load(this.words, LogWord.exited) === 0) return;
    throw new StorageError(StorageCode.DataIo, "the journal log's applier ended unasked");
  }
}

/**
 * The applier's loop (journal-log-worker.ts): takes every record the writer appended past
 * LMDB's mark, in runs of at most standbyLogRecordBytesMax, until told to stop with none left.
 */
export function applyLog(
  store: JournalLogStore,
  log: StandbyLog,
  shared: SharedArrayBuffer,
  progress: JournalProgress,
): void {
  const { words, slots } = logViews(shared);
  let mark = logMarkOf(store.db);
  for (;;) {
    const seen = Atomics.load(words, LogWord.appended);
    const tail = slots[LogSlot.tailRecord];
    if (mark.record < tail) {
      mark = applyRun(store, log, mark, tail, progress);
      slots[LogSlot.appliedRecord] = mark.record;
      Atomics.add(words, LogWord.applied, 1);
      Atomics.notify(words, LogWord.applied);
      continue;
    }
    if (Atomics.load(words, LogWord.stop) !== 0) return;
    Atomics.wait(words, LogWord.appended, seen, logApplierWaitMs);
  }
}

function applyRun(
  store: JournalLogStore,
  log: StandbyLog,
  from: LogMark,
  tail: number,
  progress: JournalProgress,
): LogMark {
  const writes: LoggedEntry[][] = [];
  let mark = from;
  let bytes = 0;
  while (mark.record < tail && bytes < standbyLogRecordBytesMax) {
    const found = log.readAt(mark);
    if (found === null) {
      const where = `record ${mark.record} (offset ${mark.offset})`;
      throw new StorageError(StorageCode.JournalCorrupt, `the journal log lacks its ${where}`);
    }
    for (const group of found.groups) {
      writes.push(group.map((payload) => ({ payload })));
      for (const payload of group) bytes += payload.length;
    }
    mark = found.after;
  }
  const last = store.take(writes, mark);
  progress.set(ProgressSlot.sequenceCommitted, last);
  progress.bump();
  return mark;
}
