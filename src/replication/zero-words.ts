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
  const words = Math.floor(src.byteLength / 4);
  const from = wordsOf(src, words);
  const to = new DataView(out.buffer, out.byteOffset, out.byteLength);
  // The first group as it is, the second against the first, then each against the line
  // through the two before it.
  let o = at;
  for (let w = 0; w < words; w += stride) {
    const history = w === 0 ? 0 : w === stride ? 1 : 2;
    o = packGroup(from, w, Math.min(stride, words - w), history, to, o);
  }
  for (let b = words * 4; b < src.byteLength; b++) out[o++] = src[b];
  return o - at;
}

/** One group's mask and residuals at `o`; returns where the next group goes. */
function packGroup(
  from: Int32Array,
  w: number,
  group: number,
  history: number,
  to: DataView,
  o: number,
): number {
  const maskAt = o;
  let next = o + 4;
  let mask = 0;
  for (let k = 0; k < group; k++) {
    const i = w + k;
    const residual = (from[i] - predicted(from, i, history)) | 0;
    if (residual === 0) continue;
    mask |= 1 << k;
    to.setInt32(next, residual, true);
    next += 4;
  }
  to.setUint32(maskAt, mask, true);
  return next;
}

/** What the receiver will have predicted for word `i`, from the `history` groups before. */
function predicted(from: Int32Array, i: number, history: number): number {
  if (history === 2) {
    const back = from[i - stride];
    return (back + back - from[i - 2 * stride]) | 0;
  }
  return history === 1 ? from[i - stride] : 0;
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
  const to = new Int32Array(out.buffer, 0, words); // little-endian, as the wire (asserted)
  let i = at;
  for (let w = 0; w < words; w += stride) {
    if (i + 4 > end) return null;
    let mask = from.getUint32(i, true);
    i += 4;
    const group = Math.min(stride, words - w);
    if (group < stride && mask >>> group !== 0) return null; // bits for words past the end
    if (i + 4 * popcount(mask) > end) return null;
    predict(to, w, group);
    // Sums wrap modulo 2^32, as the sender's residuals did.
    while (mask !== 0) {
      const low = mask & -mask;
      const word = w + 31 - Math.clz32(low);
      to[word] = (to[word] + from.getInt32(i, true)) | 0;
      i += 4;
      mask ^= low;
    }
  }
  if (end - i !== length - words * 4) return null;
  for (let b = words * 4; b < length; b++) out[b] = src[i++];
  return out;
}

/** Fills the group at word `w` with what the sender predicted for it (packGroup). */
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

/** `words` little-endian words of `src` as a Uint32Array (copied when `src` is not aligned). */
function wordsOf(src: Uint8Array, words: number): Int32Array {
  if (src.byteOffset % 4 === 0) return new Int32Array(src.buffer, src.byteOffset, words);
  return new Int32Array(src.slice(0, words * 4).buffer);
}
