/**
 * Price levels. Each book side is a sorted array of level keys with the best level at the end:
 *
 *   side (instrument i, buy)   keys:  [ 99.0 | 99.5 | 100.0 | 100.5 ]  <- best bid (highest)
 *   side (instrument i, sell)  keys:  [-103  | -102 | -101.5 | -101 ]  <- best ask (lowest)
 *
 * The key is the price for bids and minus the price for asks, so both sides sort ascending and
 * the best level is always the last entry: taking the best level is O(1), and new levels, which
 * mostly appear near the best price, shift few entries. Side arrays for side index
 * s = instrument * 2 + side occupy [s * perSide, (s + 1) * perSide).
 *
 * A level is a packed 32-byte record in a fixed pool:
 *   f64[4l] price   f64[4l + 1] total open quantity   i32[8l + 4] head  5 tail  6 order count
 */
import { assert as assertImport, assertRoom as assertRoomImport } from '../../stdx/assert.js';
import { SlotPool } from '../../stdx/slot-pool.js';
import type { EngineConfig } from '../../constants.js';
import { pushUsed, type StateImage } from '../../stdx/state-image.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const assertRoom: typeof assertRoomImport = assertRoomImport;

const enum LevelI32 {
  head = 4,
  tail = 5,
  count = 6,
  size = 8,
}

/**
 * A level's record index is its slot shifted, its field's offset or-ed in: `(l << 3) | k` is
 * `l * 8 + k` for a level below 2^27 (the constructor asserts levelCountMax) and k below 8,
 * and V8 compiles it without the overflow checks (and jumps) of the multiply and the add, in
 * each inlined accessor (as Orders does; callgrind).
 */
const enum LevelShift {
  f64 = 2,
  i32 = 3,
}

export class Levels {
  readonly pool: SlotPool;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly sideKeys: Float64Array;
  readonly sideLevels: Int32Array;
  readonly sideCount: Int32Array;
  readonly perSide: number;

  constructor(config: EngineConfig) {
    const n = config.levelCountMax;
    assert(n <= 2 ** 27, 'levels: slots below 2^27, so that (l << 3) | k indexes (LevelShift)');
    assert(1 << LevelShift.i32 === LevelI32.size, 'levels: i32 shift and record size agree');
    assert(2 << LevelShift.f64 === LevelI32.size, 'levels: f64 shift and record size agree');
    this.pool = new SlotPool(n);
    const buffer = new ArrayBuffer(n * LevelI32.size * 4);
    this.f64 = new Float64Array(buffer);
    this.i32 = new Int32Array(buffer);
    const sides = config.instrumentCountMax * 2;
    this.perSide = config.levelsPerSideMax;
    this.sideKeys = new Float64Array(sides * config.levelsPerSideMax);
    this.sideLevels = new Int32Array(sides * config.levelsPerSideMax);
    this.sideCount = new Int32Array(sides);
  }

  price(l: number): number {
    return this.f64[l << LevelShift.f64];
  }
  quantity(l: number): number {
    return this.f64[(l << LevelShift.f64) | 1];
  }
  head(l: number): number {
    return this.i32[(l << LevelShift.i32) | LevelI32.head];
  }
  tail(l: number): number {
    return this.i32[(l << LevelShift.i32) | LevelI32.tail];
  }
  orderCount(l: number): number {
    return this.i32[(l << LevelShift.i32) | LevelI32.count];
  }

  addQuantity(l: number, delta: number): void {
    this.f64[(l << LevelShift.f64) | 1] += delta;
  }
  setHead(l: number, o: number): void {
    this.i32[(l << LevelShift.i32) | LevelI32.head] = o;
  }
  setTail(l: number, o: number): void {
    this.i32[(l << LevelShift.i32) | LevelI32.tail] = o;
  }
  addOrderCount(l: number, delta: number): void {
    this.i32[(l << LevelShift.i32) | LevelI32.count] += delta;
  }

  /** The best level of side `s`, or -1 when the side is empty. */
  best(s: number): number {
    const count = this.sideCount[s];
    return count === 0 ? -1 : this.sideLevels[s * this.perSide + count - 1];
  }

  /** The level at `price` on side `s`, or -1. */
  find(s: number, price: number): number {
    const count = this.sideCount[s];
    const base = s * this.perSide;
    // New orders mostly join the best level: look there first.
    if (count > 0 && this.price(this.sideLevels[base + count - 1]) === price) {
      return this.sideLevels[base + count - 1];
    }
    const at = this.lowerBound(s, (s & 1) === 0 ? price : -price);
    if (at < count && this.price(this.sideLevels[base + at]) === price)
      return this.sideLevels[base + at];
    return -1;
  }

  /** True when side `s` can take one more level. */
  hasRoom(s: number): boolean {
    return this.sideCount[s] < this.perSide && this.pool.available() > 0;
  }

  /** Adds an empty level at `price`, which must not exist on side `s`. */
  insert(s: number, price: number): number {
    assertRoom(this.hasRoom(s), 'levels: side full');
    const key = (s & 1) === 0 ? price : -price;
    const at = this.lowerBound(s, key);
    const base = s * this.perSide;
    const count = this.sideCount[s];
    if (at < count) {
      assert(this.sideKeys[base + at] !== key, 'levels: price exists');
      this.sideKeys.copyWithin(base + at + 1, base + at, base + count);
      this.sideLevels.copyWithin(base + at + 1, base + at, base + count);
    }
    const l = this.pool.acquire();
    this.sideKeys[base + at] = key;
    this.sideLevels[base + at] = l;
    this.sideCount[s] = count + 1;
    this.f64[l << LevelShift.f64] = price;
    this.f64[(l << LevelShift.f64) | 1] = 0;
    this.setHead(l, -1);
    this.setTail(l, -1);
    this.i32[(l << LevelShift.i32) | LevelI32.count] = 0;
    return l;
  }

  /** Removes an empty level from side `s`. */
  remove(s: number, l: number): void {
    assert(this.orderCount(l) === 0, 'levels: removing a level with orders');
    const count = this.sideCount[s];
    const base = s * this.perSide;
    // Emptied levels are almost always the best one, at the end: look there first.
    if (this.sideLevels[base + count - 1] !== l) {
      const price = this.price(l);
      const at = this.lowerBound(s, (s & 1) === 0 ? price : -price);
      assert(this.sideLevels[base + at] === l, 'levels: level not on side');
      this.sideKeys.copyWithin(base + at, base + at + 1, base + count);
      this.sideLevels.copyWithin(base + at, base + at + 1, base + count);
    }
    // The freed last entry is cleared: past a side's count, its entries are zeros.
    this.sideKeys[base + count - 1] = 0;
    this.sideLevels[base + count - 1] = 0;
    this.sideCount[s] = count - 1;
    this.pool.release(l);
  }

  /** First position on side `s` whose key is >= `key`. */
  private lowerBound(s: number, key: number): number {
    const keys = this.sideKeys;
    const base = s * this.perSide;
    let lo = 0;
    let hi = this.sideCount[s];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[base + mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  saveImage(image: StateImage): void {
    this.pool.saveImage(image);
    image.arrays.push(this.f64);
    // Sides up to the last one holding a level (every other entry is zero).
    let sides = this.sideCount.length;
    while (sides > 0 && this.sideCount[sides - 1] === 0) sides--;
    pushUsed(image, this.sideKeys, sides * this.perSide * 8);
    pushUsed(image, this.sideLevels, sides * this.perSide * 4);
    image.arrays.push(this.sideCount);
  }

  loadCounters(counters: readonly number[], at: number): number {
    return this.pool.loadCounters(counters, at);
  }
}
