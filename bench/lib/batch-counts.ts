/**
 * How a node's threads batched over a window, from its progress counters: commands a
 * processor batch (what one wait for input returned: a wake-up when the processor slept; one
 * gateway frame at most loads), commands and bytes a journal batch (one commit + fsync), and
 * commits a second. Read at the window's start and end (`start`, `figures`).
 */
import { ProgressSlot, type JournalProgress } from '../../src/journal/journal-progress.js';

const slots = [
  ProgressSlot.commandsProcessed,
  ProgressSlot.processorBatches,
  ProgressSlot.batchesWritten,
  ProgressSlot.bytesWritten,
] as const;

export class BatchCounts {
  private readonly at = new Float64Array(slots.length);
  private startMs = 0;

  constructor(private readonly progress: JournalProgress) {}

  start(): void {
    for (let i = 0; i < slots.length; i++) this.at[i] = this.progress.get(slots[i]);
    this.startMs = performance.now();
  }

  /** The window's figures (0 where nothing was counted). */
  figures(): {
    processor_batch_commands: number;
    journal_batch_commands: number;
    journal_batch_kb: number;
    journal_commits_per_s: number;
  } {
    const d = slots.map((slot, i) => this.progress.get(slot) - this.at[i]);
    const [commands, processorBatches, journalBatches, bytes] = d;
    const ratio = (a: number, b: number): number => (b <= 0 ? 0 : Math.round((10 * a) / b) / 10);
    const seconds = (performance.now() - this.startMs) / 1000;
    return {
      processor_batch_commands: ratio(commands, processorBatches),
      journal_batch_commands: ratio(commands, journalBatches),
      journal_batch_kb: ratio(bytes / 1024, journalBatches),
      journal_commits_per_s: Math.round(journalBatches / Math.max(seconds, 1e-3)),
    };
  }
}
