/**
 * The process's own metrics on /metrics, in one registry for the whole process:
 * collectDefaultMetrics installs observers that cannot be removed, and a cluster member makes a
 * new node (and registry) at every change of role. On top of prom-client's defaults:
 *
 *   bourse_process_resident_anon_bytes    RssAnon of /proc/self/status: the heap, the state
 *   bourse_process_resident_file_bytes    RssFile: mostly the journal's and snapshots' LMDB
 *                                         pages, mapped from files and reclaimable at will
 *   bourse_eventloop_delay_seconds{quantile}  the main thread's event-loop delay over the last
 *                                         whole window (constants.ts eventLoopWindowMs)
 *
 * prom-client's own histogram gauges (nodejs_eventloop_lag_min/max/mean/stddev/p50/p90/p99)
 * are left out: it resets them at every scrape, so a second scrape close after the first read
 * `min 9223372036.854776` and `mean NaN`, two Prometheus servers each saw part of the samples,
 * and an idle loop read 10 ms, its sampling interval. `nodejs_eventloop_lag_seconds` (one
 * setImmediate's delay at the scrape) stays.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { eventLoopResolutionMs, eventLoopWindowMs } from '../constants.js';
import { assert } from '../stdx/assert.js';

/** prom-client's gauges that reset at every scrape (see above). */
const resetPerScrape = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'].map(
  (part) => `nodejs_eventloop_lag_${part}_seconds`,
);
const quantiles = [0.5, 0.9, 0.99, 1] as const;

let processRegistry: Registry | null = null;

/** The process's registry, made at the first call. */
export function processMetrics(): Registry {
  if (processRegistry !== null) return processRegistry;
  const registry = new Registry();
  // Its histogram is dropped below: sampled once a second, it costs next to nothing.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
  for (const name of resetPerScrape) registry.removeSingleMetric(name);
  registerResident(registry);
  registerEventLoop(registry, new EventLoopWindow());
  processRegistry = registry;
  return registry;
}

/**
 * `Rss<kind>` of /proc/self/status in bytes, read when scraped (a small file in procfs, no
 * walk of the mappings as /proc/self/smaps would be); NaN where there is no procfs.
 */
export function residentBytes(kind: 'Anon' | 'File' | 'Shmem'): number {
  let text: string;
  try {
    text = readFileSync('/proc/self/status', 'latin1');
  } catch {
    return Number.NaN;
  }
  const found = new RegExp(`^Rss${kind}:\\s+(\\d+) kB$`, 'm').exec(text);
  return found === null ? Number.NaN : Number(found[1]) * 1024;
}

function registerResident(registry: Registry): void {
  const gauge = (name: string, help: string, kind: 'Anon' | 'File'): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect(this: Gauge) {
        this.set(residentBytes(kind));
      },
    });
  };
  const anon = 'Resident anonymous memory (heaps, engine state): what to alert on';
  gauge('bourse_process_resident_anon_bytes', anon, 'Anon');
  const file = "Resident file-backed memory: mostly the journal's mapped pages (reclaimable)";
  gauge('bourse_process_resident_file_bytes', file, 'File');
}

/**
 * The main thread's event-loop delay by window: a timer (unref'd) closes a window every
 * eventLoopWindowMs, keeping its figures and starting the histogram over. Until the first
 * window closes, the figures are those of the samples so far.
 */
export class EventLoopWindow {
  private readonly histogram: IntervalHistogram;
  /** Seconds per quantile of the last whole window, in the order of `quantiles`. */
  private readonly last = new Float64Array(quantiles.length);
  private closed = false;

  constructor(windowMs: number = eventLoopWindowMs) {
    assert(windowMs > eventLoopResolutionMs, 'event loop: a window holds samples');
    this.histogram = monitorEventLoopDelay({ resolution: eventLoopResolutionMs });
    this.histogram.enable();
    setInterval(() => this.close(), windowMs).unref();
  }

  /** Delay in seconds at each quantile (1: the longest), of the last whole window. */
  seconds(): Float64Array {
    if (!this.closed) this.read(this.last);
    return this.last;
  }

  private close(): void {
    this.read(this.last);
    this.closed = true;
    this.histogram.reset();
  }

  /**
   * Node records each sample as the whole time between two timer runs: the resolution is
   * taken off, so an idle loop reads about 0, not 10 ms. No sample yet: 0, not NaN.
   */
  private read(into: Float64Array): void {
    const h = this.histogram;
    for (let i = 0; i < quantiles.length; i++) {
      const ns = h.count === 0 ? 0 : quantiles[i] === 1 ? h.max : h.percentile(quantiles[i] * 100);
      into[i] = Math.max(0, ns / 1e9 - eventLoopResolutionMs / 1000);
    }
  }
}

function registerEventLoop(registry: Registry, window: EventLoopWindow): void {
  new Gauge({
    name: 'bourse_eventloop_delay_seconds',
    help: `Main thread's event-loop delay over the last ${eventLoopWindowMs / 1000} s window`,
    labelNames: ['quantile'],
    registers: [registry],
    collect(this: Gauge) {
      const seconds = window.seconds();
      for (let i = 0; i < quantiles.length; i++) {
        this.set({ quantile: String(quantiles[i]) }, seconds[i]);
      }
    },
  });
}
