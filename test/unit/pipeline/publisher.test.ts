/**
 * The publisher's quorum gate: in a cluster it hands on only events whose command is committed
 * (durable on a majority), and all of a command's events together. A command may have several
 * events under its one sequence (an order and its fills): the cut is not a constant distance
 * from the newest event, which an earlier gate assumed (it let a command's head out before its
 * fills, and could let out a command not yet committed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventWord } from '../../../src/protocol/event-layout.js';
import { Publisher } from '../../../src/pipeline/publisher.js';
import { RingBuffer } from '../../../src/ring/ring-buffer.js';
import { SequenceBarrier } from '../../../src/ring/sequence-barrier.js';
import { readU64, type RecordBuffer } from '../../../src/stdx/records.js';
import { eventRing } from '../../harness/event-ring.js';
import { until } from '../../harness/wait.js';

/** Event sequences as the processor writes them: commands 2 and 4 have several events. */
const events = [1, 2, 2, 2, 3, 4, 4, 5];

/** A 16-slot output ring, and a producer that writes events of these sequences, durable. */
function outputRing(): { ring: RingBuffer; write: (sequences: readonly number[]) => void } {
  const { ring, wait, publish } = eventRing(2);
  const journal = new SequenceBarrier(ring, 0, wait);
  const write = (sequences: readonly number[]): void => journal.release(publish(sequences));
  return { ring, write };
}

function sequencesOf(records: RecordBuffer, slot: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.push(readU64(records.u32, (slot + i) * EventWord.size + EventWord.sequence));
  }
  return out;
}

test('publisher: a cluster hands on whole committed commands only', async () => {
  const { ring, write } = outputRing();
  write(events);

  let committed = 0;
  const seen: number[] = [];
  const publisher = new Publisher(ring);
  publisher.gate = () => committed;
  publisher.listen((records, slot, count) => seen.push(...sequencesOf(records, slot, count)));
  const running = publisher.run();
  try {
    const expect = async (upTo: number): Promise<void> => {
      committed = upTo;
      publisher.wake();
      const wanted = events.filter((s) => s <= upTo);
      await until(`events up to ${upTo}`, () => seen.length >= wanted.length);
      await new Promise((resolve) => setTimeout(resolve, 20)); // nothing more comes
      assert.deepEqual(seen, wanted);
    };
    await expect(0);
    await expect(1);
    await expect(2); // the three events of command 2, and not command 3's
    await expect(3);
    await expect(5);
  } finally {
    committed = Infinity;
    ring.halt();
    publisher.wake();
    await running;
  }
});

test('publisher: a command whose events straddle the ring end goes out in one call', async () => {
  const { ring, write } = outputRing();
  const calls: number[][] = [];
  const publisher = new Publisher(ring);
  publisher.listen((records, slot, count) => calls.push(sequencesOf(records, slot, count)));
  const running = publisher.run();
  try {
    write([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]); // slots 0-13
    await until('the first run', () => calls.flat().length === 14);
    calls.length = 0;
    // Slots 14, 15, 0, 1, 2: command 16's three events straddle the end, 17 follows.
    write([15, 16, 16, 16, 17]);
    await until('the wrapped run', () => calls.flat().length === 5);
    assert.deepEqual(calls, [[15], [16, 16, 16], [17]]);
  } finally {
    ring.halt();
    await running;
  }
});
