/**
 * 32-bit integer mixing (the murmur3 finalizer) for hash tables and the state checksum.
 * Pure arithmetic on int32 values: no allocation, the same result on every machine. Results are
 * signed int32 (not uint32): a uint32 above 2^31 returned from a call that is not inlined would
 * be boxed as a heap number.
 */
export function fmix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Folds one 32-bit word into a running hash (murmur3's body step). */
export function mix32(hash: number, word: number): number {
  let k = Math.imul(word | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = (hash | 0) ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Folds a non-negative or negative safe integer (both words) into a running hash. */
export function mixNumber(hash: number, value: number): number {
  const lo = value >>> 0;
  const hi = Math.floor(value / 4294967296) | 0;
  return mix32Of(mix32Of(hash, lo), hi);
}

/** Hash of a key below 2^53, for open addressing (int32, see fmix32). */
export function hashU53(key: number): number {
  const lo = key >>> 0;
  const hi = (key / 4294967296) >>> 0;
  return fmix32Of(lo ^ Math.imul(hi, 0x9e3779b1));
}

/**
 * `hashU53` of the safe integer `hi * 2^32 + lo`, from its words (uint32 `lo`, `hi` below
 * 2^21): for a caller that holds the words already (a u64 field of a record) and would
 * otherwise convert the double back into them (~10 instructions).
 */
export function hashU53Words(lo: number, hi: number): number {
  return fmix32Of(lo ^ Math.imul(hi, 0x9e3779b1));
}

// Called above through module constants: inside its own module, an exported function is read
// through its cell all the same (~4 instructions a call; engine.ts says more).
const fmix32Of: typeof fmix32 = fmix32;
const mix32Of: typeof mix32 = mix32;
