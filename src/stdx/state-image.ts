/**
 * A component's state as plain parts, for snapshots: its typed arrays (copied byte for byte) and
 * its counters (numbers kept in fields), each in a fixed order. Saving and loading allocate and
 * run off the per-command path (snapshot, restart).
 */
import { assert } from './assert.js';

export interface StateImage {
  arrays: ArrayBufferView[];
  counters: number[];
  /**
   * Per array, the bytes from its start that may differ from its base; past them it is its
   * base (a table filled from slot 0 up). Absent: the whole array. Snapshots copy only these.
   * Whole 4-byte words (journal/snapshot-runs.ts), or the whole array.
   */
  used?: number[];
  /** Per array, what it holds before any use (ImageBase). Absent: zeros. */
  bases?: number[];
}

/**
 * What an array holds when it is allocated, before any use. A snapshot stores only the words
 * that differ from it (journal/snapshot-runs.ts): a free list or a table of -1s, dense from the
 * start, then costs nothing until it is used.
 */
export const enum ImageBase {
  Zeros = 0,
  /** Every bit set: an integer array of -1s. */
  AllOnes = 1,
  /** An Int32Array whose element i is length - 1 - i (a fresh SlotPool's free list). */
  Countdown = 2,
}

export interface Imaged {
  /** Appends this component's arrays and counters to `image`, in a fixed order. */
  saveImage(image: StateImage): void;
  /** Reads this component's counters from `counters` at `at`; returns the next position. */
  loadCounters(counters: readonly number[], at: number): number;
}

/**
 * A state's arrays as a snapshot holds them, for `Engine.restore`: `write` makes `target` (one
 * array of the engine, whole, as bytes) hold array `i`. Only its first `dirty` bytes may differ
 * from its base (StateImage.used of the state being overwritten); past them it is its base.
 */
export interface ArraySource {
  readonly count: number;
  write(i: number, target: Uint8Array, dirty: number): void;
}

/** Arrays given as their first bytes, zeros past them (a copy of each array's used bytes). */
export class PrefixSource implements ArraySource {
  readonly count: number;
  private readonly arrays: readonly Uint8Array[];

  constructor(arrays: readonly Uint8Array[]) {
    this.arrays = arrays;
    this.count = arrays.length;
  }

  write(i: number, target: Uint8Array, dirty: number): void {
    const given = this.arrays[i];
    assert(given.byteLength <= target.byteLength, 'state-image: array within its size');
    target.set(given);
    if (dirty > given.byteLength) target.fill(0, given.byteLength, dirty);
  }
}

export function emptyImage(): StateImage {
  return { arrays: [], counters: [], used: [], bases: [] };
}

/** Appends `array`, of which only the first `usedBytes` may be non-zero. */
export function pushUsed(image: StateImage, array: ArrayBufferView, usedBytes: number): void {
  if (image.used !== undefined) image.used[image.arrays.length] = usedBytes;
  image.arrays.push(array);
}

/** Appends `array`, whose base is `base` (Countdown: an Int32Array): all of it is used. */
export function pushBased(image: StateImage, array: ArrayBufferView, base: ImageBase): void {
  if (image.bases !== undefined) image.bases[image.arrays.length] = base;
  image.arrays.push(array);
}

/** The bytes of array `i` of `image` that may differ from its base. */
export function usedBytes(image: StateImage, i: number): number {
  return image.used?.[i] ?? image.arrays[i].byteLength;
}

/** The base of array `i` of `image`. */
export function baseOf(image: StateImage, i: number): ImageBase {
  return (image.bases?.[i] ?? ImageBase.Zeros) as ImageBase;
}

/** The bytes of each array of `image` that may differ from its base. */
export function usedSizes(image: StateImage): number[] {
  const sizes: number[] = [];
  for (let i = 0; i < image.arrays.length; i++) sizes.push(usedBytes(image, i));
  return sizes;
}

/** The base of each array of `image`. */
export function basesOf(image: StateImage): ImageBase[] {
  const bases: ImageBase[] = [];
  for (let i = 0; i < image.arrays.length; i++) bases.push(baseOf(image, i));
  return bases;
}
