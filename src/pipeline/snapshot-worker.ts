/**
 * Worker entry of the snapshotter: a replica that follows the output ring as its consumer 2,
 * behind the journal writer (consumer 0), so it applies only durable events, and writes a
 * snapshot every `snapshotIntervalEvents` events or `snapshotIntervalMs`, whichever comes first.
 * On a cluster's primary it follows the publisher instead, so it applies only events committed
 * on a majority (see `ahead`).
 *
 *   output ring  [ e e e e e e e e ]   consumer 0 journal writer (releases whole batches)
 *                                      consumer 1 publisher      (behind 0; a cluster's: commit)
 *                                      consumer 2 snapshotter    (behind 0; a cluster's: behind 1)
 *
 * Reading the events from the ring, not back from LMDB, keeps the snapshotter off the
 * journal's pages and saves decoding and hashing: measured at 500k commands/s on two cores, p99
 * from command to durable went from 5.2–6.4 ms (following the journal in LMDB) to 3.2–3.4 ms.
 * Consumer 0 releases only whole batches, so taking everything available always ends at a
 * journal batch: each snapshot is consistent at the end of one, and names its hash.
 *
 * On a hot standby it follows the journal in LMDB up to the commit limit instead (follower.ts),
 * and on promotion hands its state to the processor (handover.ts), then follows the ring.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { EngineConfig } from '../constants.js';
import {
  piscinaExecArgv,
  prefetchCommandsMax,
  readModelYieldMs,
  ringSleepMs,
  snapshotKeepCount,
  snapshotTouchPagesPerTurn,
  snapshotThreadNice,
  handoverHintMs,
  handoverTouchPagesPerTurn,
} from '../constants.js';
import { closeJournalDb, openJournalDb, type JournalDb } from '../journal/journal-db.js';
import { journalBatchEndingAt } from '../journal/journal-reader.js';
import { JournalProgress, ProgressSlot } from '../journal/journal-progress.js';
import { lowerThreadPriority } from '../journal/thread-priority.js';
import { writeFailure } from '../journal/journal-errors.js';
import type { SnapshotTask, SnapshotTaskResult } from '../journal/snapshot-task.js';
import { Piscina } from 'piscina';
import { RingBuffer } from '../ring/ring-buffer.js';
import { SequenceBarrier } from '../ring/sequence-barrier.js';
import { WaitStrategy } from '../ring/wait-strategy.js';
import { after, distance } from '../ring/ring-layout.js';
import { followJournal, loadFollowerSnapshot } from './follower.js';
import { describeHandover, type Handover, type TouchHint } from './handover.js';
import { refuseStateTooLarge } from './state-memory.js';
import { recover, Replica } from './replay.js';
import { PageToucher, type TouchRange } from './page-toucher.js';
import { basesOf, usedBytes, usedSizes, type StateImage } from '../stdx/state-image.js';
import { encodeBody } from '../journal/snapshot-body.js';
import { waitAtMost } from './wait-at-most.js';
import { ReadModel, type ReadRequest } from './read-model.js';
import type { SnapshotTaken } from './snapshot-stats.js';

export interface SnapshotWorkerData {
  dataDir: string;
  config: EngineConfig;
  /** Capacities the folder does not keep yet: refused when too large (state-memory.ts). */
  newCapacities: boolean;
  outputRing: SharedArrayBuffer;
  /** Int32 word 0: set to 1 to stop. */
  control: SharedArrayBuffer;
  intervalEvents: number;
  intervalMs: number;
  /** Commands since the last snapshot that one due by time needs. */
  timeSequencesMin: number;
  /** Commands since the last snapshot that a clean stop's needs (snapshotAtStopSequencesMin). */
  atStopSequencesMin: number;
  /** How long a stop lets a snapshot being written finish (snapshotStopWaitMs). */
  stopWaitMs: number;
  tailSequence: number;
  /** The node's progress words: the replica's sequence goes there (the read model's lag). */
  progress: SharedArrayBuffer;
  /**
   * A hot standby's snapshotter (see BlpWorkerData.follow); it serves reads as it follows, and
   * sends page hints and, once promoted, its state to the processor on `handover`.
   */
  follow: { notAfter: number; progress: SharedArrayBuffer; handover: MessagePort } | null;
}

async function main(data: SnapshotWorkerData): Promise<void> {
  // Background work: spare CPU only. A standby's snapshotter is its one applier (handover.ts):
  // it keeps its priority until promoted, so that the state is current when it takes over.
  if (data.follow === null) lowerThreadPriority(snapshotThreadNice);
  const db = openJournalDb(data.dataDir, { create: false, readOnly: false });
  const control = new Int32Array(data.control);
  const replica = new Replica(data.config);
  // Here too, before its snapshot buffer (SnapshotWriter) is allocated: whichever worker
  // refuses first, a state too large is said as such, not as that buffer's length limit.
  if (data.newCapacities) refuseStateTooLarge(replica.engine);
  if (data.follow === null) await recover(replica, db, data.dataDir, data.tailSequence);
  else loadFollowerSnapshot(replica, db, data.follow.notAfter);
  db.root.resetReadTxn();
  const progress = new JournalProgress(data.progress);
  progress.set(ProgressSlot.readModelSequence, replica.sequence);
  const snapshots = new SnapshotWriter(db, replica, data);
  const reads = new ReadModel(replica, (message) => parentPort?.postMessage(message));
  const onRequest = (request: ReadRequest): void => reads.onMessage(request);
  parentPort?.on('message', onRequest);
  parentPort?.postMessage({ type: 'ready', sequence: replica.sequence });
  // Atomics.waitAsync and pool results do not keep a worker's event loop alive.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const stopped = (): boolean => Atomics.load(control, 0) !== 0;
  const promoted =
    data.follow !== null && (await followUntilPromoted(data.follow, db, snapshots, stopped));
  const ring = RingBuffer.attach(data.outputRing);
  const barrier = new SequenceBarrier(ring, 2, new WaitStrategy(0, ringSleepMs), [ahead(data)]);
  let turnedAt = performance.now();
  while (!stopped()) {
    const available = barrier.available();
    if (after(available, barrier.position())) {
      applyThrough(replica, barrier, available);
      progress.set(ProgressSlot.readModelSequence, replica.sequence); // once per batch
      snapshots.takeIfDue();
      // Let queries, book views and the snapshot task's completion in now and then.
      if (snapshots.writing !== null || performance.now() - turnedAt >= readModelYieldMs) {
        await new Promise((resolve) => setImmediate(resolve));
        turnedAt = performance.now();
      }
      continue;
    }
    turnedAt = performance.now();
    if (ring.halted()) break;
    if (snapshots.preparing()) {
      snapshots.takeIfDue(); // its pages are touched on idle turns too
      await new Promise((resolve) => setImmediate(resolve)); // queries get their turn
      continue;
    }
    await watchedMoved(barrier);
  }
  // A clean stop. A single node's replica applies what is left in the ring (all journaled by
  // now); a standby's stands at its commit limit. A cluster's primary takes none: its state
  // may run past what a majority holds, and a start loads no snapshot past its commit.
  if (data.follow === null) {
    const left = barrier.available();
    if (after(left, barrier.position())) applyThrough(replica, barrier, left);
  }
  if (!promoted) snapshots.takeAtStop();
  await snapshots.settled();
  reads.stop();
  parentPort?.off('message', onRequest);
  clearInterval(keepAlive);
  closeJournalDb(db);
  parentPort?.postMessage({ type: 'stopped' });
}

/**
 * A hot standby's snapshotter: applies the journal up to the commit limit (follower.ts); once
 * promoted, at the journal's end, hands its state to the processor (handover.ts). Whether it
 * was promoted (false: stopped first).
 */
async function followUntilPromoted(
  follow: NonNullable<SnapshotWorkerData['follow']>,
  db: JournalDb,
  snapshots: SnapshotWriter,
  stopped: () => boolean,
): Promise<boolean> {
  const replica = snapshots.replica;
  const progress = new JournalProgress(follow.progress);
  const post = (message: TouchHint): void => follow.handover.postMessage(message);
  const applied = (): void => {
    progress.set(ProgressSlot.sequencePublished, replica.sequence); // for /health
    progress.set(ProgressSlot.readModelSequence, replica.sequence);
    snapshots.takeIfDue();
    snapshots.warmForHandover(post);
  };
  const promoted = await followJournal(replica, db, progress, stopped, applied);
  // For the processor, which takes over from it; the node hears only that it was promoted.
  if (promoted) follow.handover.postMessage(await snapshots.handOver());
  follow.handover.close();
  if (!promoted) return false;
  parentPort?.postMessage({ type: 'promoted', sequence: replica.sequence });
  lowerThreadPriority(snapshotThreadNice);
  return true;
}

/**
 * The consumer the replica follows in the output ring: the journal writer (0) on a single node,
 * where durable is final; on a cluster's primary, the publisher (1), which passes only events
 * committed on a majority (its quorum gate). Behind the journal writer alone, the primary's
 * reads showed commands durable on its disk but not yet on a majority (applied 1,817,056 while
 * committed was 1,816,928), which a failover may still cut: never acknowledged, yet read. The
 * publisher releases whole committed batches (a commit ends at an entry, one journal batch),
 * so snapshots still stand at a batch's end.
 */
function ahead(data: SnapshotWorkerData): number {
  return data.follow === null ? 0 : 1;
}

/** Resolves when the word this consumer watches changes, or after ringSleepMs. */
async function watchedMoved(barrier: SequenceBarrier): Promise<void> {
  const header = barrier.ring.header;
  const word = barrier.watchedWord();
  const seen = Atomics.load(header, word);
  Atomics.add(header, word + 1, 1);
  const result = Atomics.waitAsync(header, word, seen, ringSleepMs);
  if (result.async) await result.value;
  Atomics.sub(header, word + 1, 1);
}

/** Applies ring sequences (position, last], read ahead in runs, and releases them. */
function applyThrough(replica: Replica, barrier: SequenceBarrier, last: number): void {
  const ring = barrier.ring;
  const count = distance(last, barrier.position());
  const first = (barrier.position() + 1) | 0;
  for (let start = 0; start < count; start += prefetchCommandsMax) {
    const end = Math.min(start + prefetchCommandsMax, count);
    for (let i = start; i < end; i++) replica.noteRecord(ring.records, ring.slot((first + i) | 0));
    replica.readNoted();
    for (let i = start; i < end; i++) replica.applyRecord(ring.records, ring.slot((first + i) | 0));
  }
  barrier.release(last);
}

/**
 * Takes snapshots: encodes the replica's arrays, between two batches, into one preallocated
 * SharedArrayBuffer (snapshot-body.ts: the body as stored, so the buffer's pages in use follow
 * the state in use) and hands it to a piscina task that hashes and writes it. One snapshot is
 * in flight at a time. A promotion copies the state whole into the same buffer (handOver).
 */
class SnapshotWriter {
  writing: Promise<void> | null = null;
  readonly replica: Replica;
  private readonly db: JournalDb;
  private readonly data: SnapshotWorkerData;
  private readonly state: SharedArrayBuffer;
  private readonly stateBytes: Uint8Array;
  private readonly pool: Piscina;
  private takenAt = performance.now();
  private readonly abort = new Int32Array(new SharedArrayBuffer(4));
  private appliedAt: number;
  /** The sequence of the newest snapshot: loaded at the start, or taken since. */
  private snapshotSequence: number;
  /** A snapshot is due and its pages are being touched (see PageToucher), or null. */
  private toucher: PageToucher | null = null;
  /**
   * The last write found no batch ending at the replica's sequence in LMDB: with the journal
   * log (journal-log.ts) LMDB takes a durable batch moments after the ring hands it on. Idle
   * turns try again (preparing), or the last snapshot due waited for the next command.
   */
  private lagging = false;
  /** When the snapshot being prepared fell due (its pages' touching began). */
  private dueAt = 0;
  /** Where each array starts in `state`. */
  private readonly offsets: number[];
  /** Handed over (handover.ts): `state` is the processor's until word 0 turns 1. */
  private lentTo: Int32Array | null = null;
  /** A standby's: the pages of `state` a handover would write, touched ahead. */
  private warming: PageToucher | null = null;
  private hintedAt = -Infinity;
  /** The newest snapshot's body bytes: the part of `state` the next one will write (touched). */
  private bodyBytes: number;

  constructor(db: JournalDb, replica: Replica, data: SnapshotWorkerData) {
    this.db = db;
    this.replica = replica;
    this.data = data;
    const lengths = replica.engine.image().arrays.map((a) => a.byteLength);
    // Each array 8-byte aligned, as the encoder reads words (snapshot-runs.ts).
    let at = 0;
    this.offsets = lengths.map((n) => {
      const start = at;
      at += Math.ceil(n / 8) * 8;
      return start;
    });
    this.state = new SharedArrayBuffer(at);
    this.stateBytes = new Uint8Array(this.state);
    this.appliedAt = replica.eventsApplied;
    this.snapshotSequence = replica.snapshot?.sequence ?? 0;
    this.bodyBytes = 0;
    for (const [, stored] of replica.snapshot?.arrays ?? []) this.bodyBytes += stored;
    this.bodyBytes = Math.min(this.bodyBytes, at);
    this.pool = new Piscina({
      execArgv: [...piscinaExecArgv],
      filename: new URL('../journal/snapshot-task.js', import.meta.url).href,
      // No thread until the first snapshot: a pool thread is loading LMDB's native module for
      // a while after it starts, and a node stopped then (tests start and stop nodes within
      // half a second) terminated it there, which aborts the process ("FATAL ERROR ...
      // napi_throw", once in a CI run). Stopping waits for the snapshot being written, so a
      // thread is only ever ended idle. It stays a minute between snapshots.
      minThreads: 0,
      maxThreads: 1,
      idleTimeout: 60_000,
    });
  }

  preparing(): boolean {
    return this.toucher !== null || this.lagging;
  }

  /**
   * Called after each batch of events and on idle turns (either way the replica is at a
   * journal batch's end). Once a snapshot is due, the next calls touch its pages first, then
   * one copies and hands it over.
   */
  takeIfDue(): void {
    if (this.writing !== null) return;
    if (this.lentTo !== null) {
      if (Atomics.load(this.lentTo, 0) === 0) return;
      this.lentTo = null;
    }
    const r = this.replica;
    if (this.toucher === null) {
      const due =
        r.eventsApplied - this.appliedAt >= this.data.intervalEvents ||
        (performance.now() - this.takenAt >= this.data.intervalMs &&
          r.sequence - this.snapshotSequence >= this.data.timeSequencesMin);
      if (!due) return;
      this.dueAt = performance.now();
      this.toucher = this.pagesToTouch(false);
    }
    if (this.toucher.touch(snapshotTouchPagesPerTurn)) return;
    this.toucher = null;
    this.write();
  }

  /**
   * A clean stop: a snapshot of the state as it stands when the newest is
   * `atStopSequencesMin` commands old or more (its pages are not touched first: nothing
   * waits on this thread now). `settled` gives it `stopWaitMs` (snapshotStopWaitMs).
   */
  takeAtStop(): void {
    if (this.writing !== null) return; // one is being written: settled waits for it
    if (this.lentTo !== null && Atomics.load(this.lentTo, 0) === 0) return;
    if (this.replica.sequence - this.snapshotSequence < this.data.atStopSequencesMin) return;
    this.toucher = null;
    this.dueAt = performance.now(); // nothing touched first
    this.write();
  }

  /**
   * Encodes the state and hands it to the pool to write (the replica is at a batch's end). The
   * time reported runs from when the snapshot fell due, in its parts: touching its pages, the
   * encoding (copyMs), and the pool's write. (It ran from after the copy: a soak's 15.8 s
   * snapshot was reported without the copy and the touching before it.)
   */
  private write(): void {
    const r = this.replica;
    const batch = journalBatchEndingAt(this.db, r.sequence);
    this.db.root.resetReadTxn();
    this.lagging = batch === null; // not in LMDB yet (journal-log.ts): tried again soon
    if (batch === null) return;
    this.takenAt = performance.now();
    this.appliedAt = r.eventsApplied;
    this.snapshotSequence = r.sequence;
    const touchMs = this.takenAt - this.dueAt;
    const task = this.encode(Buffer.from(batch.hash).toString('hex'));
    const copied = performance.now();
    const copyMs = copied - this.takenAt;
    const sequence = r.sequence;
    this.writing = (this.pool.run(task) as Promise<SnapshotTaskResult>).then(
      (done) => {
        this.writing = null;
        const writeMs = performance.now() - copied;
        if (done.sequence < 0) return; // aborted: the node is stopping
        const ms = touchMs + copyMs + writeMs;
        const bytes = done.storedBytes;
        const taken: SnapshotTaken = { sequence, ms, touchMs, copyMs, writeMs, bytes };
        parentPort?.postMessage({ type: 'snapshot', ...taken });
      },
      (error: unknown) => {
        // A snapshot only shortens a restart (the journal is the record): the node goes on,
        // and the next one is tried at the next interval; its parts written so far are removed
        // then (clearFor). A full disk stops the node at its next journal batch.
        this.writing = null;
        const failure = writeFailure(error, `the snapshot at sequence ${sequence}`, sequence);
        parentPort?.postMessage({ type: 'snapshot-failed', sequence, text: failure.message });
      },
    );
  }

  /**
   * What a snapshot's encoding reads (the replica's arrays in use) and writes (the start of
   * `state`, about as far as the newest body went: the body's size is known once encoded); for
   * a handover's copy, what it writes is each array's used bytes at its place in `state`.
   */
  private pagesToTouch(handover: boolean): PageToucher {
    const image = this.replica.engine.image();
    const ranges: TouchRange[] = [];
    for (let i = 0; i < image.arrays.length; i++) {
      const a = image.arrays[i];
      const length = usedBytes(image, i);
      ranges.push({ bytes: new Uint8Array(a.buffer, a.byteOffset, length), length, write: false });
      if (!handover) continue;
      const target = new Uint8Array(this.state, this.offsets[i], length);
      ranges.push({ bytes: target, length, write: true });
    }
    if (!handover) {
      // The newest body and an eighth more, as the state grows (past it, pages fault inline).
      const length = Math.min(this.stateBytes.byteLength, this.bodyBytes + (this.bodyBytes >>> 3));
      ranges.push({ bytes: this.stateBytes, length, write: true });
    }
    return new PageToucher(ranges);
  }

  /**
   * A hot standby, after each step of following and on idle turns: every `handoverHintMs` it
   * names the sizes in use to the processor, and touches the pages a handover's copy reads
   * (never-written parts of tables map the zero page at their first read) and writes, a few per
   * turn (PageToucher keeps each byte's value: a snapshot task may be reading `state`).
   */
  warmForHandover(post: (hint: TouchHint) => void): void {
    if (this.warming !== null && this.warming.touch(handoverTouchPagesPerTurn)) return;
    this.warming = null;
    if (performance.now() - this.hintedAt < handoverHintMs) return;
    this.hintedAt = performance.now();
    this.warming = this.pagesToTouch(true);
    post({ type: 'touch', used: usedSizes(this.replica.engine.image()) });
  }

  /**
   * Promotion: the replica's state, copied into `state`, for the processor, which restores it
   * from there and releases it; no snapshot is taken until then. One being written is cut short.
   */
  async handOver(): Promise<Handover> {
    if (this.writing !== null) {
      Atomics.store(this.abort, 0, 1);
      await this.writing;
      Atomics.store(this.abort, 0, 0);
    }
    this.toucher = null;
    this.warming = null;
    const handover = describeHandover(this.replica, this.copyState(), this.state, this.offsets);
    this.lentTo = new Int32Array(handover.released);
    return handover;
  }

  /**
   * Copies the replica's state (what is in use of it) into `state`; returns its image and the
   * bytes copied of each array.
   */
  private copyState(): { image: StateImage; used: number[] } {
    const image = this.replica.engine.image();
    const used = usedSizes(image);
    for (let i = 0; i < image.arrays.length; i++) {
      const a = image.arrays[i];
      this.stateBytes.set(new Uint8Array(a.buffer, a.byteOffset, used[i]), this.offsets[i]);
    }
    return { image, used };
  }

  /**
   * The replica's state encoded into the shared buffer (snapshot-body.ts), as a task: the
   * replica's image as it stands now, whatever it applies while the pool writes.
   */
  private encode(batchHash: string): SnapshotTask {
    const image = this.replica.engine.image();
    const { arrays, bodyBytes } = encodeBody(this.stateBytes, image);
    this.bodyBytes = bodyBytes;
    const r = this.replica;
    return {
      dataDir: this.data.dataDir,
      state: this.state,
      arrays,
      bodyBytes,
      bases: basesOf(image),
      counters: [...image.counters],
      fields: {
        sequence: r.sequence,
        timestamp: r.timestamp,
        batchHash,
        config: this.data.config,
        stateChecksum: r.engine.checksum.hex(),
      },
      keep: snapshotKeepCount,
      abort: this.abort.buffer as SharedArrayBuffer,
    };
  }

  /**
   * Stopping: a snapshot being written may finish within `stopWaitMs` (the next start
   * is then shorter); past that it stops at its next step (at nice 19 on busy cores a write
   * took 13 s, and a member's stop waited for it past its supervisor's patience). Then the
   * pool's thread ends idle.
   */
  async settled(): Promise<void> {
    const writing = this.writing;
    if (writing !== null) {
      await waitAtMost(writing, this.data.stopWaitMs);
      Atomics.store(this.abort, 0, 1);
      await writing;
    }
    await this.pool.destroy();
  }
}

await main(workerData as SnapshotWorkerData);
