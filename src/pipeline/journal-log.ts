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
 *                              │ the batch copied into the hand-over (shared memory), the tail
 *                              ▼ record (shared words)
 *   applier thread ─► takes the batches from memory ─► one LMDB transaction: batches, time
 *                     index, and the log's mark past them ─► sequenceCommitted (readers of LMDB)
 *
 * The applier reads a record back from the file only when its batch found no room in the
 * hand-over (journal-log-handover.ts): it shares the writer's and the processor's two cores
 * (the pipeline's closed loop was ~10% lower with it, forty-fourth session), and reading each
 * record back (a read, a CRC-32, arrays per record) cost 13-15% of a batch's CPU, writer and
 * applier (bench/RESULTS.md, forty-fifth session); most of the applier's is LMDB's transaction.
 *
 * The log wraps to offset 0 only once LMDB holds, synced, every record in it (the applier's
 * mark is the tail); a batch too large for a record goes to LMDB directly, after the same wait.
 * A start replays the records past LMDB's mark first (openStandbyLog, standby-log-replay.ts),
 * so the writer always opens the log with LMDB holding all of it.
 *
 * Not in the hot folders: the applier allocates a view per batch (lmdb-js takes a Buffer), a
 * mark and the mark's text per run of batches, and per record only when it reads the file.
 */
import { Worker } from 'node:worker_threads';
import { standbyLogRecordBytesMax } from '../constants.js';
import { decodeBatch } from '../journal/journal-codec.js';
import { readU64BE, writeMeta, writeU64BE } from '../journal/journal-db.js';
import type { JournalDb } from '../journal/journal-db.js';
import { StorageCode, StorageError, writeFailure } from '../journal/journal-errors.js';
import { JournalProgress, ProgressSlot } from '../journal/journal-progress.js';
import { lastSequenceOf } from '../journal/journal-reader.js';
import type { JournalSink } from '../journal/journal-writer.js';
import { TimeIndexRule } from '../journal/time-index.js';
import { assert } from '../stdx/assert.js';
import { logMarkKey, logMarkOf, markText } from '../replication/log-mark.js';
import { StandbyLog, type LoggedEntry, type LogMark } from '../replication/standby-log.js';
import type { LogStore } from '../replication/standby-log-replay.js';
import { HandOverReader, HandOverWriter, type HandOverSlots } from './journal-log-handover.js';

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
  hurry = 5, // set by the writer while it waits for LMDB (waitApplied): no gathering then
}
const enum LogSlot {
  tailRecord = 0, // the writer's: the number the next record gets
  appliedRecord = 1, // the applier's: the first record LMDB lacks (its mark)
  handOverWritten = 2, // the writer's: bytes it copied into the hand-over
  handOverFreed = 3, // the applier's: bytes of the hand-over LMDB holds (the writer may reuse)
}
const slotsAt = 32;
const failureAt = 64;
const failureBytes = 512;
/** The applier's longest sleep before it looks again (ms): a stop also wakes it. */
export const logApplierWaitMs = 100;
/**
 * After each LMDB transaction the applier lets batches gather this long (ms) before the next,
 * unless the writer waits for it: a transaction's cost (its two flushes, in the kernel, on the
 * cores the processor and the writer use) is per run, not per batch. LMDB's readers
 * (sequenceCommitted) trail the log by this much more.
 */
export const logApplierGatherMs = 2;

export function newLogShared(): SharedArrayBuffer {
  return new SharedArrayBuffer(failureAt + failureBytes);
}

/** The shared words and record numbers, as each side views them. */
export function logViews(shared: SharedArrayBuffer): { words: Int32Array; slots: Float64Array } {
  return { words: new Int32Array(shared, 0, 8), slots: new Float64Array(shared, slotsAt, 4) };
}

/** Where the hand-over's positions are in the shared words (`slots`, logViews). */
export function handOverSlots(slots: Float64Array): HandOverSlots {
  return { slots, writtenAt: LogSlot.handOverWritten, freedAt: LogSlot.handOverFreed };
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
  private readonly key = Buffer.alloc(8); // lmdb-js copies a key as it is put: one, reused
  private staging = Buffer.alloc(0); // putBatch's copy of a batch in shared memory

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
    this.transaction(() => {
      for (const entries of writes) for (const e of entries) last = this.put(e.payload);
      this.db.meta.putSync(logMarkKey, markText(mark));
    });
    return last;
  }

  /** Runs `puts` (put, putBatch, the mark) in one synchronous transaction: durable after. */
  transaction(puts: () => void): void {
    writeMeta(this.db, 'the journal log, into the journal', () =>
      this.db.journal.transactionSync(puts),
    );
  }

  /** Stores a batch read from the log (in a transaction); returns its last sequence. */
  put(payload: Uint8Array): number {
    const view = decodeBatch(payload, false);
    if (typeof view === 'string') {
      throw new StorageError(StorageCode.JournalCorrupt, `the journal log holds a batch ${view}`);
    }
    this.putBatch(view.firstSequence, view.timestamp, payload);
    return lastSequenceOf(view);
  }

  /**
   * Stores a batch whose first sequence and timestamp are known (in a transaction). A batch in
   * shared memory is copied first into a buffer of the store's own: lmdb-js takes a value's
   * address from its ArrayBuffer, and from a SharedArrayBuffer it got a wrong one (a crash).
   */
  putBatch(firstSequence: number, timestamp: number, payload: Uint8Array): void {
    writeU64BE(this.key, firstSequence, 0);
    let value = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
    if (payload.buffer instanceof SharedArrayBuffer) {
      if (this.staging.length < payload.length) this.staging = Buffer.alloc(stagingBytes(payload));
      this.staging.set(payload);
      value = this.staging.subarray(0, payload.length);
    }
    this.db.journal.putSync(this.key, value);
    const timeKey = this.timeIndex.keyFor(firstSequence, timestamp);
    if (timeKey !== null) this.db.timeIndex.putSync(timeKey, this.empty);
  }
}

/** The journal writer's sink with the log on: appends, and hands LMDB's work to the applier. */
export class JournalLog implements JournalSink {
  private readonly words: Int32Array;
  private readonly slots: Float64Array;
  private readonly handOver: HandOverWriter;
  /** The one record commit appends: its one entry's payload set per batch (no arrays). */
  private readonly entry: { payload: Uint8Array } = { payload: new Uint8Array(0) };
  private readonly writes: readonly (readonly LoggedEntry[])[] = [[this.entry]];

  private constructor(
    private readonly db: JournalDb,
    private readonly log: StandbyLog,
    private readonly progress: JournalProgress,
    private readonly shared: SharedArrayBuffer,
    handOver: SharedArrayBuffer,
  ) {
    ({ words: this.words, slots: this.slots } = logViews(shared));
    this.handOver = new HandOverWriter(handOver, handOverSlots(this.slots));
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
    // A run's bound (16 MiB), or the log's size: the applier is never further behind than it.
    const handOverBytes = Math.min(standbyLogRecordBytesMax, Math.floor(log.fileBytes / 8) * 8);
    const handOver = new SharedArrayBuffer(handOverBytes);
    const url = new URL('./journal-log-worker.js', import.meta.url);
    const applier = new Worker(url, { workerData: { dataDir, shared, handOver, progress } });
    applier.unref(); // it ends once told (close), or with this thread
    return new JournalLog(db, log, new JournalProgress(progress), shared, handOver);
  }

  commit(firstSequence: number, timestamp: number, bytes: Uint8Array): void {
    try {
      this.checkApplier();
      this.entry.payload = bytes;
      const size = StandbyLog.sizeOf(this.writes);
      if (size > Math.min(standbyLogRecordBytesMax, this.log.fileBytes)) {
        this.waitApplied(); // in order: every record before it in LMDB first
        const last = new JournalLogStore(this.db).take(this.writes, this.log.next);
        this.progress.set(ProgressSlot.sequenceCommitted, last);
        return;
      }
      if (!this.log.fits(size)) {
        this.waitApplied(); // LMDB holds every record: the lap may start again at 0
        this.log.wrap();
      }
      const record = this.log.next.record;
      const after = this.log.appendSync(this.writes, 0);
      Atomics.load(this.words, LogWord.applied); // the applier's last free() is seen
      this.handOver.offer(record, after.offset, firstSequence, timestamp, bytes);
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
    Atomics.store(this.words, LogWord.hurry, 1);
    Atomics.notify(this.words, LogWord.hurry);
    try {
      for (;;) {
        const seen = Atomics.load(this.words, LogWord.applied);
        this.checkApplier();
        if (this.slots[LogSlot.appliedRecord] >= this.slots[LogSlot.tailRecord]) return;
        Atomics.wait(this.words, LogWord.applied, seen, logApplierWaitMs);
      }
    } finally {
      Atomics.store(this.words, LogWord.hurry, 0);
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
 * LMDB's mark, in runs of at most standbyLogRecordBytesMax, from the hand-over (`handOver`)
 * or else the file, until told to stop with none left.
 */
export function applyLog(
  store: JournalLogStore,
  log: StandbyLog,
  shared: SharedArrayBuffer,
  handOver: SharedArrayBuffer,
  progress: JournalProgress,
): void {
  const { words, slots } = logViews(shared);
  const run = new ApplyRun(store, log, new HandOverReader(handOver, handOverSlots(slots)));
  let mark = logMarkOf(store.db);
  for (;;) {
    const seen = Atomics.load(words, LogWord.appended);
    const tail = slots[LogSlot.tailRecord];
    if (mark.record < tail) {
      mark = run.apply(mark, tail, progress);
      slots[LogSlot.appliedRecord] = mark.record;
      Atomics.add(words, LogWord.applied, 1);
      Atomics.notify(words, LogWord.applied);
      if (logApplierGatherMs > 0) Atomics.wait(words, LogWord.hurry, 0, logApplierGatherMs);
      continue;
    }
    if (Atomics.load(words, LogWord.stop) !== 0) return;
    Atomics.wait(words, LogWord.appended, seen, logApplierWaitMs);
  }
}

/** One run of records into LMDB: its state, reused from run to run (no arrays per batch). */
class ApplyRun {
  private record = 0;
  private offset = 0;
  private tail = 0;
  private last = -1; // the run's last sequence, when a record read from the file had it
  private lastBatch: Uint8Array | null = null; // else its last batch, from the hand-over
  private handedOver = 0;
  private fileReads = 0;
  private readonly puts = (): void => this.putRun();

  constructor(
    private readonly store: JournalLogStore,
    private readonly log: StandbyLog,
    private readonly handOver: HandOverReader,
  ) {}

  /** Stores records `from` up to `tail` (or a run's bound) with the mark past them. */
  apply(from: LogMark, tail: number, progress: JournalProgress): LogMark {
    this.record = from.record;
    this.offset = from.offset;
    this.tail = tail;
    this.store.transaction(this.puts);
    this.handOver.free(); // LMDB holds the batches: the writer may reuse their bytes
    const batch = this.lastBatch;
    const last = batch === null ? this.last : lastSequenceOfBatch(batch);
    this.lastBatch = null;
    progress.set(ProgressSlot.sequenceCommitted, last);
    progress.set(ProgressSlot.journalLogHandedOver, this.handedOver);
    progress.set(ProgressSlot.journalLogFileReads, this.fileReads);
    progress.bump();
    return { record: this.record, offset: this.offset };
  }

  private putRun(): void {
    let bytes = 0;
    while (this.record < this.tail && bytes < standbyLogRecordBytesMax) {
      const batch = this.handOver.find(this.record);
      if (batch !== null) {
        const h = this.handOver;
        this.store.putBatch(h.firstSequence, h.timestamp, batch);
        this.lastBatch = batch;
        this.record += 1;
        this.offset = h.afterOffset;
        this.handedOver += 1;
        bytes += batch.length;
      } else {
        bytes += this.putRead();
      }
    }
    const mark = { record: this.record, offset: this.offset };
    this.store.db.meta.putSync(logMarkKey, markText(mark));
  }

  /** Stores the record at the mark as read from the file; returns its batches' bytes. */
  private putRead(): number {
    const mark = { record: this.record, offset: this.offset };
    const found = this.log.readAt(mark);
    if (found === null) {
      const where = `record ${mark.record} (offset ${mark.offset})`;
      throw new StorageError(StorageCode.JournalCorrupt, `the journal log lacks its ${where}`);
    }
    let bytes = 0;
    for (const group of found.groups) {
      for (const payload of group) {
        this.last = this.store.put(payload);
        bytes += payload.length;
      }
    }
    this.lastBatch = null;
    this.record = found.after.record;
    this.offset = found.after.offset;
    this.fileReads += 1;
    return bytes;
  }
}

/** A staging buffer's size for `payload`: at least 1 MiB, so that it rarely grows again. */
function stagingBytes(payload: Uint8Array): number {
  return Math.max(payload.length, 1 << 20);
}

function lastSequenceOfBatch(batch: Uint8Array): number {
  const view = decodeBatch(batch, false);
  assert(typeof view !== 'string', 'journal log: a batch handed over decodes');
  return lastSequenceOf(view);
}
