/**
 * The business-logic processor's loop: the one thread that decides.
 *
 *   input ring (commands)                          output ring (events)
 *   [ c c c c c c ]──► stamp seq + time ──► engine.execute ──► [ e e e e e e e e ]
 *     └ batch ┘          (one clock read        (writes events     └ published at the
 *                          per batch)             in place)          end of the batch
 *
 * Per batch: read the clock once; read ahead the state of up to prefetchCommandsMax commands at
 * a time (their cache misses overlap: engine/prefetch.ts), then for each of them stamp its
 * sequence and timestamp into its slot, reserve room for the most events one command can write,
 * execute straight into the output ring, copy any events written past the ring's end to its
 * start (spill), advance; then publish all of them with one store and release the input batch.
 * Nothing here allocates.
 */
import type { Engine } from '../engine/engine.js';
import { assert } from '../stdx/assert.js';
import { write64 } from '../stdx/records.js';
import { SequencedWord } from '../protocol/command-layout.js';
import type { SequenceBarrier } from '../ring/sequence-barrier.js';
import type { Sequencer } from '../ring/sequencer.js';
import { after, distance } from '../ring/ring-layout.js';
import { JournalProgress, ProgressSlot } from '../journal/journal-progress.js';
import { prefetchCommandsMax } from '../constants.js';
import { clockUs, nextTimestampUs } from './logical-time.js';

export class BusinessLogicProcessor {
  private readonly engine: Engine;
  private readonly input: SequenceBarrier;
  private readonly output: Sequencer;
  private readonly progress: JournalProgress;
  private readonly batchMax: number;
  private readonly room: number;
  /** [last sequence stamped, last timestamp stamped] (logical-time.ts: it never goes back). */
  private readonly clock = new Float64Array(2);
  commandsProcessed = 0;
  /** Batches decided (ProgressSlot.processorBatches). */
  batchesProcessed = 0;
  /**
   * Called at most once a second, after a batch or while idle (never per command): the worker
   * samples its GC profiler and the capacity tables' use for /metrics there. Idle, the loop
   * wakes every ringSleepMs anyway, so the last batch's effect is sampled too (it was not:
   * the gauges kept whatever the batch before it left, until traffic came back).
   */
  onSecond: (() => void) | null = null;
  private secondDueUs = 0;
  /** The clock batches are stamped from (µs; logical-time.ts): a test's may be set back. */
  private readonly clockNowUs: () => number;

  constructor(
    engine: Engine,
    input: SequenceBarrier,
    output: Sequencer,
    progress: JournalProgress,
    batchMax: number,
    clockNowUs: () => number = clockUs,
  ) {
    assert(output.ring.spill >= engine.eventsPerCommandMax, 'processor: spill fits a command');
    this.engine = engine;
    this.input = input;
    this.output = output;
    this.progress = progress;
    this.batchMax = batchMax;
    this.clockNowUs = clockNowUs;
    this.room = engine.eventsPerCommandMax;
    const position = engine.position();
    this.clock[0] = position[0];
    this.clock[1] = position[1];
    progress.set(ProgressSlot.timestampStamped, position[1]);
    // Holds recovered (or handed over) may be due already: the timer learns of them now.
    progress.set(ProgressSlot.nextExpiryUs, engine.nextExpiryUs());
  }

  /** Processes batches until the input ring is halted and drained. */
  run(): void {
    for (;;) {
      const available = this.input.waitOnce();
      const position = this.input.position();
      if (!after(available, position) || this.output.ring.halted()) {
        if (this.input.ring.halted() || this.output.ring.halted()) return;
        const now = this.clockNowUs();
        if (now >= this.secondDueUs) this.everySecond(now);
        continue;
      }
      const last =
        distance(available, position) > this.batchMax ? (position + this.batchMax) | 0 : available;
      this.processBatch(position, last);
    }
  }

  /** Decides input sequences (from, last], publishes their events, releases the batch. */
  processBatch(from: number, last: number): void {
    const now = this.clockNowUs();
    this.clock[1] = nextTimestampUs(now, this.clock[1]);
    // A run of up to prefetchCommandsMax commands at a time: read ahead, then decide.
    for (let end = from; end !== last;) {
      const start = end;
      end = distance(last, start) > prefetchCommandsMax ? (start + prefetchCommandsMax) | 0 : last;
      this.prefetch(start, end);
      if (!this.decideRun(start, end)) return; // the node failed; nothing more is durable
    }
    // Counted before the events are published: once a command is answered, it is counted.
    this.commandsProcessed += distance(last, from);
    this.progress.set(ProgressSlot.commandsProcessed, this.commandsProcessed);
    this.batchesProcessed += 1;
    this.progress.set(ProgressSlot.processorBatches, this.batchesProcessed);
    this.output.publish();
    this.progress.set(ProgressSlot.sequencePublished, this.clock[0]);
    // Before the release: once the node's expiry timer sees its Tick taken, these are current.
    this.progress.set(ProgressSlot.timestampStamped, this.clock[1]);
    this.progress.set(ProgressSlot.nextExpiryUs, this.engine.nextExpiryUs());
    this.input.release(last);
    if (now >= this.secondDueUs) this.everySecond(now);
  }

  /** Reads ahead the state that input sequences (from, last] will touch (engine/prefetch.ts). */
  private prefetch(from: number, last: number): void {
    const ring = this.input.ring;
    const u32 = ring.records.u32;
    const words = ring.slotSizeBytes >> 2;
    for (let s = (from + 1) | 0; ; s = (s + 1) | 0) {
      this.engine.prefetchNote(u32, ring.slot(s) * words);
      if (s === last) break;
    }
    this.engine.prefetchRead();
  }

  /** Stamps and decides input sequences (from, last]; false when the node failed. */
  private decideRun(from: number, last: number): boolean {
    const ring = this.input.ring;
    const u32 = ring.records.u32;
    const words = ring.slotSizeBytes >> 2;
    for (let s = (from + 1) | 0; ; s = (s + 1) | 0) {
      const w = ring.slot(s) * words;
      this.clock[0] += 1;
      write64(u32, w + SequencedWord.sequence, this.clock[0]);
      write64(u32, w + SequencedWord.timestamp, this.clock[1]);
      if (!this.decide(u32, w)) return false;
      if (s === last) return true;
    }
  }

  private everySecond(nowUs: number): void {
    this.secondDueUs = nowUs + 1_000_000;
    if (this.onSecond !== null) this.onSecond();
  }

  /**
   * Executes one stamped command straight into the output ring. False when the output ring was
   * halted first (a downstream stage failed): the command is left undecided and unacknowledged.
   */
  private decide(u32: Uint32Array, w: number): boolean {
    const out = this.output;
    const ring = out.ring;
    if (!out.reserve(this.room)) return false;
    const first = out.nextSequence();
    const n = this.engine.execute(u32, w, ring.records, ring.slot(first));
    out.spill(first, n);
    out.advance(n);
    return true;
  }
}
