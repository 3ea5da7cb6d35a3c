/**
 * What the dashboard measures of results: the latency of each command's result, from its
 * sequencing (the processor stamps every command with its batch's wall-clock time in
 * microseconds) to the moment its durable events reach the gateway, which sends them on at
 * once. On a cluster's primary this includes the wait for the quorum.
 *
 *   processor: stamp time ─► engine ─► journal (fsync) ─► publisher ─► ResultMeter.onDurable
 *              └────────────────────── latency ───────────────────────┘   (head events only)
 *
 * The histogram (hdr-histogram-js, 32-bit buckets, 2 significant digits) is allocated once and
 * reset at every `take()`, so each reading covers one dashboard tick. Recording allocates
 * nothing, and nothing is recorded while no dashboard page is open (`on`).
 */
import * as hdr from 'hdr-histogram-js';
import { dashboardLatencyUsMax } from '../../constants.js';
import { EventFlag, EventWord } from '../../protocol/event-layout.js';
import { readU64, type RecordBuffer } from '../../stdx/records.js';
import { assert } from '../../stdx/assert.js';
import { percentileOf } from '../../stdx/percentile.js';

/** Result latency over one interval, in microseconds (all 0 when no result came). */
export interface LatencyFigures {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export class ResultMeter {
  /** True while some dashboard page is open; off, `onDurable` returns at once. */
  on = false;
  private readonly histogram = hdr.build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: dashboardLatencyUsMax,
    numberOfSignificantValueDigits: 2,
    useWebAssembly: false,
  });

  /**
   * A publisher listener: `count` durable events at ring slots `slot` onwards. The views are
   * valid only during the call. One clock read per call; one record per command (head event).
   */
  onDurable(records: RecordBuffer, slot: number, count: number): void {
    if (!this.on) return;
    assert(count >= 0, 'meter: count');
    assert(slot >= 0, 'meter: slot');
    // The processor's clock is the same expression in another thread: both read the wall clock
    // through each thread's own time origin, so the difference is the latency (clamped, since
    // the two origins may disagree by a few microseconds).
    const nowUs = (performance.timeOrigin + performance.now()) * 1000;
    recordHeads(this.histogram, records.u32, slot, count, nowUs);
  }

  /** Latency figures since the last call; starts over. Allocates the result. */
  take(): { latencyUs: LatencyFigures } {
    const h = this.histogram;
    const latencyUs: LatencyFigures = {
      count: h.totalCount,
      p50: h.totalCount === 0 ? 0 : percentileOf(h, 50),
      p90: h.totalCount === 0 ? 0 : percentileOf(h, 90),
      p99: h.totalCount === 0 ? 0 : percentileOf(h, 99),
      p999: h.totalCount === 0 ? 0 : percentileOf(h, 99.9),
      max: h.totalCount === 0 ? 0 : h.maxValue,
    };
    h.reset();
    return { latencyUs };
  }
}

/** Records the latency of every head event (one per command) among `count` events. */
function recordHeads(
  histogram: hdr.Histogram,
  u32: Uint32Array,
  slot: number,
  count: number,
  nowUs: number,
): void {
  for (let i = 0; i < count; i++) {
    const e = (slot + i) * EventWord.size;
    if ((u32[e + EventWord.flagsTifStp] & EventFlag.Head) === 0) continue;
    const us = Math.round(nowUs - readU64(u32, e + EventWord.timestamp));
    histogram.recordValue(us < 1 ? 1 : us > dashboardLatencyUsMax ? dashboardLatencyUsMax : us);
  }
}
