/**
 * Packing of entry payloads on the wire. A journal batch is mostly fixed-layout 128-byte
 * events, one after another, and consecutive events differ in few of their 32 words (a run of
 * transfers: the sequence, the client seq, the accounts, the amount). Sent as they are, they
 * cost datagrams, and on loopback the primary's sends are its largest cost (bench/RESULTS.md).
 * So each 4-byte word is XORed with the word 128 bytes before it (the same field of the event
 * before), and the words that come out zero are left out: each group of 32 words (one event's
 * stride) becomes a 4-byte mask (bit i: word i is sent) and the words sent; the bytes after
 * the last whole word follow as they are. Lossless: the receiver rebuilds the exact bytes,
 * whose hash it then checks.
 *
 *   words:   w0 .. w31 | w32 ^ w0, w33 ^ w1, ... (the first 128 bytes as they are)
 *   packed:  mask(w0..w31) u32, non-zero words | mask(w32..w63), ... | tail (length % 4 bytes)
 *
 * Why a mask per 32 words, not a byte per 8: the receiver copies a group's words from the
 * group before in one call and then visits only the mask's set bits (about five per transfer)
 * instead of testing every word: unpacking a run of transfers went from about 105 to 45 ns an
 * event, and packing (the first group apart, so no test for it per word) from 70 to 54 ns.
 */

import { assert } from '../stdx/assert.js';

/** Words back to the one a word is XORed with: one 128-byte event, one mask's group. */
const stride = 32;
// Typed arrays read words in the machine's order; the wire and the journal are little-endian.
assert(new Uint8Array(Uint32Array.of(1).buffer)[0] === 1, 'zero-words: a little-endian host');

/** The most bytes `length` payload bytes can pack into (every word sent). */
export function packedBytesMax(length: number): number {
  return length + 4 * Math.ceil(Math.floor(length / 4) / stride);
}

/** Packs `src` into `out` at `at`; returns the packed length. `out` has packedBytesMax room. */
export function packZeroWords(src: Uint8Array, out: Uint8Array, at: number): number {
  const words = Math.floor(src.byteLength / 4);
  const from = wordsOf(src, words);
  const to = new DataView(out.buffer, out.byteOffset, out.byteLength);
  // The first group as it is (XORed with zeros), then each with the group before.
  let o = words === 0 ? at : packGroup(from, 0, Math.min(stride, words), 0, to, at);
  for (let w = stride; w < words; w += stride) {
    o = packGroup(from, w, Math.min(stride, words - w), stride, to, o);
  }
  for (let b = words * 4; b < src.byteLength; b++) out[o++] = src[b];
  return o - at;
}

/** One group's mask and non-zero words at `o`; returns where the next group goes. */
function packGroup(
  from: Uint32Array,
  w: number,
  group: number,
  back: number,
  to: DataView,
  o: number,
): number {
  const maskAt = o;
  let next = o + 4;
  let mask = 0;
  for (let k = 0; k < group; k++) {
    const v = back === 0 ? from[w + k] : from[w + k] ^ from[w + k - back];
    if (v === 0) continue;
    mask |= 1 << k;
    to.setUint32(next, v, true);
    next += 4;
  }
  to.setUint32(maskAt, mask, true);
  return next;
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
  // Every byte is written below before `out` is returned (a malformed entry returns null), so
  // it need not be zeroed first: that memset was 1.4% of a loaded standby's main thread.
  const out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
  const from = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const words = Math.floor(length / 4);
  const to = new Uint32Array(out.buffer, 0, words); // little-endian, as the wire (asserted)
  let i = at;
  for (let w = 0; w < words; w += stride) {
    if (i + 4 > end) return null;
    let mask = from.getUint32(i, true);
    i += 4;
    const group = Math.min(stride, words - w);
    if (group < stride && mask >>> group !== 0) return null; // bits for words past the end
    if (i + 4 * popcount(mask) > end) return null;
    // The group before (zeros for the first), then each word sent XORed in.
    if (w === 0) to.fill(0, 0, group);
    else to.copyWithin(w, w - stride, w - stride + group);
    while (mask !== 0) {
      const low = mask & -mask;
      to[w + 31 - Math.clz32(low)] ^= from.getUint32(i, true);
      i += 4;
      mask ^= low;
    }
  }
  if (end - i !== length - words * 4) return null;
  for (let b = words * 4; b < length; b++) out[b] = src[i++];
  return out;
}

/** The set bits of a 32-bit word. */
function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** `words` little-endian words of `src` as a Uint32Array (copied when `src` is not aligned). */
function wordsOf(src: Uint8Array, words: number): Uint32Array {
  if (src.byteOffset % 4 === 0) return new Uint32Array(src.buffer, src.byteOffset, words);
  return new Uint32Array(src.slice(0, words * 4).buffer);
}
