/**
 * `bourse_result_latency_seconds`: a histogram of each command's result latency, from its
 * sequencing (the processor stamps every command with its batch's wall-clock time, µs) to its
 * durable events reaching the publisher on the main thread, which hands them to the gateway at
 * once. The dashboard's meter shows the same only while a page is open; this one always counts,
 * so that an alert can see results slow down. On a cluster's primary it includes the quorum.
 *
 * A publisher listener on the main thread, never the processor's: one clock read per durable
 * batch, and per event a flag test; per command (head event) a bucket search of 17 bounds.
 * Nothing allocates. The counts never reset: a cluster member keeps one for all its nodes
 * (CounterCarry), so Prometheus sees no restart at a change of role.
 */
import { resultLatencyBucketsUs } from '../constants.js';
import { EventFlag, EventWord } from '../protocol/event-layout.js';
import { readU64, type RecordBuffer } from '../stdx/records.js';
import { assert } from '../stdx/assert.js';

export class ResultLatency {
  /** Results per bucket (not cumulative); the last counts those past every bound. */
  readonly buckets = new Float64Array(resultLatencyBucketsUs.length + 1);
  sumSeconds = 0;
  /** For `Publisher.listen`: `count` durable events at ring slots `slot` on (valid in the call). */
  readonly listener = (records: RecordBuffer, slot: number, count: number): void => {
    assert(count >= 0, 'result latency: count');
    const nowUs = (performance.timeOrigin + performance.now()) * 1000;
    this.sumSeconds += recordHeads(this.buckets, records.u32, slot, count, nowUs);
  };
}

/** Counts each head event's latency in `buckets`; returns the seconds they add up to. */
function recordHeads(
  buckets: Float64Array,
  u32: Uint32Array,
  slot: number,
  count: number,
  nowUs: number,
): number {
  let seconds = 0;
  for (let i = 0; i < count; i++) {
    const e = (slot + i) * EventWord.size;
    if ((u32[e + EventWord.flagsTifStp] & EventFlag.Head) === 0) continue;
    // The processor's clock is the same expression in its thread (clamped: the two threads'
    // time origins may disagree by a few microseconds).
    const us = Math.max(0, nowUs - readU64(u32, e + EventWord.timestamp));
    let b = 0;
    while (b < resultLatencyBucketsUs.length && us > resultLatencyBucketsUs[b]) b++;
    buckets[b] += 1;
    seconds += us / 1e6;
  }
  return seconds;
}
