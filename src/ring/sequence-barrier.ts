/**
 * The consumer side of a ring: consumer `index` waits for the producer's cursor (and, when it
 * depends on other consumers, for theirs: e.g. acknowledging only what the journal has made
 * durable), processes a whole batch, then releases it with one store (end of batch).
 */
import { after, consumerWord, distance, RingWord } from './ring-layout.js';
import type { RingBuffer } from './ring-buffer.js';
import { publishWord, type WaitStrategy } from './wait-strategy.js';

export class SequenceBarrier {
  readonly ring: RingBuffer;
  readonly index: number;
  private readonly wait: WaitStrategy;
  /** Consumers that must pass a sequence before this one may read it. */
  private readonly dependsOn: readonly number[];
  /** Last sequence released by this consumer. */
  private released: number;

  constructor(
    ring: RingBuffer,
    index: number,
    wait: WaitStrategy,
    dependsOn: readonly number[] = [],
  ) {
    this.ring = ring;
    this.index = index;
    this.wait = wait;
    this.dependsOn = dependsOn;
    this.released = Atomics.load(ring.header, consumerWord(index));
  }

  /** The last sequence this consumer released. */
  position(): number {
    return this.released;
  }

  /** The highest sequence readable now (== position() when nothing new). Never blocks. */
  available(): number {
    let limit = Atomics.load(this.ring.header, RingWord.cursor);
    for (let i = 0; i < this.dependsOn.length; i++) {
      const dep = Atomics.load(this.ring.header, consumerWord(this.dependsOn[i]));
      if (distance(dep, limit) < 0) limit = dep;
    }
    return limit;
  }

  /** True when something past position() is readable, or the ring was halted. */
  ready(limit: number): boolean {
    return after(limit, this.released) || this.ring.halted();
  }

  /** The word whose change means there may be more to read. */
  watchedWord(): number {
    return this.dependsOn.length === 0 ? RingWord.cursor : consumerWord(this.dependsOn[0]);
  }

  /** Blocks until something past position() is readable or the ring halts; returns available(). */
  waitFor(): number {
    for (;;) {
      const limit = this.available();
      if (this.ready(limit)) return limit;
      const word = this.watchedWord();
      this.wait.waitChange(this.ring.header, word, Atomics.load(this.ring.header, word));
    }
  }

  /**
   * waitFor's one round: returns available() after at most one bounded wait (a spin, then one
   * sleep of at most the strategy's sleepMs), even when nothing new came, so that an idle
   * consumer can do its periodic work between sleeps.
   */
  waitOnce(): number {
    const limit = this.available();
    if (this.ready(limit)) return limit;
    const word = this.watchedWord();
    this.wait.waitChange(this.ring.header, word, Atomics.load(this.ring.header, word));
    return this.available();
  }

  /** Frees every slot up to `sequence` for the producer. */
  release(sequence: number): void {
    this.released = sequence;
    publishWord(this.ring.header, consumerWord(this.index), sequence);
  }
}
