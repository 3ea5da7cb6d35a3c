/**
 * The publisher: consumer 1 of the output ring, behind the journal writer (consumer 0), so it
 * sees only durable events. It hands them to a listener (the gateway's responses, later) one
 * contiguous run of ring slots at a time, then releases them.
 *
 *   output ring  [ durable ............ | committing ..... | published ]
 *                 ▲ publisher (1)         ▲ journal (0)      ▲ cursor
 */
import { ringSleepMs, ringSpinCount } from '../constants.js';
import { readU64, RecordBuffer } from '../stdx/records.js';
import { assert } from '../stdx/assert.js';
import type { RingBuffer } from '../ring/ring-buffer.js';
import { SequenceBarrier } from '../ring/sequence-barrier.js';
import { WaitStrategy } from '../ring/wait-strategy.js';
import { waitForAsync } from '../ring/async-wait.js';
import { after, distance, RingWord } from '../ring/ring-layout.js';
import { EventWord } from '../protocol/event-layout.js';

/**
 * Receives `count` durable events at ring slots `slot` .. `slot + count - 1` of `records`; the
 * views are valid only during the call.
 */
export type DurableListener = (records: RecordBuffer, slot: number, count: number) => void;

export class Publisher {
  private readonly barrier: SequenceBarrier;
  private readonly listeners: DurableListener[] = [];
  eventsPublished = 0;
  /**
   * In a cluster, the highest event sequence committed (durable on a majority): events past it
   * wait, even when durable here. Null on a single node, where durable is enough.
   */
  gate: (() => number) | null = null;
  /**
   * Set when events still waiting can never be answered: a deposed primary's (no quorum will
   * commit them) and a failed node's (its journal writer stopped: they will never be durable).
   * Once the ring is halted they are left unanswered (their clients send them again, to the
   * node that takes over, whose journal decides them) instead of waited for forever.
   */
  abandon = false;
  /** The copy of a command whose events straddle the ring's end (deliverWrapped). */
  private readonly straddle: RecordBuffer;
  /** Ends the current wait for the quorum (see `wake`), or null. */
  private wakeWait: (() => void) | null = null;

  constructor(ring: RingBuffer) {
    this.barrier = new SequenceBarrier(ring, 1, new WaitStrategy(ringSpinCount, ringSleepMs), [0]);
    // A command's events fit the ring's spill area (eventsPerCommandMax), so they fit this.
    this.straddle = RecordBuffer.allocate(Math.max(1, ring.spill), ring.slotSizeBytes);
  }

  listen(listener: DurableListener): void {
    this.listeners.push(listener);
  }

  /** Runs until the ring is halted and every published event has passed through. */
  async run(): Promise<void> {
    const ring = this.barrier.ring;
    for (;;) {
      const durable = await waitForAsync(this.barrier, ringSleepMs);
      const available = this.gated(durable);
      if (after(available, this.barrier.position())) {
        this.deliver(available);
        continue;
      }
      if (available !== durable) {
        if (this.abandon && ring.halted()) return;
        await this.quorumWait();
        continue;
      }
      if (!ring.halted()) continue;
      if (this.barrier.position() === Atomics.load(ring.header, RingWord.cursor)) return;
      if (this.abandon) return;
      await new Promise((resolve) => setTimeout(resolve, 1)); // draining after halt
    }
  }

  /**
   * The event sequence the next run handed to the listeners goes on after, when one is durable
   * and waits (the publisher polls the ring, and a cluster's waits for the quorum too); null
   * when none waits. Where the gateway's topics go on before they had a run (topics-tail.ts).
   */
  waitingAfter(): number | null {
    const position = this.barrier.position();
    if (!after(this.barrier.available(), position)) return null;
    return this.sequenceAt((position + 1) | 0) - 1;
  }

  /** A cluster's commit moved: a publisher waiting for the quorum looks again now. */
  wake(): void {
    const wake = this.wakeWait;
    this.wakeWait = null;
    if (wake !== null) wake();
  }

  /**
   * Waits for `wake` (the commit moved), 1 ms at most. Polling alone made each result wait for
   * the next timer after its quorum, a millisecond or more on a loaded machine.
   */
  private quorumWait(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake(), 1);
      this.wakeWait = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * The last ring sequence at or before `available` whose event is committed. Slots hold one
   * event each in sequence order, but a command may have several events under its one
   * sequence (an order and its fills, a linked chain, expiries) or none yet (a chain still
   * open), so ring and event sequences do not differ by a constant: the cut is searched for.
   * (Taking it as a constant delivered the head of an order before its fills, and so answered
   * the client with the head alone, or worse a command not yet committed.)
   */
  private gated(available: number): number {
    if (this.gate === null || !after(available, this.barrier.position())) return available;
    const committed = this.gate();
    if (this.sequenceAt(available) <= committed) return available;
    // Invariant: `low` is delivered or committed, `high` is past the commit.
    let low = this.barrier.position();
    let high = available;
    while (distance(high, low) > 1) {
      const middle = (low + (distance(high, low) >> 1)) | 0;
      if (this.sequenceAt(middle) <= committed) low = middle;
      else high = middle;
    }
    return low;
  }

  /** The event sequence of the event in ring slot `ringSequence`. */
  private sequenceAt(ringSequence: number): number {
    const ring = this.barrier.ring;
    return readU64(ring.records.u32, ring.slot(ringSequence) * EventWord.size + EventWord.sequence);
  }

  private deliver(last: number): void {
    const ring = this.barrier.ring;
    const first = (this.barrier.position() + 1) | 0;
    const count = distance(last, first) + 1;
    const slot = ring.slot(first);
    const head = Math.min(count, ring.slotCount - slot);
    if (head === count) this.emit(ring.records, slot, count);
    else this.deliverWrapped(slot, head, count - head);
    this.eventsPublished += count;
    this.barrier.release(last);
  }

  /**
   * A run that goes past the ring's end: `head` events from `slot`, then `wrapped` from slot 0.
   * A command's events never go out in two calls (the gateway frames each call, and marks a
   * cut inside a command, EventsFlag.More, only within a call), so the command that straddles
   * the end goes from a copy:
   *
   *   ring   [ c c . . . . . a b b ]     a, b, c: commands; b's events straddle the end
   *   calls  (a)  (b b b, copied)  (c c)
   */
  private deliverWrapped(slot: number, head: number, wrapped: number): void {
    const ring = this.barrier.ring;
    const end = ring.slotCount;
    const straddling = this.sequenceAt(end - 1);
    if (this.sequenceAt(0) !== straddling) {
      this.emit(ring.records, slot, head);
      this.emit(ring.records, 0, wrapped);
      return;
    }
    let from = end - 1;
    while (from > slot && this.sequenceAt(from - 1) === straddling) from--;
    let to = 0;
    while (to < wrapped && this.sequenceAt(to) === straddling) to++;
    const n = end - from + to;
    assert(n <= this.straddle.capacity, 'publisher: one command fits the copy');
    const size = ring.slotSizeBytes;
    this.straddle.u8.set(ring.records.u8.subarray(from * size, end * size), 0);
    this.straddle.u8.set(ring.records.u8.subarray(0, to * size), (end - from) * size);
    if (from > slot) this.emit(ring.records, slot, from - slot);
    this.emit(this.straddle, 0, n);
    if (to < wrapped) this.emit(ring.records, to, wrapped - to);
  }

  private emit(records: RecordBuffer, slot: number, count: number): void {
    for (const listener of this.listeners) listener(records, slot, count);
  }
}
