/**
 * A small output ring (events) and a producer that publishes events of given sequences, as the
 * processor does: for tests of the ring's consumers (journal writer, publisher).
 */
import { eventSizeBytes } from '../../src/constants.js';
import { EventWord } from '../../src/protocol/event-layout.js';
import { RingBuffer } from '../../src/ring/ring-buffer.js';
import { Sequencer } from '../../src/ring/sequencer.js';
import type { SequenceBarrier } from '../../src/ring/sequence-barrier.js';
import { readEvent, type EventRecord } from '../../src/protocol/event-reader.js';
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

/** Reads the events `barrier` has available in `ring`, then releases them (allocates). */
export function takeEvents(ring: RingBuffer, barrier: SequenceBarrier): EventRecord[] {
  const seen: EventRecord[] = [];
  const last = barrier.available();
  for (let s = (barrier.position() + 1) | 0; s !== ((last + 1) | 0); s = (s + 1) | 0) {
    seen.push(readEvent(ring.records.u32, ring.slot(s) * EventWord.size));
  }
  barrier.release(last);
  return seen;
}
