import { assert as assertImport, assertRoom as assertRoomImport } from './assert.js';
import { ImageBase, pushBased, type StateImage } from './state-image.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const assertRoom: typeof assertRoomImport = assertRoomImport;

/**
 * A free list of slot indexes 0 .. capacity - 1, allocated once (an object pool for
 * struct-of-arrays tables). Slots are handed out lowest first on a fresh pool, and a released
 * slot is reused first, which keeps hot slots in cache. Deterministic: the same sequence of
 * acquire/release calls yields the same slots on every replica.
 */
export class SlotPool {
  private readonly free: Int32Array;
  private freeCount: number;
  readonly capacity: number;
  /**
   * One past the highest slot that may be in use or hold data: the highest slot ever acquired,
   * or after a restore the highest in use (its owner clears a record when it releases it).
   * A table's records past it are zeros (StateImage.used).
   */
  highWater = 0;

  constructor(capacity: number) {
    assert(Number.isSafeInteger(capacity), 'slot-pool: capacity must be an integer');
    assert(capacity > 0, 'slot-pool: capacity must be positive');
    this.capacity = capacity;
    this.free = new Int32Array(capacity);
    this.freeCount = capacity;
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
  }

  available(): number {
    return this.freeCount;
  }

  used(): number {
    return this.capacity - this.freeCount;
  }

  acquire(): number {
    assertRoom(this.freeCount > 0, 'slot-pool: exhausted');
    this.freeCount--;
    const slot = this.free[this.freeCount];
    if (slot >= this.highWater) this.highWater = slot + 1;
    return slot;
  }

  release(slot: number): void {
    assert(slot >= 0 && slot < this.capacity, 'slot-pool: slot out of range');
    assert(this.freeCount < this.capacity, 'slot-pool: released more than acquired');
    this.free[this.freeCount] = slot;
    this.freeCount++;
  }

  saveImage(image: StateImage): void {
    // Slots are handed out from the top of the list, so its bottom keeps the constructor's
    // countdown below the highest slot ever used: a snapshot stores only what differs from it.
    pushBased(image, this.free, ImageBase.Countdown);
    image.counters.push(this.freeCount);
  }

  loadCounters(counters: readonly number[], at: number): number {
    this.freeCount = counters[at];
    this.restore();
    return at + 1;
  }

  /** After a restore: the high water is one past the highest slot not on the free list. */
  private restore(): void {
    const free = new Uint8Array(this.capacity); // a mark per slot, once per restart
    for (let i = 0; i < this.freeCount; i++) free[this.free[i]] = 1;
    let slot = this.capacity - 1;
    while (slot >= 0 && free[slot] === 1) slot--;
    this.highWater = slot + 1;
  }
}
