import { assert as assertImport, assertRoom as assertRoomImport } from './assert.js';
import { hashU53 as hashU53Import } from './hash.js';
import { pushUsed, type StateImage } from './state-image.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const assertRoom: typeof assertRoomImport = assertRoomImport;
const hashU53: typeof hashU53Import = hashU53Import;

/**
 * An open-addressing hash table from positive integer keys (1 .. 2^53 - 1) to int32 values,
 * allocated once. Each entry is a (key, value) pair of doubles side by side, so a probe touches
 * one cache line, not one per array. Linear probing; deletion shifts later entries back instead
 * of leaving tombstones, so probe lengths never degrade. Key 0 marks an empty entry.
 *
 * The table holds at most `countMax` keys and keeps the load factor at or below one half:
 * callers check `isFull()` and reject with a status code; the table never grows.
 *
 * Where a key's probe starts (`home`): keys that differ only in their low four bits start in
 * the same aligned block of 16 entries, in key order; the hash spreads the blocks. Order ids
 * (and often account ids) are handed out in sequence, so placing an order writes next to the
 * orders placed just before it, and cancelling a recent one reads a line still in cache. With
 * the hash of the whole key every insert and most lookups missed the cache (the orders' map is
 * 32 MB at the default capacity): bench:engine's orders-only stream, 390k resting orders, ran
 * at ~1,040 ns per order, and ~780 ns with blocks. The layout is part of snapshots
 * (stateLayoutVersion).
 */
export class U53Map {
  /**
   * entries[2 * i] is the key of entry i, entries[2 * i + 1] its value, indexed as
   * `i << 1` and `(i << 1) | 1`: V8 compiles `i * 2 + 1` with an overflow check and its jump
   * for the multiply and for the add, in every inlined lookup (the constructor bounds i).
   */
  readonly entries: Float64Array;
  readonly mask: number;
  readonly countMax: number;
  count = 0;

  constructor(countMax: number) {
    assert(Number.isSafeInteger(countMax), 'u53-map: countMax must be an integer');
    assert(countMax > 0, 'u53-map: countMax must be positive');
    let capacity = 16;
    while (capacity < countMax * 2) capacity *= 2;
    // Entry i's words are indexed (i << 1) and (i << 1) | 1: exact below 2^30 entries.
    assert(capacity <= 2 ** 30, 'u53-map: at most 2^30 entries (countMax at most 2^29)');
    this.entries = new Float64Array(capacity * 2);
    this.mask = capacity - 1;
    this.countMax = countMax;
  }

  isFull(): boolean {
    return this.count >= this.countMax;
  }

  /** The value stored for `key`, or -1. */
  get(key: number): number {
    const entries = this.entries;
    const mask = this.mask;
    let index = homeOf(key, mask);
    for (;;) {
      const k = entries[index << 1];
      if (k === key) return entries[(index << 1) | 1] | 0;
      if (k === 0) return -1;
      index = (index + 1) & mask;
    }
  }

  /**
   * The index in `entries` of the key where `key`'s probe starts: a reader ahead (the engine's
   * prefetch) loads it so that the probe that follows finds the line in cache.
   */
  probeStart(key: number): number {
    return homeOf(key, this.mask) << 1;
  }

  /** Inserts a key that is not present. */
  insert(key: number, value: number): void {
    assert(key > 0, 'u53-map: key must be positive');
    assertRoom(this.count < this.countMax, 'u53-map: full');
    const entries = this.entries;
    let index = homeOf(key, this.mask);
    while (entries[index << 1] !== 0) {
      assert(entries[index << 1] !== key, 'u53-map: key already present');
      index = (index + 1) & this.mask;
    }
    entries[index << 1] = key;
    entries[(index << 1) | 1] = value;
    this.count++;
  }

  /** Removes a key that is present, shifting its probe run back (no tombstones). */
  remove(key: number): void {
    const entries = this.entries;
    const mask = this.mask;
    let hole = homeOf(key, mask);
    while (entries[hole << 1] !== key) {
      assert(entries[hole << 1] !== 0, 'u53-map: removing an absent key');
      hole = (hole + 1) & mask;
    }
    let index = (hole + 1) & mask;
    // The run after the hole is made of blocks of keys that share a hash: hash once per block.
    let block = -1;
    let blockHome = 0;
    while (entries[index << 1] !== 0) {
      const k = entries[index << 1];
      if (Math.floor(k / 16) !== block) {
        block = Math.floor(k / 16);
        blockHome = blockStartOf(block);
      }
      const start = (blockHome | (k & 15)) & mask;
      // Move the entry into the hole when its home lies cyclically at or before the hole.
      if (((index - start) & mask) >= ((index - hole) & mask)) {
        entries[hole << 1] = entries[index << 1];
        entries[(hole << 1) | 1] = entries[(index << 1) | 1];
        hole = index;
      }
      index = (index + 1) & mask;
    }
    entries[hole << 1] = 0;
    entries[(hole << 1) | 1] = 0;
    this.count--;
  }

  /** Removes every key (a table derived from other state, before it is rebuilt). */
  clear(): void {
    this.entries.fill(0);
    this.count = 0;
  }

  saveImage(image: StateImage): void {
    // Removal clears the entry it frees, so an empty table is all zeros.
    pushUsed(image, this.entries, this.count === 0 ? 0 : this.entries.byteLength);
    image.counters.push(this.count);
  }

  loadCounters(counters: readonly number[], at: number): number {
    this.count = counters[at];
    return at + 1;
  }
}

/** The entry where `key`'s probe starts: its block of 16 (by the hash), then its low bits. */
function home(key: number, mask: number): number {
  return (blockStartOf(Math.floor(key / 16)) | (key & 15)) & mask;
}

/** The first entry of block `block` (keys 16 * block .. 16 * block + 15), before the mask. */
function blockStart(block: number): number {
  return hashU53(block) << 4;
}

// Called above through module constants: a function declaration is read through its binding and
// checked at each inlined call (~4 instructions a lookup); a constant is folded (engine.ts).
const homeOf: typeof home = home;
const blockStartOf: typeof blockStart = blockStart;
