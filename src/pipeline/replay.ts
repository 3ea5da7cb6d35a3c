/**
 * Rebuilding state from storage: the newest valid snapshot, then every journal batch after it,
 * applied with the engine's `apply` (the same code every replica runs). Start-up, replay, verify
 * and the snapshot worker use it; none of it is on the command path.
 */
import { availableParallelism } from 'node:os';
import { Engine } from '../engine/engine.js';
import { scanChecksum } from '../engine/checksum-scan.js';
import type { EngineConfig } from '../constants.js';
import {
  eventSizeBytes,
  prefetchCommandsMax,
  recoveryStepBatches,
  replayBatchEventsMax,
  stateLayoutVersion,
} from '../constants.js';
import { RecordBuffer, readU64 } from '../stdx/records.js';
import type { ArraySource } from '../stdx/state-image.js';
import { assert, AssertionError, CapacityError } from '../stdx/assert.js';
import { EventWord } from '../protocol/event-layout.js';
import { genesisHash, type BatchView } from '../journal/journal-codec.js';
import { sequenceKey, type JournalDb } from '../journal/journal-db.js';
import { batchKeyAtOrBefore, readBatches } from '../journal/journal-reader.js';
import { StorageCode, StorageError } from '../journal/journal-errors.js';
import { checkChain, type ChainReport } from '../journal/chain-check.js';
import {
  headerFault,
  layoutReadable,
  prefixLayoutVersion,
  listSnapshots,
  loadSnapshotStored,
  type SnapshotHeader,
} from '../journal/snapshot-store.js';

/** An engine being rebuilt, and where its state stands in the journal. */
export class Replica {
  readonly engine: Engine;
  /** Last applied event's sequence and timestamp, and the hash of the batch it ended. */
  sequence = 0;
  timestamp = 0;
  batchHash: Uint8Array = genesisHash;
  eventsApplied = 0;
  snapshot: SnapshotHeader | null = null;
  /** Snapshots that failed their checks, with why (for logs and `verify`). */
  readonly skipped: { sequence: number; reason: string }[] = [];
  private readonly staging: RecordBuffer;
  /** The sequence of the event being applied (a refusal names it). */
  private applying = 0;
  /**
   * The last replay stopped inside a batch: its events up to `sequence` are applied, and
   * `batchHash` is still the one before it. The next replay goes on inside it (it went on from
   * the next batch: it reported a sound journal's next batch as "does not link", and verify
   * said so of a journal whose only fault was a snapshot taken inside a batch).
   */
  private insideBatch = false;

  /**
   * `joinStamps` (Engine): a replica answers reads (the snapshotter's read model, the CLI's
   * views); the processor's, which only decides, passes false.
   */
  constructor(config: EngineConfig, joinStamps = true) {
    this.engine = new Engine(config, joinStamps);
    this.staging = RecordBuffer.allocate(replayBatchEventsMax, eventSizeBytes);
  }

  /**
   * Loads the newest snapshot at or before `notAfter` that passes every check (and `accept`,
   * when given: a follower also wants its batch to still be in the journal).
   */
  loadNewestSnapshot(
    db: JournalDb,
    notAfter: number,
    accept: (header: SnapshotHeader) => boolean = () => true,
  ): void {
    for (const header of listSnapshots(db)) {
      if (header.sequence > notAfter || !accept(header)) continue;
      const reason = this.tryLoad(db, header);
      if (reason === null) return;
      this.skipped.push({ sequence: header.sequence, reason });
    }
  }

  /** Restores `header`'s snapshot; returns why it cannot be used, or null when loaded. */
  tryLoad(db: JournalDb, header: SnapshotHeader): string | null {
    // A header that does not parse has no config: it was reported as 'taken with another
    // engine config', where verify said what it is.
    const unreadable = headerFault(header);
    if (unreadable !== null) return unreadable;
    if (!takenWith(header, this.engine.config)) {
      return `snapshot at sequence ${header.sequence} was taken with another engine config`;
    }
    if (!layoutReadable(header.layout)) {
      const layout = header.layout ?? 1; // written before layouts had versions
      const wanted = stateLayoutVersion;
      return `snapshot at sequence ${header.sequence} has state layout ${layout}, not ${wanted}`;
    }
    let arrays: ArraySource;
    try {
      arrays = loadSnapshotStored(db, header);
    } catch (error) {
      if (error instanceof StorageError) return error.message;
      throw error;
    }
    const lengths = header.arrays.map(([full]) => full);
    const sizes = this.engine.image().arrays.map((a) => a.byteLength);
    // Layout 6 had no cancel-on-disconnect marks, the last array (loadSnapshotStored).
    if (header.layout === prefixLayoutVersion) lengths.push(sizes[sizes.length - 1]);
    if (lengths.length !== sizes.length || lengths.some((n, i) => n !== sizes[i])) {
      return `snapshot at sequence ${header.sequence} has arrays of other sizes`;
    }
    this.engine.restore(arrays, header.counters, lengths);
    if (scanChecksum(this.engine).hex() !== header.stateChecksum) {
      this.reset();
      return `snapshot at sequence ${header.sequence} does not match its state checksum`;
    }
    this.sequence = header.sequence;
    this.timestamp = header.timestamp;
    this.batchHash = Buffer.from(header.batchHash, 'hex');
    this.snapshot = header;
    this.insideBatch = false;
    return null;
  }

  /** Back to the empty state (after a snapshot that restored but failed its checks). */
  private reset(): void {
    const blank = new Engine(this.engine.config).image();
    const arrays = blank.arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    const lengths = arrays.map((a) => a.byteLength);
    this.engine.restore(arrays, blank.counters, lengths);
  }

  /**
   * Applies every event after the current position (the rest of a batch a replay stopped
   * inside, then every batch after it), up to the last event at or before `limitSequence`,
   * checking the hash chain from the current batch hash. Returns the events applied. `onBatch`
   * sees each batch after it was applied (the view is valid during the call only).
   */
  replay(db: JournalDb, limitSequence: number, onBatch?: (view: BatchView) => void): number {
    const before = this.eventsApplied;
    const start = this.insideBatch
      ? batchKeyAtOrBefore(db, this.sequence)
      : sequenceKey(this.sequence + 1);
    readBatches(db, start, this.batchHash, (view) => {
      const done = this.applyJournaled(db, view, limitSequence, true);
      if (onBatch !== undefined) onBatch(view);
      return !done;
    });
    return this.eventsApplied - before;
  }

  /**
   * Applies at most `batchesMax` batches after the current position; returns how many. Recovery
   * reads in short steps, each in a fresh read transaction, while the journal may be written: LMDB
   * cannot reuse pages freed after a reader's snapshot, so a long read makes the writer grow the
   * file and slows every commit (measured at 500k commands/s: the p99 latency from command to
   * durable went from about 3 ms to 20-30 ms for good once a thread kept a read open).
   */
  follow(db: JournalDb, batchesMax: number, checkHashes = true, limit = Infinity): number {
    assert(!this.insideBatch, 'replica: follows from a batch end');
    db.root.resetReadTxn();
    let batches = 0;
    const start = sequenceKey(this.sequence + 1);
    const onBatch = (view: BatchView): boolean => {
      if (view.firstSequence > limit) return false; // a hot standby stops at the commit limit
      this.applyJournaled(db, view, Infinity, false);
      batches++;
      return batches < batchesMax;
    };
    readBatches(db, start, this.batchHash, onBatch, checkHashes);
    db.root.resetReadTxn(); // and release it: an idle reader would pin pages just the same
    return batches;
  }

  /** Notes the event at `index` of `records` (a ring slot) to read ahead (`readNoted`). */
  noteRecord(records: RecordBuffer, index: number): void {
    this.engine.prefetchNoteEvent(records.u32, index * EventWord.size);
  }

  /** Reads ahead what `noteRecord` noted, before those events are applied. */
  readNoted(): void {
    this.engine.prefetchRead();
  }

  /** Applies the event at `index` of `records` (a ring slot); the snapshotter's path. */
  applyRecord(records: RecordBuffer, index: number): void {
    const w = index * EventWord.size;
    this.engine.apply(records, index);
    this.sequence = readU64(records.u32, w + EventWord.sequence);
    this.timestamp = readU64(records.u32, w + EventWord.timestamp);
    this.eventsApplied++;
  }

  /**
   * `applyBatch`, with an engine assert raised by a journaled event reported as what it is: a
   * journal whose events do not apply (a tail rewritten with recomputed hashes passed every
   * hash, then replay and start died of "idempotency: recorded seq goes up" and a stack trace,
   * exit 70). The engine's asserts guard its invariants against its own bugs; events read back
   * from disk are input, so here a failed one is data to refuse. A CapacityError is too when
   * `capacityIsData` (the offline tools, `replay()`: they rebuild with the folder's own stored
   * config, so the folder holds events its config cannot: replay and verify died of it, exit
   * 70 and a stack trace); a node names it itself (a member started with smaller capacities
   * than its primary's).
   * @throws StorageError (JOURNAL_CORRUPT) naming journal.mdb, the sequence and the assert.
   */
  private applyJournaled(
    db: JournalDb,
    view: BatchView,
    limit: number,
    capacityIsData: boolean,
  ): boolean {
    try {
      return this.applyBatch(view, limit);
    } catch (error) {
      if (!(error instanceof AssertionError)) throw error;
      if (error instanceof CapacityError && !capacityIsData) throw error;
      const at = `${db.path}: the events at sequence ${this.applying}`;
      throw new StorageError(
        StorageCode.JournalCorrupt,
        error instanceof CapacityError
          ? `${at} need larger capacities than the folder's stored engine config (` +
              `${error.message}): its node ran with smaller capacities than these events were ` +
              'decided with (a member smaller than its primary), or the stored config was changed'
          : `${at} do not apply (${error.message})`,
        this.applying,
      );
    }
  }

  /**
   * Applies one batch's events up to `limit`, from the first not applied yet (all of them but
   * in a batch a replay stopped inside); true when the limit was reached inside it. Runs of up
   * to prefetchCommandsMax events are read ahead first (engine/prefetch.ts: their misses overlap).
   */
  private applyBatch(view: BatchView, limit: number): boolean {
    const u32 = eventWords(view.events, this.staging);
    const engine = this.engine;
    const resumed = this.insideBatch;
    const first = resumed ? firstAfter(u32, view.count, this.sequence) : 0;
    for (let start = first; start < view.count; start += prefetchCommandsMax) {
      const end = Math.min(start + prefetchCommandsMax, view.count);
      for (let i = start; i < end; i++) engine.prefetchNoteEvent(u32, i * EventWord.size);
      engine.prefetchRead();
      for (let i = start; i < end; i++) {
        const w = i * EventWord.size;
        const sequence = readU64(u32, w + EventWord.sequence);
        if (sequence > limit) {
          this.insideBatch = resumed || i > 0; // a batch not begun is not stood inside
          return true;
        }
        this.applying = sequence;
        engine.applyAt(u32, w);
        this.sequence = sequence;
        this.timestamp = readU64(u32, w + EventWord.timestamp);
        this.eventsApplied++;
      }
    }
    this.batchHash = Uint8Array.from(view.hash); // the view is the reader's, reused
    this.insideBatch = false;
    return false;
  }

  /** Whether the replica stands at the end of a journal batch (not inside one). */
  get atBatchEnd(): boolean {
    return !this.insideBatch;
  }
}

/** The index of the first of `count` events (words `u32`) whose sequence is past `sequence`. */
function firstAfter(u32: Uint32Array, count: number, sequence: number): number {
  let i = 0;
  while (i < count && readU64(u32, i * EventWord.size + EventWord.sequence) <= sequence) i++;
  return i;
}

/**
 * Whether a snapshot was taken under `config`: its arrays are sized by it, so start restores
 * only such (verify counts the others apart, as start skips them).
 */
export function takenWith(header: SnapshotHeader, config: EngineConfig): boolean {
  return JSON.stringify(header.config) === JSON.stringify(config);
}

/**
 * A batch's events as words: a view of them where they lie when 4-byte aligned (as LMDB's
 * reads give them), else a copy into `staging`.
 */
export function eventWords(events: Uint8Array, staging: RecordBuffer): Uint32Array {
  if ((events.byteOffset & 3) === 0) {
    return new Uint32Array(events.buffer, events.byteOffset, events.byteLength >> 2);
  }
  staging.u8.set(events, 0);
  return staging.u32;
}

/**
 * Recovery: the newest valid snapshot, then the journal tail. The tail's hashes are checked in
 * parallel (piscina, chain-check.ts) while this thread applies it, stepping so the event loop
 * can hand out the checking work; nothing is trusted until the check has passed.
 * @throws StorageError when the tail is damaged.
 */
export async function recover(
  replica: Replica,
  db: JournalDb,
  dataDir: string,
  tailSequence: number,
): Promise<number> {
  replica.loadNewestSnapshot(db, tailSequence);
  return replayChecked(replica, db, dataDir);
}

/**
 * Applies every batch after the replica's position while piscina checks their hashes; returns
 * the events applied.
 * @throws StorageError when a batch is damaged.
 */
export async function replayChecked(
  replica: Replica,
  db: JournalDb,
  dataDir: string,
): Promise<number> {
  const before = replica.eventsApplied;
  // Checking threads leave one core to this thread, which applies.
  const threads = Math.max(1, availableParallelism() - 1);
  const start = sequenceKey(replica.sequence + 1);
  const check = checkChain(dataDir, db, start, replica.batchHash, undefined, threads);
  check.catch(() => {}); // awaited below; an early rejection must not go unhandled meanwhile
  try {
    while (replica.follow(db, recoveryStepBatches, false) === recoveryStepBatches) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (error) {
    // A damaged batch can trip the engine's asserts before its hash is known to be wrong:
    // report the damage, not the assert.
    throwIfDamaged(await check);
    throw error;
  }
  throwIfDamaged(await check);
  return replica.eventsApplied - before;
}

function throwIfDamaged(report: ChainReport): void {
  if (report.problem === null) return;
  const { sequence, message } = report.problem;
  throw new StorageError(StorageCode.JournalCorrupt, message, sequence);
}
