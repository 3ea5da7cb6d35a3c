/**
 * The journal's milestones, shared between threads in one small SharedArrayBuffer (STYLE rule
 * 11). Engine sequences can pass 2^31, so they are kept as float64; the writer bumps `version`
 * with Atomics after updating them, and readers wait on it.
 *
 *   sequencePublished  last command sequence the business-logic processor put in the output ring
 *   sequenceCommitted  last command sequence whose batch's LMDB transaction has committed
 *   sequenceDurable    last command sequence whose batch is fsynced (acks wait for this)
 *
 * With lmdb's synchronous commit and `noSync: false`, a commit returns after the fsync, so
 * committed and durable move together here. With the journal log (constants.ts journalLogOn,
 * pipeline/journal-log.ts) a batch is durable once in the log and committed once LMDB took it
 * after: readers of LMDB (queries.ts) see no further than sequenceCommitted.
 *
 * The same buffer holds the counters that /metrics reads when it is scraped (nothing is
 * reported per command): each is written by one thread only, with plain stores.
 *
 *   byte 0                 float64 slots (ProgressSlot)
 *   slots end              int32 version word, int32 promotion word
 *   flushOffset            float64 count per journal flush bucket (journalFlushBucketsUs, +Inf)
 *   rejectionsOffset       float64 count of Rejected events per status code (statusCodeCountMax)
 *   batchLogOffset         float64 triples per journal batch, a ring (journalBatchLogCount):
 *                          last event sequence, commit started (µs), durable (µs)
 *
 * The batch log costs three stores a batch and is read only by benches (bench/lib/stage-trace):
 * it splits a command's time from its stamp to its result into waiting for the journal, the
 * commit and fsync, and the publisher's wake-up, which no per-command field records.
 */
import { journalBatchLogCount, journalFlushBucketsUs, statusCodeCountMax } from '../constants.js';
import { assert } from '../stdx/assert.js';

export const enum ProgressSlot {
  sequencePublished = 0,
  sequenceCommitted = 1,
  sequenceDurable = 2,
  timestampDurable = 3,
  batchesWritten = 4,
  eventsWritten = 5,
  bytesWritten = 6,
  /** Sum and max of the time one batch took to encode, commit and fsync (microseconds). */
  commitUsTotal = 7,
  commitUsMax = 8,
  /** Count of events applied during recovery, and how long recovery took (ms). */
  recoveredEvents = 9,
  recoveryMs = 10,
  /**
   * A hot standby (follow mode): its workers apply the journal up to `followLimit` (committed
   * on a majority and stored here); `promotedTerm` > 0 tells them to take over in that term.
   */
  followLimit = 11,
  promotedTerm = 12,
  /** Commands the business-logic processor took since its start (set once per batch). */
  commandsProcessed = 13,
  /** GC pauses on the processor's thread while it decides, and the longest (microseconds). */
  processorGcPauses = 14,
  processorGcPauseMaxUs = 15,
  /**
   * When the last durable batch was recorded (ms since the epoch), on the process's monotonic
   * clock (performance.timeOrigin + now, pipeline/logical-time.ts clockMs), which its age is
   * read against: not Date.now(), which a step of the wall clock moves.
   */
  durableAtMs = 16,
  /** Last command sequence the snapshotter's replica (the read model) applied. */
  readModelSequence = 17,
  /** Entries in use of each capacity table (capacity-use.ts); the processor, once a second. */
  ordersUsed = 18,
  levelsUsed = 19,
  pendingUsed = 20,
  accountsUsed = 21,
  clientsUsed = 22,
  /**
   * Logical time (µs) of the engine's next pending-transfer expiry, 0 when none: the
   * processor's, after each batch; the node's expiry timer sends a Tick once it is due.
   */
  nextExpiryUs = 23,
  /**
   * Logical time (µs) of the last batch the processor stamped (the engine's position before
   * its first): the expiry timer's "now" is never below it (pipeline/logical-time.ts).
   */
  timestampStamped = 24,
  /**
   * Batches the processor decided since its start (set once per batch): commands / batches is
   * how many commands each of its wake-ups took (a batch is what one wait returned).
   */
  processorBatches = 25,
  /**
   * The journal log's applier (pipeline/journal-log.ts): batches it took from the writer's
   * hand-over in memory, and records it read back from the log's file (none in steady state).
   */
  journalLogHandedOver = 26,
  journalLogFileReads = 27,
  count = 28,
}

/**
 * Int32 words after the float64 slots. `version` moves with every publication (each durable
 * batch, each move of a standby's follow limit); `promotion` only when a standby takes over, so
 * that a thread waiting for that alone (a standby's journal writer) is not woken, a futex wake
 * and a context switch each time, by every follow step.
 */
const enum ProgressWord {
  version = ProgressSlot.count * 2,
  promotion = ProgressSlot.count * 2 + 1,
  count = ProgressSlot.count * 2 + 2,
}

/** Journal flush buckets: one per bound, and the last for longer flushes (+Inf). */
export const flushBucketCount = journalFlushBucketsUs.length + 1;
const flushOffset = ProgressWord.count * 4;
const rejectionsOffset = flushOffset + flushBucketCount * 8;
const batchLogOffset = rejectionsOffset + statusCodeCountMax * 8;
/** Float64 words per batch log entry (BatchLogWord). */
export const batchLogEntryWords = 3;
const progressBytes = batchLogOffset + journalBatchLogCount * batchLogEntryWords * 8;

/** A batch log entry's words: wall-clock µs, on the same clock as the processor's stamps. */
export const enum BatchLogWord {
  lastSequence = 0,
  commitStartUs = 1,
  durableUs = 2,
}

export class JournalProgress {
  readonly buffer: SharedArrayBuffer;
  readonly slots: Float64Array;
  /** Journal batches by flush time (not cumulative); written by the journal writer only. */
  readonly flushBuckets: Float64Array;
  /** Rejected commands by status code; written by the journal writer only. */
  readonly rejections: Float64Array;
  /**
   * Batch `n` (counting from 0 each run, as batchesWritten) at entry `n % journalBatchLogCount`;
   * written by the journal writer before the bump that publishes the batch.
   */
  readonly batchLog: Float64Array;
  private readonly words: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(progressBytes)) {
    assert(buffer.byteLength === progressBytes, 'progress: buffer of the expected layout');
    assert(flushOffset % 8 === 0, 'progress: float64 counters are aligned');
    this.buffer = buffer;
    this.slots = new Float64Array(buffer, 0, ProgressSlot.count);
    this.words = new Int32Array(buffer, 0, ProgressWord.count);
    this.flushBuckets = new Float64Array(buffer, flushOffset, flushBucketCount);
    this.rejections = new Float64Array(buffer, rejectionsOffset, statusCodeCountMax);
    const logWords = journalBatchLogCount * batchLogEntryWords;
    this.batchLog = new Float64Array(buffer, batchLogOffset, logWords);
  }

  get(slot: ProgressSlot): number {
    return this.slots[slot];
  }

  set(slot: ProgressSlot, value: number): void {
    this.slots[slot] = value;
  }

  /** Publishes the slots written so far and wakes anyone waiting for a change. */
  bump(): void {
    Atomics.add(this.words, ProgressWord.version, 1);
    Atomics.notify(this.words, ProgressWord.version);
  }

  version(): number {
    return Atomics.load(this.words, ProgressWord.version);
  }

  /** Publishes a promotion (after `bump`, which the followers watch) to its own waiters. */
  bumpPromotion(): void {
    Atomics.add(this.words, ProgressWord.promotion, 1);
    Atomics.notify(this.words, ProgressWord.promotion);
  }

  promotionVersion(): number {
    return Atomics.load(this.words, ProgressWord.promotion);
  }

  /** Blocks (worker threads only) until a promotion is published or `timeoutMs` passes. */
  waitPromotion(seen: number, timeoutMs: number): void {
    Atomics.wait(this.words, ProgressWord.promotion, seen, timeoutMs);
  }

  /** Blocks (worker threads only) until the version differs from `seen` or `timeoutMs` passes. */
  waitChange(seen: number, timeoutMs: number): void {
    Atomics.wait(this.words, ProgressWord.version, seen, timeoutMs);
  }

  /** Resolves when the version differs from `seen` or `timeoutMs` passes (any thread). */
  async waitChangeAsync(seen: number, timeoutMs: number): Promise<void> {
    const result = Atomics.waitAsync(this.words, ProgressWord.version, seen, timeoutMs);
    if (result.async) await result.value;
  }
}
