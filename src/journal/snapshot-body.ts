/**
 * A snapshot's body encoded in one pass straight into a flat buffer: each array of the image as
 * its runs off its base (snapshot-runs.ts), or as its used bytes where the runs would take more,
 * one after another, exactly the bytes the chunks then hold.
 *
 * The snapshotter encodes its replica's state so between two batches of events, into its one
 * shared buffer, and a pool thread then hashes and writes that body: the snapshot is the state
 * at one sequence whatever the replica applies meanwhile. Before, it copied every used byte of
 * the state (795 MB at 16M accounts and 4M orders: their hash tables whole) for the pool thread
 * to encode; the body is what is stored (20.6 MB of that state), so the copy's pages, and the
 * memory they hold, follow the state in use, not the capacities.
 *
 *   target  [ array 0's runs | array 1's used bytes (raw) | array 2's runs | ... ]   bodyBytes
 *
 * Off the command path (the snapshotter, tests): allocates only its small results.
 */
import { assert } from '../stdx/assert.js';
import { baseOf, usedBytes, type StateImage } from '../stdx/state-image.js';
import { ImageBase } from '../stdx/state-image.js';
import { nextDiffering, runEnd, runHeadBytes, type EncodedArray } from './snapshot-runs.js';

/**
 * Words of base compared at once, largest first, where a base is one repeated word and more
 * than `skipNearWords` of it follow a run: memcmp (Buffer.compare) skips a table's long
 * stretches of base faster than a word loop, which is faster for short ones (a native call
 * costs as much as a hundred words).
 */
const skipBlockWords = [4096, 256];
const skipNearWords = 256;
const zeroBlock = Buffer.alloc(skipBlockWords[0] * 4, 0);
const onesBlock = Buffer.alloc(skipBlockWords[0] * 4, 0xff);

/** Runs longer than this are copied with Buffer.copy (memcpy) rather than word by word. */
const runCopyWordsMin = 64;
/** The body's u32s are little-endian: written as words only on such a machine. */
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export interface EncodedBody {
  /** Per array: its full byte length, the bytes stored, its runs (-1: stored raw). */
  arrays: EncodedArray[];
  /** The body's length: the sum of the bytes stored. */
  bodyBytes: number;
}

/**
 * The most bytes an encoding of `image` can take: every array's used bytes (an array whose runs
 * would take more is stored as those).
 */
export function bodyBytesMax(image: StateImage): number {
  let total = 0;
  for (let i = 0; i < image.arrays.length; i++) total += usedBytes(image, i);
  return total;
}

/**
 * Encodes every array of `image` into `target` from its start. `image` must not change until
 * this returns; `target` holds the body after it (bodyBytes), and needs bodyBytesMax(image).
 */
export function encodeBody(target: Uint8Array, image: StateImage): EncodedBody {
  assert(target.byteLength >= bodyBytesMax(image), 'snapshot-body: room for every used byte');
  const out = new BodyOut(target);
  const arrays: EncodedArray[] = [];
  let at = 0;
  for (let i = 0; i < image.arrays.length; i++) {
    const a = image.arrays[i];
    const bytes = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const encoded = encodeArrayAt(out, at, bytes, usedBytes(image, i), baseOf(image, i));
    assert(encoded[1] <= usedBytes(image, i), 'snapshot-body: no more than its used bytes');
    arrays.push(encoded);
    at += encoded[1];
  }
  assert(at <= target.byteLength, 'snapshot-body: within its buffer');
  return { arrays, bodyBytes: at };
}

/**
 * Encodes one array (`bytes`, whole, 4-byte aligned) into `out` at `at`, as runs, or as its
 * first `used` bytes once the runs pass them (a dense array): it writes no more than `used`.
 */
function encodeArrayAt(
  out: BodyOut,
  at: number,
  bytes: Buffer,
  used: number,
  base: ImageBase,
): EncodedArray {
  const length = bytes.byteLength;
  assert(bytes.byteOffset % 4 === 0, 'snapshot-body: arrays are 4-byte aligned');
  assert(used === length || used % 4 === 0, 'snapshot-body: used bytes are whole words');
  assert(used <= length, 'snapshot-body: used within the array');
  const words = Math.floor(length / 4); // not >>>: a table may be 4 GB or more
  const tail = length - words * 4;
  assert(tail === 0 || base !== ImageBase.Countdown, 'snapshot-body: a countdown of Int32s');
  const a = new Int32Array(bytes.buffer, bytes.byteOffset, words);
  const usedWords = used === length ? words : used / 4;
  let runs = 0;
  let stored = 0;
  let last = 0; // where the last run ended
  let w = skipBase(bytes, a, 0, usedWords, base);
  while (w < usedWords) {
    const end = runEnd(a, w, usedWords, base);
    if (stored + runHeadBytes + (end - w) * 4 > used) return encodeRawAt(out, at, bytes, used);
    out.run(at + stored, w - last, a, w, end, bytes);
    runs++;
    stored += runHeadBytes + (end - w) * 4;
    last = end;
    w = skipBase(bytes, a, end, usedWords, base);
  }
  if (tail > 0) {
    if (stored + tail > used) return encodeRawAt(out, at, bytes, used);
    // The array's own tail when all of it is used; past the used bytes, its base.
    if (used === length) bytes.copy(out.bytes, at + stored, words * 4, length);
    else out.bytes.fill(base === ImageBase.Zeros ? 0 : 0xff, at + stored, at + stored + tail);
    stored += tail;
  }
  return [length, stored, runs];
}

/** An array stored as its first `used` bytes as they are; its runs count is -1. */
function encodeRawAt(out: BodyOut, at: number, bytes: Buffer, used: number): EncodedArray {
  bytes.copy(out.bytes, at, 0, used);
  return [bytes.byteLength, used, -1];
}

/**
 * As nextDiffering (snapshot-runs.ts). Past a few words of base, where the base is one repeated
 * word, it skips it in blocks first.
 */
function skipBase(bytes: Buffer, a: Int32Array, w: number, n: number, base: ImageBase): number {
  const near = Math.min(n, w + skipNearWords);
  w = nextDiffering(a, w, near, base);
  if (w < near || w === n || base === ImageBase.Countdown) return nextDiffering(a, w, n, base);
  const block = base === ImageBase.Zeros ? zeroBlock : onesBlock;
  for (const k of skipBlockWords) {
    while (w + k <= n && block.compare(bytes, w * 4, (w + k) * 4, 0, k * 4) === 0) w += k;
  }
  return nextDiffering(a, w, n, base);
}

/**
 * The body's buffer as bytes and as words. A run at a word-aligned place (all of them but in
 * arrays after one of an odd byte length) is written through the words: a short run is a few
 * stores, where Buffer's writes and copy were three native calls (a state of 21 MB stored in
 * runs of a few words took 260 ms so, a memcpy of its 61 MB in use 22 ms).
 */
class BodyOut {
  readonly bytes: Buffer;
  private readonly words: Int32Array;

  constructor(target: Uint8Array) {
    this.bytes = Buffer.from(target.buffer, target.byteOffset, target.byteLength);
    assert(target.byteOffset % 4 === 0, 'snapshot-body: the body is 4-byte aligned');
    // Not `>>> 2`: a buffer of 2^32 bytes (Uint8Array's limit) would get 0 words.
    this.words = new Int32Array(
      target.buffer,
      target.byteOffset,
      Math.floor(target.byteLength / 4),
    );
    assert(this.words.length * 4 + 3 >= target.byteLength, 'snapshot-body: words span the body');
  }

  /** Writes at byte `p` the run of words `w`..`end` of `a` (`bytes`), `gap` after the last. */
  run(p: number, gap: number, a: Int32Array, w: number, end: number, bytes: Buffer): void {
    if (!littleEndian || p % 4 !== 0 || end - w > runCopyWordsMin) {
      this.bytes.writeUInt32LE(gap, p);
      this.bytes.writeUInt32LE(end - w, p + 4);
      bytes.copy(this.bytes, p + runHeadBytes, w * 4, end * 4);
      return;
    }
    const q = p / 4;
    this.words[q] = gap; // u32s as Int32 stores: the same bits
    this.words[q + 1] = end - w;
    for (let i = 0; i < end - w; i++) this.words[q + 2 + i] = a[w + i];
  }
}
