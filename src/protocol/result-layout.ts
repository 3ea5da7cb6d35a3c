/**
 * The CommandResult struct (native-layouts/events.fbs), 24 bytes, in 32-bit words: what a
 * Results frame carries per command instead of its 128-byte events. Checked against flatc's
 * generated code by test/unit/protocol/layout.test.ts.
 *
 *   0            8            16     18   19   20        24
 *   +------------+------------+------+----+----+---------+
 *   | client_seq | sequence   |status|kind| 0  | 0       |
 *   | u64        | u64        | u16  | u8 | u8 | u32     |
 *   +------------+------------+------+----+----+---------+
 *   sequence: the command's head event; status and kind: the head event's.
 */
import { EventWord } from './event-layout.js';

export const enum ResultWord {
  clientSeq = 0,
  sequence = 2,
  /** status | kind << 16 (the top byte is reserved, zero). */
  statusKind = 4,
  reserved = 5,
  size = 6,
}

export const resultSizeBytes = ResultWord.size * 4;

/** Writes at word `r` of `out` the result of the command whose head event is at word `e`. */
export function writeResult(out: Uint32Array, r: number, events: Uint32Array, e: number): void {
  out[r + ResultWord.clientSeq] = events[e + EventWord.clientSeq];
  out[r + ResultWord.clientSeq + 1] = events[e + EventWord.clientSeq + 1];
  out[r + ResultWord.sequence] = events[e + EventWord.sequence];
  out[r + ResultWord.sequence + 1] = events[e + EventWord.sequence + 1];
  const kindStatus = events[e + EventWord.kindStatus];
  out[r + ResultWord.statusKind] = (kindStatus >>> 16) | ((kindStatus & 0xff) << 16);
  out[r + ResultWord.reserved] = 0;
}

/** Status of the result at word `r`. */
export function resultStatus(u32: Uint32Array, r: number): number {
  return u32[r + ResultWord.statusKind] & 0xffff;
}

/** Head event kind of the result at word `r`. */
export function resultKind(u32: Uint32Array, r: number): number {
  return (u32[r + ResultWord.statusKind] >>> 16) & 0xff;
}
