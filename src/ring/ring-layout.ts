/**
 * The byte layout of a ring in a SharedArrayBuffer (Disruptor layout, STYLE rule 7).
 *
 *   byte 0    +--------------------------------------------------------------+
 *             | magic | slot count | slot size | consumers | spill slots | halt |
 *   byte 128  +--------------------------------------------------------------+
 *             | cursor: last published sequence (int32)     | cursor sleepers |
 *   byte 256  +--------------------------------------------------------------+
 *             | consumer 0: last consumed sequence          | its sleepers    |
 *   byte 384  +--------------------------------------------------------------+
 *             | consumer 1 ...                                               |
 *             +--------------------------------------------------------------+
 *             | slot 0 | slot 1 | ... | slot n-1 | spill 0 | ... | spill k-1  |
 *             +--------------------------------------------------------------+
 *
 * Every sequence sits on its own 128-byte line (two cache lines, against adjacent-line
 * prefetching), so the producer and each consumer write lines nobody else writes. Sequences are
 * int32 and wrap: `(a - b) | 0` orders them as long as they are within 2^31 of each other, which
 * a ring far smaller than that guarantees. Slot `s` holds sequence `s & (slotCount - 1)`.
 *
 * The spill slots after the last slot let a producer write one variable-length group of records
 * contiguously even when it wraps: it writes past the end and copies the spilled part to the
 * start of the ring before publishing (see Sequencer.spill).
 */
import { assert } from '../stdx/assert.js';

export const ringMagic = 0x62726e67; // "brng"

/** Indexes into the ring's Int32Array header. */
export const enum RingWord {
  magic = 0,
  slotCount = 1,
  slotSizeBytes = 2,
  consumerCount = 3,
  spillCount = 4,
  halt = 5,
  /** 128 bytes. */
  cursor = 32,
  cursorSleepers = 33,
  /** 256 bytes; consumer i at consumer0 + i * stride. */
  consumer0 = 64,
  consumerSleepers0 = 65,
  stride = 32,
}

export const ringLineBytes = 128;

export function headerBytes(consumerCount: number): number {
  return ringLineBytes * (2 + consumerCount);
}

/** Bytes of a ring with these dimensions. */
export function ringBytes(
  slotCount: number,
  slotSizeBytes: number,
  consumers: number,
  spill: number,
): number {
  assert((slotCount & (slotCount - 1)) === 0, 'ring: slot count is a power of two');
  assert(slotSizeBytes % 8 === 0, 'ring: slot size is a multiple of 8');
  assert(consumers > 0, 'ring: at least one consumer');
  assert(spill >= 0 && spill <= slotCount, 'ring: spill within the ring size');
  return headerBytes(consumers) + (slotCount + spill) * slotSizeBytes;
}

/** Index of consumer `i`'s sequence word. */
export function consumerWord(i: number): number {
  return RingWord.consumer0 + i * RingWord.stride;
}

/** True when sequence `a` comes after `b` (wrap-aware). */
export function after(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** `a - b` for wrap-aware sequences. */
export function distance(a: number, b: number): number {
  return (a - b) | 0;
}
