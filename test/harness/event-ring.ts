/**
 * A small output ring (events) and a producer that publishes events of given sequences, as the
 * processor does: for tests of the ring's consumers (journal writer, publisher).
 */
import { eventSizeBytes } from '../../src/constants.js';
import { EventWord } from '../../src/protocol/event-layout.js';
import { RingBuffer } from '../../src/ring/ring-buffer.js';
import { Sequencer } from '../../src/ring/sequencer.js';
import { WaitStrategy } from '../../src/ring/wait-strategy.js';
import { write64 } from '../../src/stdx/records.js';

export interface EventRing {
  ring: RingBuffer;
  wait: WaitStrategy;
  /**
   * Publishes one event per sequence given (timestamp 1,000 + its sequence); returns the ring
   * sequence of the last.
   */
  publish: (sequences: readonly number[]) => number;
}

/** A 16-slot event ring with `consumers` consumers. */
export function eventRing(consumers: number): EventRing {
  const ring = RingBuffer.create({
    slotCount: 16,
    slotSizeBytes: eventSizeBytes,
    consumers,
    spill: 4,
  });
  const wait = new WaitStrategy(0, 1);
  const producer = new Sequencer(ring, wait);
  const publish = (sequences: readonly number[]): number => {
    const first = producer.nextSequence();
    for (let i = 0; i < sequences.length; i++) {
      const w = ring.slot((first + i) | 0) * EventWord.size;
      write64(ring.records.u32, w + EventWord.sequence, sequences[i]);
      write64(ring.records.u32, w + EventWord.timestamp, 1_000 + sequences[i]);
    }
    producer.advance(sequences.length);
    producer.publish();
    return (first + sequences.length - 1) | 0;
  };
  return { ring, wait, publish };
}
