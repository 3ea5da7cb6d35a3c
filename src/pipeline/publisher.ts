/**
 * The publisher: consumer 1 of the output ring, behind the journal writer (consumer 0), so it
 * sees only durable events. It hands them to a listener (the gateway's responses, later) one
 * contiguous run of ring slots at a time, then releases them.
 *
 *   output ring  [ durable ............ | committing ..... | published ]
 *                 ▲ publisher (1)         ▲ journal (0)      ▲ cursor
 */
import { ringSleepMs, ringSpinCount } from '../constants.js';
import type { RecordBuffer } from '../stdx/records.js';
import type { RingBuffer } from '../ring/ring-buffer.js';
import { SequenceBarrier } from '../ring/sequence-barrier.js';
import { WaitStrategy } from '../ring/wait-strategy.js';
import { waitForAsync } from '../ring/async-wait.js';
import { after, distance, RingWord } from '../ring/ring-layout.js';

/**
 * Receives `count` durable events at ring slots `slot` .. `slot + count - 1` of `records`; the
 * views are valid only during the call.
 */
export type DurableListener = (records: RecordBuffer, slot: number, count: number) => void;

export class Publisher {
  private readonly barrier: SequenceBarrier;
  private readonly listeners: DurableListener[] = [];
  eventsPublished = 0;

  constructor(ring: RingBuffer) {
    this.barrier = new SequenceBarrier(ring, 1, new WaitStrategy(ringSpinCount, ringSleepMs), [0]);
  }

  listen(listener: DurableListener): void {
    this.listeners.push(listener);
  }

  /** Runs until the ring is halted and every published event has passed through. */
  async run(): Promise<void> {
    const ring = this.barrier.ring;
    for (;;) {
      const available = await waitForAsync(this.barrier, ringSleepMs);
      if (after(available, this.barrier.position())) {
        this.deliver(available);
        continue;
      }
      if (!ring.halted()) continue;
      if (this.barrier.position() === Atomics.load(ring.header, RingWord.cursor)) return;
      await new Promise((resolve) => setTimeout(resolve, 1)); // draining after halt
    }
  }

  private deliver(last: number): void {
    const ring = this.barrier.ring;
    const first = (this.barrier.position() + 1) | 0;
    const count = distance(last, first) + 1;
    const slot = ring.slot(first);
    const head = Math.min(count, ring.slotCount - slot);
    for (const listener of this.listeners) {
      listener(ring.records, slot, head);
      if (head < count) listener(ring.records, 0, count - head);
    }
    this.eventsPublished += count;
    this.barrier.release(last);
  }
}
