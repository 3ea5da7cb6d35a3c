/**
 * The producer side of a ring. One ring has exactly one producer thread (no claim CAS):
 *
 *   gateway thread A ──► ring A ──┐
 *   gateway thread B ──► ring B ──┼──► business-logic processor (reads each ring in turn)
 *   bench producer   ──► ring C ──┘
 *
 * We chose one ring per producer over a multi-producer claim: a claim needs a CAS per batch and a
 * per-slot availability map the consumer must scan, while an SPSC ring needs only the cursor
 * store. The order between producers is decided where it has to be anyway: when the processor
 * takes commands and stamps their sequence numbers.
 *
 * Usage: `reserve(n)` waits until `n` slots are free, the producer writes them from
 * `slot(nextSequence())`, `advance(k)` takes k <= n of them, and `publish()` makes everything
 * advanced so far visible with one store (end of batch).
 */
import { assert } from '../stdx/assert.js';
import { after, consumerWord, distance, RingWord } from './ring-layout.js';
import type { RingBuffer } from './ring-buffer.js';
import { publishWord, type WaitStrategy } from './wait-strategy.js';

export class Sequencer {
  readonly ring: RingBuffer;
  private readonly wait: WaitStrategy;
  /** Last sequence advanced (written) by this producer. */
  private last: number;
  /** Last sequence published. */
  private published: number;
  /** The slowest consumer's sequence, as last read (refreshed only when space looks short). */
  private gate: number;
  /** The consumer `gate` was read from. */
  private gateConsumer = 0;

  constructor(ring: RingBuffer, wait: WaitStrategy) {
    this.ring = ring;
    this.wait = wait;
    this.last = Atomics.load(ring.header, RingWord.cursor);
    this.published = this.last;
    this.gate = this.slowest();
  }

  /** The next sequence to write. */
  nextSequence(): number {
    return (this.last + 1) | 0;
  }

  /** True when `n` more slots are free (never blocks). */
  hasRoom(n: number): boolean {
    const wrap = (this.last + n - this.ring.slotCount) | 0;
    if (!after(wrap, this.gate)) return true;
    this.gate = this.slowest();
    return !after(wrap, this.gate);
  }

  /** Waits until `n` more slots are free; false if the ring was halted meanwhile. */
  reserve(n: number): boolean {
    assert(n <= this.ring.slotCount, 'sequencer: reservation fits the ring');
    while (!this.hasRoom(n)) {
      if (this.ring.halted()) return false;
      this.publish(); // consumers must see what we wrote, or they will never free space
      // hasRoom just read the gate; wait for the consumer it came from to move on.
      this.wait.waitChange(this.ring.header, consumerWord(this.gateConsumer), this.gate);
    }
    return true;
  }

  /** Takes `k` written slots (k <= the last reservation). */
  advance(k: number): void {
    this.last = (this.last + k) | 0;
  }

  /**
   * Copies records written past the last slot into the spill area back to the start of the ring,
   * for a group of `count` records starting at sequence `first`. Call before publishing them.
   */
  spill(first: number, count: number): void {
    const ring = this.ring;
    const start = ring.slot(first);
    const over = start + count - ring.slotCount;
    if (over <= 0) return;
    assert(over <= ring.spill, 'sequencer: group fits the spill area');
    const words = ring.slotSizeBytes >> 2;
    const u32 = ring.records.u32;
    u32.copyWithin(0, ring.slotCount * words, (ring.slotCount + over) * words);
  }

  /** Makes every advanced slot visible to consumers (one atomic store). */
  publish(): void {
    if (this.published === this.last) return;
    this.published = this.last;
    publishWord(this.ring.header, RingWord.cursor, this.last);
  }

  /**
   * The lowest consumer sequence, from one pass over their words; its consumer goes to
   * `gateConsumer`. (Finding the slowest consumer, then loading its word again, raced: if it
   * advanced in between past another one, the gate came out ahead of that one and the producer
   * overwrote slots it had not read. Each word only moves forward, so the minimum of one pass
   * is never ahead of any consumer.)
   */
  private slowest(): number {
    const header = this.ring.header;
    let index = 0;
    let slowest = Atomics.load(header, consumerWord(0));
    for (let i = 1; i < this.ring.consumers; i++) {
      const seq = Atomics.load(header, consumerWord(i));
      if (distance(seq, slowest) < 0) {
        slowest = seq;
        index = i;
      }
    }
    this.gateConsumer = index;
    return slowest;
  }
}
