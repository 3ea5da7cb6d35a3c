/**
 * Watches garbage collections through perf_hooks, so a bench can report the longest pause in a
 * phase. Entries arrive asynchronously: call `settle()` after the phase before reading.
 */
import { PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';

export class GcWatch {
  private readonly entries: PerformanceEntry[] = [];
  private readonly observer: PerformanceObserver;

  constructor() {
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.entries.push(entry);
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  now(): number {
    return performance.now();
  }

  async settle(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  /** Count and longest pause (ms) of collections that started within [from, to]. */
  between(from: number, to: number): { count: number; maxMs: number; totalMs: number } {
    let count = 0;
    let maxMs = 0;
    let totalMs = 0;
    for (const e of this.entries) {
      if (e.startTime < from || e.startTime > to) continue;
      count++;
      totalMs += e.duration;
      if (e.duration > maxMs) maxMs = e.duration;
    }
    return { count, maxMs, totalMs };
  }

  /** Collections that started within [from, to], as [start, end] ms pairs. */
  pauses(from: number, to: number): [number, number][] {
    const out: [number, number][] = [];
    for (const e of this.entries) {
      if (e.startTime >= from && e.startTime <= to)
        out.push([e.startTime, e.startTime + e.duration]);
    }
    return out;
  }

  stop(): void {
    this.observer.disconnect();
  }
}

/** Heap in use after a full collection (needs node --expose-gc). */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}
