/**
 * Fixed-size records (commands, events) in a buffer, read and written with typed arrays at the
 * struct offsets. 64-bit fields are two little-endian 32-bit words; values stay JavaScript
 * numbers within +-(2^53 - 1), so nothing here allocates or touches BigInt.
 *
 * Index arithmetic: a record `r` starts at byte `r * recordSizeBytes`; its field at byte offset
 * `o` is word `(r * recordSizeBytes + o) >> 2` of `u32`. Records are 8-byte aligned, so every
 * 64-bit field starts on an even word.
 *
 * A high word's index is written `(w + 1) | 0`: an int32 add that wraps, where `w + 1` compiles
 * to a checked add (a jump on overflow, a sign extension) in every inlined copy. The same index
 * for any field below word 2^31 (a buffer under 8 GB).
 */
import { assert as assertImport } from './assert.js';

/**
 * Words (uint32) in any buffer the engine reads commands from or writes events to (4 GiB), so
 * that a word index masked with `recordWordsMax - 1` is unchanged and V8 compiles each `w + k`
 * after it as a plain add, without an overflow check and jump (engine/emitter.ts's stamp).
 */
export const recordWordsMax = 2 ** 30;

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;

export class RecordBuffer {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  /** For clearing and copying whole 8-byte words only (never to read a value as a double). */
  readonly f64: Float64Array;
  readonly recordSizeBytes: number;
  readonly capacity: number;

  /** Views `capacity` records of `recordSizeBytes` at `byteOffset` of `buffer` (no copy). */
  constructor(
    buffer: ArrayBufferLike,
    byteOffset: number,
    capacity: number,
    recordSizeBytes: number,
  ) {
    assert(byteOffset % 8 === 0, 'records: byteOffset is 8-byte aligned');
    assert(recordSizeBytes % 8 === 0, 'records: record size is a multiple of 8');
    assert(capacity > 0, 'records: capacity is positive');
    const byteLength = capacity * recordSizeBytes;
    this.u8 = new Uint8Array(buffer, byteOffset, byteLength);
    this.u16 = new Uint16Array(buffer, byteOffset, byteLength >> 1);
    this.u32 = new Uint32Array(buffer, byteOffset, byteLength >> 2);
    this.f64 = new Float64Array(buffer, byteOffset, byteLength >> 3);
    this.recordSizeBytes = recordSizeBytes;
    this.capacity = capacity;
  }

  /** Allocates a fresh zeroed buffer for `capacity` records (start-up only). */
  static allocate(capacity: number, recordSizeBytes: number): RecordBuffer {
    return new RecordBuffer(
      new ArrayBuffer(capacity * recordSizeBytes),
      0,
      capacity,
      recordSizeBytes,
    );
  }
}

/** Unsigned 64-bit field at word index `w`; exact below 2^53 (check with `u64IsSafe` first). */
export function readU64(u32: Uint32Array, w: number): number {
  return u32[(w + 1) | 0] * 4294967296 + u32[w];
}

/** Unsigned little-endian 64-bit field at byte `at` of `view` (any alignment); as readU64. */
export function readU64At(view: DataView, at: number): number {
  return view.getUint32(at + 4, true) * 4294967296 + view.getUint32(at, true);
}

/** Signed 64-bit field at word index `w`; exact within +-(2^53 - 1). */
export function readI64(u32: Uint32Array, w: number): number {
  return (u32[(w + 1) | 0] | 0) * 4294967296 + u32[w];
}

/** Writes an integer within +-(2^53 - 1) as a little-endian 64-bit field at word index `w`. */
export function write64(u32: Uint32Array, w: number, value: number): void {
  // Multiplying by 2^-32 is exact and, unlike a division, cheap. The low word is value mod 2^32,
  // which is what >>> 0 gives an integer (value - hi * 2^32, without the multiply and subtract).
  const hi = Math.floor(value * 2.3283064365386963e-10);
  u32[w] = value >>> 0;
  u32[(w + 1) | 0] = hi;
}
