/**
 * Integers in minor units. Amounts, prices, quantities and ids are JavaScript numbers holding
 * integers within +-(2^53 - 1), stored on the wire as two 32-bit words (little-endian int64 or
 * uint64). These helpers never allocate: results stay doubles, never BigInt (STYLE rule 20).
 */
export const SAFE_MAX = Number.MAX_SAFE_INTEGER;

/**
 * floor(amount * bps / 10_000) computed exactly for any amount below 2^53 and bps <= 10_000,
 * without the product overflowing the safe range: split amount = q * 10_000 + r.
 */
export function bpsOf(amount: number, bps: number): number {
  const q = Math.floor(amount / 10_000);
  const r = amount - q * 10_000;
  return q * bps + Math.floor((r * bps) / 10_000);
}

/**
 * Whether `value` is a whole multiple of `step`, as `value % step === 0`, for integers
 * 0 <= value < 2^53 and step >= 1, without the remainder: V8 compiles a double `%` to an x87
 * `fprem` loop (its operands moved through memory; ~30 cycles a remainder). The quotient is
 * exact when `value` is a multiple (q < 2^53, and q * step = value exactly); when it is not,
 * floor(value / step) * step is another integer: below 2^53 it is exact and differs from
 * `value`, at or above it is larger than `value`. So the answer is the same for every input.
 */
export function isMultipleOf(value: number, step: number): boolean {
  return Math.floor(value / step) * step === value;
}
