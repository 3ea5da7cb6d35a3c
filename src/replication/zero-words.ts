/**
 * Packing of entry payloads on the wire. A journal batch is mostly fixed-layout 128-byte
 * events, one after another, and consecutive events differ in few of their 32 words (a run of
 * transfers: the sequence, the client seq, the accounts, the amount). Sent as they are, they
 * cost datagrams, and on loopback the primary's sends are its largest cost (bench/RESULTS.md).
 * So each 4-byte word is predicted from the same field of the two events before it (the line
 * through them: 2 * w[i - 32] - w[i - 64], modulo 2^32), and only the words whose residual
 * (word minus prediction) is not zero are sent: each group of 32 words (one event's stride)
 * becomes a 4-byte mask (bit i: word i is sent) and the residuals sent; the bytes after the
 * last whole word follow as they are. Lossless: the receiver makes the same predictions, adds
 * the residuals and checks the bytes' hash.
 *
 *   residuals: w0 .. w31 | w32 - w0, ... | w64 - (2 * w32 - w0), ... (each modulo 2^32)
 *   packed:    mask(w0..w31) u32, non-zero residuals | mask(w32..w63), ... | tail (length % 4)
 *
 * Why the line, not the word before (XOR, until replication version 5): a field that counts
 * up by one (the sequence, a client's seq) is predicted exactly, so a run of transfers sends
 * three or four words an event, not five or six: a journal of bench:replicated packed to 10%
 * of its bytes instead of 19%, half the datagrams. Why a mask per 32 words, not a byte per 8:
 * the receiver fills a group with its predictions in one pass and then visits only the mask's
 * set bits instead of testing every word (unpacking about 65 ns an event, from 105).
 */

import { assert } from '../stdx/assert.js';

/** Words back to the same field of the event before: one 128-byte event, one mask's group. */
const stride = 32;
// Typed arrays read words in the machine's order; the wire and the journal are little-endian.
assert(new Uint8Array(Uint32Array.of(1).buffer)[0] === 1, 'zero-words: a little-endian host');

/** The most bytes `length` payload bytes can pack into (every word sent). */
export function packedBytesMax(length: number): number {
  return length + 4 * Math.ceil(Math.floor(length / 4) / stride);
}

/** Packs `src` into `out` at `at`; returns the packed length. `out` has packedBytesMax room. */
export function packZeroWords(src: Uint8Array, out: Uint8Array, at: number): number {
  if ((out.byteOffset + at) % 4 !== 0) return packUnaligned(src, out, at);
  const words = Math.floor(src.byteLength / 4);
  const from = wordsOf(src, words);
  const to = new Int32Array(out.buffer, out.byteOffset + at, (out.byteLength - at) >> 2);
  // The first group as it is, the second against the first, then each against the line
  // through the two before it.
  let o = 0;
  for (let w = 0; w < words; w += stride) {
    const group = Math.min(stride, words - w);
    o = w >= 2 * stride ? packLine(from, w, group, to, o) : packNear(from, w, group, to, o);
  }
  let b = at + o * 4;
  for (let i = words * 4; i < src.byteLength; i++) out[b++] = src[i];
  return b - at;
}

/**
 * A group's mask and its residuals that are not zero, from word `o` of `to`; returns where the
 * next group goes. (Writing every residual and moving on only past those not zero, without a
 * branch, measured slower here: 125 against 87 ns an event.)
 */
function packLine(from: Int32Array, w: number, group: number, to: Int32Array, o: number): number {
  const maskAt = o;
  let next = o + 1;
  let mask = 0;
  for (let k = 0; k < group; k++) {
    const i = w + k;
    const back = from[i - stride];
    const residual = (from[i] - ((back + back - from[i - 2 * stride]) | 0)) | 0;
    if (residual === 0) continue;
    to[next++] = residual;
    mask |= 1 << k;
  }
  to[maskAt] = mask;
  return next;
}

/** Three groups: the first two predict the third in packNear. */
const near = new Int32Array(3 * stride);

/**
 * The first group (predicted zero) and the second (predicted to repeat the first), through
 * packLine: the two groups before them are laid out so that the line through them predicts
 * just that (zeros; the first group twice).
 */
function packNear(from: Int32Array, w: number, group: number, to: Int32Array, o: number): number {
  if (w === 0) near.fill(0, 0, 2 * stride);
  else for (let copy = 0; copy < 2; copy++) near.set(from.subarray(0, stride), copy * stride);
  near.set(from.subarray(w, w + group), 2 * stride);
  return packLine(near, 2 * stride, group, to, o);
}

/** packZeroWords into a place not on a 4-byte boundary (not on the send path: tests). */
function packUnaligned(src: Uint8Array, out: Uint8Array, at: number): number {
  const aligned = new Uint8Array(packedBytesMax(src.byteLength));
  const packed = packZeroWords(src, aligned, 0);
  out.set(aligned.subarray(0, packed), at);
  return packed;
}

/**
 * Rebuilds `length` bytes from `packed` bytes of `src` at `at`, or null when they do not
 * describe exactly that many (a malformed datagram: dropped, never thrown).
 */
export function unpackZeroWords(
  src: Uint8Array,
  at: number,
  packed: number,
  length: number,
): Uint8Array | null {
  const end = at + packed;
  if (end > src.byteLength || packed < 0) return null;
  if ((src.byteOffset + at) % 4 !== 0)
    return unpackZeroWords(src.slice(at, end), 0, packed, length);
  // Every byte is written below before `out` is returned (a malformed entry returns null), so
  // it need not be zeroed first: that memset was 1.4% of a loaded standby's main thread.
  const out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
  const ends = packed >> 2; // whole words packed
  const from = new Int32Array(src.buffer, src.byteOffset + at, ends);
  const words = Math.floor(length / 4);
  const to = new Int32Array(out.buffer, 0, words); // little-endian, as the wire (asserted)
  let j = 0;
  for (let w = 0; w < words; w += stride) {
    if (j >= ends) return null;
    let mask = from[j++];
    const group = Math.min(stride, words - w);
    if (group < stride && mask >>> group !== 0) return null; // bits for words past the end
    if (j + popcount(mask) > ends) return null;
    predict(to, w, group);
    // Sums wrap modulo 2^32, as the sender's residuals did.
    while (mask !== 0) {
      const low = mask & -mask;
      const word = w + 31 - Math.clz32(low);
      to[word] = (to[word] + from[j++]) | 0;
      mask ^= low;
    }
  }
  let i = at + j * 4;
  if (end - i !== length - words * 4) return null;
  for (let b = words * 4; b < length; b++) out[b] = src[i++];
  return out;
}

/** Fills the group at word `w` with what the sender predicted for it (packLine, packNear). */
function predict(to: Int32Array, w: number, group: number): void {
  if (w === 0) to.fill(0, 0, group);
  else if (w === stride) to.copyWithin(stride, 0, group);
  else {
    for (let k = w; k < w + group; k++) {
      const back = to[k - stride];
      to[k] = (back + back - to[k - 2 * stride]) | 0;
    }
  }
}

/** The set bits of a 32-bit word. */
function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** `words` little-endian words of `src` as an Int32Array (copied when `src` is not aligned). */
function wordsOf(src: Uint8Array, words: number): Int32Array {
  if (src.byteOffset % 4 === 0) return new Int32Array(src.buffer, src.byteOffset, words);
  return new Int32Array(src.slice(0, words * 4).buffer);
}
