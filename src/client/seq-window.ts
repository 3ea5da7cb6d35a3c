/**
 * The SDK's single commands in flight, by client seq: a circular window over the seqs from the
 * oldest one still held to the newest one set. Client seqs are handed out one after another
 * and answered mostly in order, so the window stays about as long as the commands in flight.
 *
 *   seqs:   base                     end
 *            v                        v
 *   slots:  [ p | - | p | p | - | p ]      slot of seq s: s & mask; '-' answered or a batch's
 *
 * Why not a Map: a streaming client adds and deletes an entry per command, and V8's Map then
 * keeps replacing its hash table. Measured with bench:e2e's open loop (one process, 100k
 * single commands/s): with a Map, 55% of the young generation survived each scavenge and was
 * promoted, scavenges paused 6-16 ms every ~50 ms and old-space collections followed every
 * second; with this window, scavenges took under 1 ms every ~100 ms, nothing was promoted, and
 * p99 from send to answer went from 17.8 to 6-7 ms. A retired table that had reached the old
 * generation still points at the young entries it held, which keeps them alive through the
 * next scavenge (nepotism); an array whose slots are cleared holds nothing.
 */
import { assert } from '../stdx/assert.js';

const initialCapacity = 1024;

export class SeqWindow<T> {
  private slots: (T | undefined)[];
  private mask: number;
  /** The oldest seq held (when size > 0). */
  private base = 0;
  /** One past the newest seq set. */
  private end = 0;
  size = 0;

  constructor() {
    this.slots = new Array<T | undefined>(initialCapacity).fill(undefined);
    this.mask = initialCapacity - 1;
  }

  get(seq: number): T | undefined {
    if (seq < this.base || seq >= this.end) return undefined;
    return this.slots[seq & this.mask];
  }

  /** Holds `value` for `seq`, which must be newer than every seq set before. */
  set(seq: number, value: T): void {
    assert(seq >= this.end, 'seq-window: seqs are set in increasing order');
    if (this.size === 0) this.base = seq;
    if (seq - this.base > this.mask) this.grow(seq - this.base + 1);
    this.slots[seq & this.mask] = value;
    this.end = seq + 1;
    this.size++;
  }

  /** Seqs from `seq` on, none held now, may be set again (the SDK gave them up). */
  rewind(seq: number): void {
    assert(seq <= this.end, 'seq-window: rewinds to a seq set before');
    for (let s = Math.max(seq, this.base); s < this.end; s++) {
      assert(this.slots[s & this.mask] === undefined, 'seq-window: seqs given up are not held');
    }
    this.end = seq;
    if (this.size === 0) this.base = seq;
  }

  delete(seq: number): boolean {
    if (this.get(seq) === undefined) return false;
    this.slots[seq & this.mask] = undefined;
    this.size--;
    if (this.size === 0) this.base = this.end;
    // Answers come mostly in order: the oldest seq moves up past the ones answered before it.
    else if (seq === this.base) {
      while (this.slots[this.base & this.mask] === undefined) this.base++;
    }
    return true;
  }

  /** The values held, oldest seq first. */
  values(): T[] {
    const out: T[] = [];
    for (let seq = this.base; seq < this.end; seq++) {
      const value = this.slots[seq & this.mask];
      if (value !== undefined) out.push(value);
    }
    return out;
  }

  clear(): void {
    for (let seq = this.base; seq < this.end; seq++) this.slots[seq & this.mask] = undefined;
    this.size = 0;
    this.base = this.end;
  }

  /** Doubles the slots until `span` seqs fit (a command held long while others stream by). */
  private grow(span: number): void {
    let capacity = this.slots.length;
    while (capacity < span) capacity *= 2;
    const slots = new Array<T | undefined>(capacity).fill(undefined);
    for (let seq = this.base; seq < this.end; seq++) {
      slots[seq & (capacity - 1)] = this.slots[seq & this.mask];
    }
    this.slots = slots;
    this.mask = capacity - 1;
  }
}
