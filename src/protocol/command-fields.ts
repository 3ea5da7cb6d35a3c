/**
 * Validation of a command's 64-bit fields where they enter the engine. Each returns
 * Status.Ok or the specific rejection, reading the two words in place (no allocation).
 * The high word's index is `(w + 1) | 0` (records.ts says why): no overflow check in each
 * inlined copy, the same index for a record below word 2^31.
 */
import { Status } from './status.js';

/** An amount, price or quantity (signed 64-bit): must be positive and below 2^53. */
export function amountStatus(u32: Uint32Array, w: number): Status {
  const lo = u32[w];
  const hi = u32[(w + 1) | 0] | 0;
  if (hi < 0) {
    // -2^53 and below cannot be represented exactly: report them as too large.
    if (hi < -0x200000 || (hi === -0x200000 && lo === 0)) return Status.CommandAmountTooLarge;
    return Status.CommandAmountNegative;
  }
  if (hi > 0x1fffff) return Status.CommandAmountTooLarge;
  if (hi === 0 && lo === 0) return Status.CommandAmountZero;
  return Status.Ok;
}

/** Like amountStatus, but zero is allowed (timeouts, optional values). */
export function nonNegativeStatus(u32: Uint32Array, w: number): Status {
  if (u32[w] === 0 && u32[(w + 1) | 0] === 0) return Status.Ok;
  return amountStatus(u32, w);
}

/** An id (unsigned 64-bit): must be 1 .. 2^53 - 1. */
export function idStatus(u32: Uint32Array, w: number): Status {
  const hi = u32[(w + 1) | 0];
  if (hi > 0x1fffff) return Status.CommandIdInvalid;
  if (hi === 0 && u32[w] === 0) return Status.CommandIdInvalid;
  return Status.Ok;
}
