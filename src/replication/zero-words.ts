/**
 * Zero-word suppression for entry payloads on the wire. A journal batch is mostly fixed-layout
 * 128-byte events, and most of an event's 16 words are zero (a transfer fills about 8): sent
 * as they are, they cost datagrams, and on loopback the primary's sends are its largest cost
 * (bench/RESULTS.md). Packed, each run of up to eight 8-byte words becomes a mask byte (bit i:
 * word i is not zero) and the non-zero words; the bytes after the last whole word follow as
 * they are. Lossless: the receiver rebuilds the exact bytes, whose hash it then checks.
 *
 *   words:  w0 w1 0 0 w4 0 0 0 | w8 ...   tail (length % 8 bytes)
 *   packed: 0b00010011 w0 w1 w4 | mask w8 ... tail
 */

/** The most bytes `length` payload bytes can pack into (every word non-zero). */
export function packedBytesMax(length: number): number {
  const words = Math.floor(length / 8);
  return length + Math.ceil(words / 8);
}

/** Packs `src` into `out` at `at`; returns the packed length. `out` has packedBytesMax room. */
export function packZeroWords(src: Uint8Array, out: Uint8Array, at: number): number {
  const words = Math.floor(src.byteLength / 8);
  const from = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const to = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let o = at;
  for (let w = 0; w < words; w += 8) {
    const maskAt = o++;
    let mask = 0;
    const end = Math.min(w + 8, words);
    for (let i = w; i < end; i++) {
      const lo = from.getUint32(i * 8, true);
      const hi = from.getUint32(i * 8 + 4, true);
      if (lo === 0 && hi === 0) continue;
      mask |= 1 << (i - w);
      to.setUint32(o, lo, true);
      to.setUint32(o + 4, hi, true);
      o += 8;
    }
    out[maskAt] = mask;
  }
  for (let b = words * 8; b < src.byteLength; b++) out[o++] = src[b];
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
  const out = new Uint8Array(length);
  const from = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const to = new DataView(out.buffer);
  const words = Math.floor(length / 8);
  let i = at;
  for (let w = 0; w < words; w += 8) {
    if (i >= end) return null;
    const mask = src[i++];
    const group = Math.min(8, words - w);
    if (mask >>> group !== 0) return null; // bits for words past the end
    for (let k = 0; k < group; k++) {
      if ((mask & (1 << k)) === 0) continue;
      if (i + 8 > end) return null;
      to.setUint32((w + k) * 8, from.getUint32(i, true), true);
      to.setUint32((w + k) * 8 + 4, from.getUint32(i + 4, true), true);
      i += 8;
    }
  }
  if (end - i !== length - words * 8) return null;
  for (let b = words * 8; b < length; b++) out[b] = src[i++];
  return out;
}
