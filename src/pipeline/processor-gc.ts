/**
 * GC pauses on the business-logic processor's thread, for /metrics and the processor's final
 * report. V8's GCProfiler records each pause from the GC's own callbacks (no event loop needed:
 * the processor's loop never yields to it); `sample()` stops it, adds what it saw to the shared
 * counters and starts it again. The processor calls it at most once a second, after a batch:
 * the profiler's report is the only allocation, a few hundred bytes when no GC ran.
 */
import { GCProfiler } from 'node:v8';
import { JournalProgress, ProgressSlot } from '../journal/journal-progress.js';

export class ProcessorGc {
  private readonly profiler = new GCProfiler();
  private readonly progress: JournalProgress;
  pauses = 0;
  pauseMaxUs = 0;

  constructor(progress: JournalProgress) {
    this.progress = progress;
  }

  start(): void {
    this.profiler.start();
  }

  /** Adds the pauses since the last call to the counters; the profiler keeps running. */
  sample(): void {
    this.add();
    this.profiler.start();
  }

  /** Adds the last pauses and stops the profiler. */
  stop(): void {
    this.add();
  }

  private add(): void {
    const pauses = this.profiler.stop()?.statistics ?? [];
    for (const p of pauses) this.pauseMaxUs = Math.max(this.pauseMaxUs, p.cost);
    this.pauses += pauses.length;
    this.progress.set(ProgressSlot.processorGcPauses, this.pauses);
    this.progress.set(ProgressSlot.processorGcPauseMaxUs, this.pauseMaxUs);
  }
}
