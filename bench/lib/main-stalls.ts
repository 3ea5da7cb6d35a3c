/**
 * The node's main thread (gateway and publisher) over a bench window: its garbage collections
 * (count, longest and total pause) and its event loop's delay (p99 and max), so that a tail
 * can be set against the main thread's own stalls.
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { GcWatch } from './gc-watch.js';

export class MainThreadStalls {
  private readonly gc = new GcWatch();
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  private from = 0;
  private to = 0;

  start(): void {
    this.from = this.gc.now();
    this.delay.enable();
  }

  stop(): void {
    this.to = this.gc.now();
    this.delay.disable();
  }

  /**
   * The main thread's collections in the window, as [start, end] wall-clock µs (call after
   * figures(), which waits for their entries).
   */
  pausesUs(): [number, number][] {
    const origin = performance.timeOrigin;
    return this.gc
      .pauses(this.from, this.to)
      .map(([a, b]) => [(origin + a) * 1000, (origin + b) * 1000]);
  }

  /** JSON keys `open_main_*` (null when the window never started). */
  async figures(): Promise<Record<string, number | null>> {
    await this.gc.settle();
    this.gc.stop();
    if (this.from === 0) {
      const none = { open_main_gc_count: null, open_main_gc_max_ms: null };
      return { ...none, open_main_gc_total_ms: null, open_main_loop_delay_p99_ms: null };
    }
    const pauses = this.gc.between(this.from, this.to);
    return {
      open_main_gc_count: pauses.count,
      open_main_gc_max_ms: Number(pauses.maxMs.toFixed(2)),
      open_main_gc_total_ms: Number(pauses.totalMs.toFixed(2)),
      open_main_loop_delay_p99_ms: Number((this.delay.percentile(99) / 1e6).toFixed(2)),
      open_main_loop_delay_max_ms: Number((this.delay.max / 1e6).toFixed(2)),
    };
  }
}
