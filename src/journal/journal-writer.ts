/**
 * The journal writer: consumer 0 of the output ring. It takes every event published so far
 * (end of batch), appends them as one JournalBatch in one LMDB transaction, and marks them
 * durable when that transaction has been fsynced (group commit):
 *
 *   output ring  [ e e e e e e e e e ]            consumer 0 = journal writer
 *                  └───── batch ─────┘             consumer 1 = publisher (waits for 0)
 *                        │ encode + SHA-256 chain ──► sealed (a cluster's primary: to the standbys)
 *                        ▼
 *   LMDB  journal[firstSeq] = JournalBatch ; time-index[ts ‖ firstSeq] = ''   (one txn, fsync)
 *                        │
 *                        ▼ sequenceCommitted = sequenceDurable = last event's sequence;
 *                          release the slots (the publisher may now answer those commands)
 *
 * The processor publishes only after whole `execute` calls, so a batch never ends inside a
 * command: a crash loses whole unacknowledged commands, never half of one.
 */
import {
  eventSizeBytes,
  journalBatchLogCount,
  journalFlushBucketsUs,
  statusCodeCountMax,
} from '../constants.js';
import { assert } from '../stdx/assert.js';
import { readU64 } from '../stdx/records.js';
import { EventKind, EventWord } from '../protocol/event-layout.js';
import type { SequenceBarrier } from '../ring/sequence-barrier.js';
import { after } from '../ring/ring-layout.js';
import { BatchEncoder, hashSizeBytes } from './journal-codec.js';
import { sequenceKey, type JournalDb } from './journal-db.js';
import { writeFailure } from './journal-errors.js';
import { TimeIndexRule } from './time-index.js';
import {
  batchLogEntryWords,
  BatchLogWord,
  JournalProgress,
  ProgressSlot,
} from './journal-progress.js';

/** Where the journal ends: the next batch links to `hash` and starts after `sequence`. */
export interface JournalTail {
  sequence: number;
  hash: Uint8Array;
  term: number;
}

/**
 * Called with each batch as soon as it is encoded, before its commit: the key's sequence and the
 * bytes the journal stores (valid only during the call), and when (wall clock, ms) this writer
 * took the batch from the ring. A cluster's primary sends them on to its standbys while its own
 * disk writes them (Raft lets a leader append in parallel with sending).
 */
export type SealedBatch = (firstSequence: number, bytes: Uint8Array, takenAtMs: number) => void;

/**
 * Where batches go instead of this writer's own LMDB transaction (pipeline/journal-log.ts: a
 * log in front of LMDB): `commit` returns once the batch (`bytes`, valid only during the call)
 * is durable; LMDB takes it later and moves sequenceCommitted itself.
 * @throws StorageError when the batch could not be made durable.
 */
export interface JournalSink {
  commit(firstSequence: number, timestamp: number, bytes: Uint8Array): void;
}

export class JournalWriter {
  private readonly db: JournalDb;
  private readonly barrier: SequenceBarrier;
  private readonly progress: JournalProgress;
  private readonly encoder: BatchEncoder;
  /** Events of a batch that wraps the ring, made contiguous (sized for the whole ring). */
  private readonly staging: Uint8Array;
  private readonly prevHash = new Uint8Array(hashSizeBytes);
  private readonly nextHash = new Uint8Array(hashSizeBytes);
  private readonly term: number;
  private lastSequence: number;
  /** Which batches the time index takes (the first of this run, then sparse). */
  private readonly timeIndex = new TimeIndexRule();
  private readonly empty = Buffer.alloc(0);
  private readonly sealed: SealedBatch | null;

  constructor(
    db: JournalDb,
    barrier: SequenceBarrier,
    progress: JournalProgress,
    tail: JournalTail,
    sealed: SealedBatch | null = null,
    private readonly sink: JournalSink | null = null,
  ) {
    this.sealed = sealed;
    const slots = barrier.ring.slotCount;
    assert(barrier.ring.slotSizeBytes === eventSizeBytes, 'journal: the ring holds events');
    this.db = db;
    this.barrier = barrier;
    this.progress = progress;
    this.encoder = new BatchEncoder(slots);
    this.staging = new Uint8Array(slots * eventSizeBytes);
    this.prevHash.set(tail.hash);
    this.term = tail.term;
    this.lastSequence = tail.sequence;
  }

  /** Writes batches until the ring halts and everything published is durable. */
  run(): void {
    for (;;) {
      const available = this.barrier.waitFor();
      if (after(available, this.barrier.position())) this.writeThrough(available);
      else if (this.barrier.ring.halted()) return;
    }
  }

  /** Journals ring sequences (position, last] as one batch and releases them. */
  writeThrough(last: number): void {
    const ring = this.barrier.ring;
    const first = (this.barrier.position() + 1) | 0;
    const count = ((last - first) | 0) + 1;
    const events = this.eventBytes(ring.slot(first), count);
    const u32 = ring.records.u32;
    const headWord = ring.slot(first) * (eventSizeBytes >> 2);
    const tailWord = ring.slot(last) * (eventSizeBytes >> 2);
    const firstSequence = readU64(u32, headWord + EventWord.sequence);
    const timestamp = readU64(u32, headWord + EventWord.timestamp);
    const lastSequence = readU64(u32, tailWord + EventWord.sequence);
    assert(firstSequence > this.lastSequence, 'journal: batches follow one another');
    assert(lastSequence >= firstSequence, 'journal: a batch is in sequence order');
    const started = performance.now();
    const bytes = this.encoder.encode(
      this.term,
      firstSequence,
      timestamp,
      events,
      this.prevHash,
      this.nextHash,
    );
    if (this.sealed !== null) this.sealed(firstSequence, bytes, performance.timeOrigin + started);
    if (this.sink === null) this.commit(firstSequence, timestamp, bytes);
    else this.sink.commit(firstSequence, timestamp, bytes);
    this.prevHash.set(this.nextHash);
    this.lastSequence = lastSequence;
    this.countRejections(first, count);
    this.record(lastSequence, timestamp, count, bytes.byteLength, started);
    this.barrier.release(last);
  }

  /** One synchronous transaction: returns once LMDB has written and fsynced it. */
  private commit(firstSequence: number, timestamp: number, bytes: Uint8Array): void {
    const key = sequenceKey(firstSequence);
    const value = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const timeKey = this.timeIndex.keyFor(firstSequence, timestamp);
    try {
      this.db.journal.transactionSync(() => {
        this.db.journal.putSync(key, value);
        if (timeKey !== null) this.db.timeIndex.putSync(timeKey, this.empty);
      });
    } catch (error) {
      // Nothing of the batch is durable, so none of its commands was answered: the node stops
      // (node.ts, fail), and their clients send them again to the node that takes over.
      const what = `the journal batch at sequence ${firstSequence}`;
      throw writeFailure(error, what, firstSequence, this.db.path);
    }
  }

  /** The batch's events as one contiguous view (a copy only when the batch wraps the ring). */
  private eventBytes(slot: number, count: number): Uint8Array {
    const ring = this.barrier.ring;
    const u8 = ring.records.u8;
    const start = slot * eventSizeBytes;
    if (slot + count <= ring.slotCount) return u8.subarray(start, start + count * eventSizeBytes);
    const head = (ring.slotCount - slot) * eventSizeBytes;
    this.staging.set(u8.subarray(start, start + head), 0);
    this.staging.set(u8.subarray(0, count * eventSizeBytes - head), head);
    return this.staging.subarray(0, count * eventSizeBytes);
  }

  /**
   * Counts the batch's Rejected events by status code for /metrics (one word read per event,
   * beside the SHA-256 over all of its bytes just done; a rejected command has one of them).
   */
  private countRejections(first: number, count: number): void {
    const ring = this.barrier.ring;
    const u32 = ring.records.u32;
    const counts = this.progress.rejections;
    for (let i = 0; i < count; i++) {
      const word = u32[ring.slot((first + i) | 0) * EventWord.size + EventWord.kindStatus];
      if ((word & 0xff) !== EventKind.Rejected) continue;
      const status = word >>> 16;
      counts[status < statusCodeCountMax ? status : 0] += 1; // 0 (Ok): a code out of range
    }
  }

  /** Publishes a durable batch whose encoding began at `startedMs` (performance.now()). */
  private record(
    sequence: number,
    timestamp: number,
    count: number,
    bytes: number,
    startedMs: number,
  ): void {
    const p = this.progress;
    const nowMs = performance.now();
    const us = Math.round((nowMs - startedMs) * 1000);
    const batch = p.get(ProgressSlot.batchesWritten);
    if (this.sink === null) p.set(ProgressSlot.sequenceCommitted, sequence); // in LMDB
    p.set(ProgressSlot.sequenceDurable, sequence);
    p.set(ProgressSlot.timestampDurable, timestamp);
    p.set(ProgressSlot.durableAtMs, performance.timeOrigin + nowMs); // per batch
    logBatch(p.batchLog, batch, sequence, startedMs, nowMs);
    p.set(ProgressSlot.batchesWritten, batch + 1);
    p.set(ProgressSlot.eventsWritten, p.get(ProgressSlot.eventsWritten) + count);
    p.set(ProgressSlot.bytesWritten, p.get(ProgressSlot.bytesWritten) + bytes);
    p.set(ProgressSlot.commitUsTotal, p.get(ProgressSlot.commitUsTotal) + us);
    if (us > p.get(ProgressSlot.commitUsMax)) p.set(ProgressSlot.commitUsMax, us);
    let bucket = 0;
    while (bucket < journalFlushBucketsUs.length && us > journalFlushBucketsUs[bucket]) bucket++;
    p.flushBuckets[bucket] += 1;
    p.bump();
  }
}

/**
 * Enters batch number `batch` (ending at event `sequence`, its commit begun at `startedMs`,
 * durable at `durableMs`, both performance.now()) in the progress's batch log, in wall-clock µs
 * as the processor stamps commands (the same expression in each thread).
 */
function logBatch(
  log: Float64Array,
  batch: number,
  sequence: number,
  startedMs: number,
  durableMs: number,
): void {
  const at = (batch % journalBatchLogCount) * batchLogEntryWords;
  log[at + BatchLogWord.lastSequence] = sequence;
  log[at + BatchLogWord.commitStartUs] = (performance.timeOrigin + startedMs) * 1000;
  log[at + BatchLogWord.durableUs] = (performance.timeOrigin + durableMs) * 1000;
}
