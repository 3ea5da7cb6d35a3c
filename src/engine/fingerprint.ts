/**
 * A command's fingerprint: 32 bits that tell a repeat of a command from another command sent
 * under the same (client id, client seq). Idempotency (idempotency.ts) keeps one per remembered
 * outcome; a repeat whose fingerprint differs is refused (IdempotencySeqReused) instead of
 * being answered with the first command's outcome, which a client that lost its seq counter
 * would read as the success of a payment that never happened.
 *
 * It hashes every word of the Command struct that says what is asked, in order:
 *
 *   word 3      kind | flags << 8 | tif << 16 | stp << 24
 *   words 4-15  account, target, ref, maker|taker fee bps, price, quantity, aux
 *
 * and leaves out client_seq and client_id (words 0-2: the key itself) and the sequencer's stamp
 * (sequence, timestamp: a resend is stamped anew). 0 means "not known" (outcomes recorded from
 * events written before fingerprints were kept): a hash of 0 is returned as 1.
 */
import { CommandWord } from '../protocol/command-layout.js';
import { fmix32 as fmix32Import, mix32 as mix32Import } from '../stdx/hash.js';
import { recordWordsMax as recordWordsMaxImport } from '../stdx/records.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const fmix32: typeof fmix32Import = fmix32Import;
const mix32: typeof mix32Import = mix32Import;

/** Masks a word index below recordWordsMax (records.ts says why), changing nothing. */
const wordMask = recordWordsMaxImport - 1;

/** Distinguishes this hash from the other murmur3 uses (hash tables, the checksum). */
const fingerprintSeed = 0x2545f491;

/** The fingerprint of the Command at word `w` of `u32`, as a non-zero int32 (hash.ts). */
export function commandFingerprint(u32: Uint32Array, w: number): number {
  // Unrolled (words 3-15, CommandWord.bits to CommandWord.size - 1): in the loop each word
  // cost ~27 instructions, the typed array's map, bounds and the helper's binding checked
  // again each time (TurboFan hoists nothing out of loops); written out they are shared.
  // `b` is `w` masked below recordWordsMax (the buffers the engine reads are smaller), so each
  // `b + k` is a plain add that TurboFan knows is not negative: no overflow check, and no
  // sign extension before the bounds check (callgrind: a word ~1 instruction less than with
  // `(w + k) | 0`, which wraps but may be negative).
  const b = w & wordMask;
  let h = mix32(fingerprintSeed, u32[b + 3]);
  h = mix32(h, u32[b + 4]);
  h = mix32(h, u32[b + 5]);
  h = mix32(h, u32[b + 6]);
  h = mix32(h, u32[b + 7]);
  h = mix32(h, u32[b + 8]);
  h = mix32(h, u32[b + 9]);
  h = mix32(h, u32[b + 10]);
  h = mix32(h, u32[b + 11]);
  h = mix32(h, u32[b + 12]);
  h = mix32(h, u32[b + 13]);
  h = mix32(h, u32[b + 14]);
  h = mix32(h, u32[b + 15]);
  // The murmur3 finalizer, with the length in words, spreads the last words into every bit.
  h = fmix32(h ^ (CommandWord.size - CommandWord.bits));
  return h === 0 ? 1 : h;
}
