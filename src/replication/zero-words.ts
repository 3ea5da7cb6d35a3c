/**
 * Packing of entry payloads on the wire. A journal batch is mostly fixed-layout 128-byte
 * events, one after another, and consecutive events differ in few of their 32 words (a run of
 * transfers: the sequence, the client seq, the accounts, the amount). Sent as they are, they
 * cost datagrams, and on loopback the primary's sends are its largest cost (bench/RESULTS.md).
 * So each 4-byte word is XORed with the word 128 bytes before it (the same field of the event
 * before), and the words that come out zero are left out: each run of up to eight words
 * becomes a mask byte (bit i: word i is sent) and the words sent; the bytes after the last
 * whole word follow as they are. Lossless: the receiver rebuilds the exact bytes, whose hash
 * it then checks.
 *
 *   words:   w0 .. w31 | w32 ^ w0, w33 ^ w1, ... (the first 128 bytes as they are)
 *   packed:  mask(w0..w7) non-zero words | mask(w8..w15) ... | tail (length % 4 bytes)
 */

import { assert } from '../stdx/assert.js';

/** Words back to the one a word is XORed with: one 128-byte event. */
const stride = 32;
// Typed arrays read words in the machine's order; the wire and the journal are little-endian.
assert(new Uint8Array(Uint32Array.of(1).buffer)[0] === 1, 'zero-words: a little-endian host');

/** The most bytes `length` payload bytes can pack into (every word sent). */
export function packedBytesMax(length: number): number {
  return length + Math.ceil(Math.floor(length / 4) / 8);
}

/** Packs `src` into `out` at `at`; returns the packed length. `out` has packedBytesMax room. */
export function packZeroWords(src: Uint8Array, out: Uint8Array, at: number): number {
  const words = Math.floor(src.byteLength / 4);
  const from = wordsOf(src, words);
  const to = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let o = at;
  for (let w = 0; w < words; w += 8) {
    const maskAt = o++;
    let mask = 0;
    const end = Math.min(w + 8, words);
    for (let i = w; i < end; i++) {
      const v = i >= stride ? (from[i] ^ from[i - stride]) >>> 0 : from[i];
      if (v === 0) continue;
      mask |= 1 << (i - w);
      to.setUint32(o, v, true);
      o += 4;
    }
    out[maskAt] = mask;
  }
  for (let b = words * 4; b < src.byteLength; b++) out[o++] = src[b];
  return o - at;
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
  for (let w = 0; w < words; w += 8) {
    if (i >= end) return null;
    const mask = src[i++];
    const group = Math.min(8, words - w);
    if (mask >>> group !== 0) return null; // bits for words past the end
    for (let k = 0; k < group; k++) {
      let v = 0;
      if ((mask & (1 << k)) !== 0) {
        if (i + 4 > end) return null;
        v = from.getUint32(i, true);
        i += 4;
      }
      const word = w + k;
      to[word] = word >= stride ? v ^ to[word - stride] : v;
    }
  }
  if (end - i !== length - words * 4) return null;
  for (let b = words * 4; b < length; b++) out[b] = src[i++];
  return out;
}

/** `words` little-endian words of `src` as a Uint32Array (copied when `src` is not aligned). */
function wordsOf(src: Uint8Array, words: number): Uint32Array {
  if (src.byteOffset % 4 === 0) return new Uint32Array(src.buffer, src.byteOffset, words);
  return new Uint32Array(src.slice(0, words * 4).buffer);
}
