/**
 * A consumer loop in the Disruptor's shape: wait for the producer, hand every slot of the
 * available batch to the handler (telling it which is the last, so it can flush once per batch),
 * then release the batch with one store. Blocking: for worker threads only.
 */
import { after, distance } from './ring-layout.js';
import type { RecordBuffer } from '../stdx/records.js';
import type { SequenceBarrier } from './sequence-barrier.js';

export interface EventHandler {
  /**
   * One slot of a batch. The record at `slot` of `records` is valid until the batch is released,
   * i.e. until this call returns with endOfBatch true.
   */
  onEvent(records: RecordBuffer, slot: number, sequence: number, endOfBatch: boolean): void;
}

export class BatchEventProcessor {
  private readonly barrier: SequenceBarrier;
  private readonly handler: EventHandler;
  private readonly batchMax: number;

  /** Batches are cut at `batchMax` slots so that the producer gets space back regularly. */
  constructor(barrier: SequenceBarrier, handler: EventHandler, batchMax: number) {
    this.barrier = barrier;
    this.handler = handler;
    this.batchMax = batchMax;
  }

  /** Processes batches until the ring is halted and drained. */
  run(): void {
    const ring = this.barrier.ring;
    for (;;) {
      const available = this.barrier.waitFor();
      const position = this.barrier.position();
      if (!after(available, position)) {
        if (ring.halted()) return;
        continue;
      }
      const last =
        distance(available, position) > this.batchMax ? (position + this.batchMax) | 0 : available;
      this.processBatch(position, last);
    }
  }

  /** Processes sequences (from, last] and releases them; returns the count. */
  processBatch(from: number, last: number): number {
    const ring = this.barrier.ring;
    const records = ring.records;
    let count = 0;
    for (let s = (from + 1) | 0; ; s = (s + 1) | 0) {
      this.handler.onEvent(records, ring.slot(s), s, s === last);
      count++;
      if (s === last) break;
    }
    this.barrier.release(last);
    return count;
  }
}
