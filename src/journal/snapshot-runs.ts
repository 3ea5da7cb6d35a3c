/**
 * The body of a sparse snapshot (state layout 8): each array as the runs of 4-byte words where
 * it differs from its base (ImageBase: what it holds when allocated), so that its size follows
 * the state in use, not the capacities. Layout 6 stored each array's bytes up to its last
 * non-zero one: a hash table with one key, a free list or a table of -1s was stored whole
 * (an empty engine of 16M accounts and 4M orders: 28 MB; with one order, the orders' map
 * alone, 128 MB).
 *
 *   per array, in image order:
 *     run ×N   u32 gap    words equal to the base before the run (from the last run's end)
 *              u32 count  words in the run, then their bytes as they are
 *     tail     the array's last byteLength % 4 bytes as they are (Int8Array, Uint16Array)
 *   or, for an array whose runs would take more than its used bytes (runs -1 in the header):
 *     its used bytes as they are, its base after them
 *
 * u32s are little-endian; words are compared as the platform's Int32 (the bytes are copied as
 * they are, so a restore is bit for bit). Runs closer than `mergeGapWords` are joined: a run's
 * head costs two words. The encoder is snapshot-body.ts. Off the command path (the
 * snapshotter, a restart): allocates freely.
 */
import { assert } from '../stdx/assert.js';
import { ImageBase, type ArraySource } from '../stdx/state-image.js';

/** A gap of this many base words or fewer between two runs is stored inside one run. */
const mergeGapWords = 2;
export const runHeadBytes = 8;

/** What an encoded array took: its full byte length, the bytes stored and its runs. */
export type EncodedArray = [number, number, number];

/** The first word at or after `w` (below `n`) that differs from the base; `n` when none. */
export function nextDiffering(a: Int32Array, w: number, n: number, base: ImageBase): number {
  if (base === ImageBase.Zeros) {
    while (w < n && a[w] === 0) w++;
  } else if (base === ImageBase.AllOnes) {
    while (w < n && a[w] === -1) w++;
  } else {
    const top = a.length - 1;
    while (w < n && a[w] === top - w) w++;
  }
  return w;
}

function isBase(a: Int32Array, w: number, base: ImageBase): boolean {
  if (base === ImageBase.Zeros) return a[w] === 0;
  if (base === ImageBase.AllOnes) return a[w] === -1;
  return a[w] === a.length - 1 - w;
}

/** Where the run that starts at `w` ends: its gaps of base words are short (mergeGapWords). */
export function runEnd(a: Int32Array, w: number, n: number, base: ImageBase): number {
  let end = w + 1;
  for (;;) {
    while (end < n && !isBase(a, end, base)) end++;
    let next = end;
    while (next < n && next - end <= mergeGapWords && isBase(a, next, base)) next++;
    if (next >= n || next - end > mergeGapWords) return end;
    end = next;
  }
}

/**
 * What is wrong with an encoded array of `length` bytes holding `runs` runs, or null: its runs
 * must lie within the array and its bytes be exactly the runs and the tail.
 */
export function runsFault(encoded: Uint8Array, length: number, runs: number): string | null {
  if (runs === -1)
    return encoded.byteLength <= length ? null : 'stores more of an array than it has';
  const words = Math.floor(length / 4);
  const view = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  let at = 0;
  let w = 0;
  for (let r = 0; r < runs; r++) {
    if (at + runHeadBytes > view.byteLength) return 'has an array cut short';
    w += view.readUInt32LE(at) + view.readUInt32LE(at + 4);
    at += runHeadBytes + view.readUInt32LE(at + 4) * 4;
    if (w > words || at > view.byteLength) return 'has a run past its array';
  }
  if (at + (length - words * 4) !== view.byteLength) return 'has an array of the wrong length';
  return null;
}

/** The arrays of a sparse snapshot, each its encoded bytes (checked with runsFault). */
export class RunsSource implements ArraySource {
  readonly count: number;
  private readonly encoded: readonly Uint8Array[];
  private readonly runs: readonly number[];
  private readonly bases: readonly ImageBase[];

  constructor(encoded: readonly Uint8Array[], runs: readonly number[], bases: readonly number[]) {
    assert(encoded.length === runs.length, 'snapshot-runs: runs for every array');
    assert(encoded.length === bases.length, 'snapshot-runs: a base for every array');
    this.encoded = encoded;
    this.runs = runs;
    this.bases = bases as readonly ImageBase[];
    this.count = encoded.length;
  }

  write(i: number, target: Uint8Array, dirty: number): void {
    const base = this.bases[i];
    writeBase(target, base, dirty);
    const encoded = this.encoded[i];
    if (this.runs[i] === -1) {
      target.set(encoded); // stored as they are (encodeRaw)
      return;
    }
    const view = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    let at = 0;
    let w = 0;
    for (let r = 0; r < this.runs[i]; r++) {
      w += view.readUInt32LE(at);
      const count = view.readUInt32LE(at + 4);
      at += runHeadBytes;
      view.copy(target, w * 4, at, at + count * 4); // no view made per run
      at += count * 4;
      w += count;
    }
    const words = Math.floor(target.byteLength / 4);
    if (at < encoded.byteLength) target.set(encoded.subarray(at), words * 4);
  }
}

/**
 * Makes `target` its base: a table of zeros only where it may not be zero yet (its first
 * `dirty` bytes), so that restoring into a fresh engine writes, and maps, only what it holds.
 */
function writeBase(target: Uint8Array, base: ImageBase, dirty: number): void {
  if (base === ImageBase.Zeros) {
    target.fill(0, 0, dirty);
    return;
  }
  if (base === ImageBase.AllOnes) {
    target.fill(0xff);
    return;
  }
  assert(base === ImageBase.Countdown, 'snapshot-runs: a known base');
  assert(target.byteOffset % 4 === 0, 'snapshot-runs: arrays are 4-byte aligned');
  assert(target.byteLength % 4 === 0, 'snapshot-runs: a countdown is of Int32s');
  const a = new Int32Array(target.buffer, target.byteOffset, target.byteLength / 4);
  for (let i = 0; i < a.length; i++) a[i] = a.length - 1 - i;
}
