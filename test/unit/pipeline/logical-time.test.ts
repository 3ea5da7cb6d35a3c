/**
 * Logical time on a new primary whose clock is behind its predecessor's last timestamp (a
 * failover onto a slower clock): the processor is started, as on promotion, over an engine
 * whose last event was stamped by the old primary, with a clock of the test's an hour behind
 * it. Before, every batch was stamped with that one last timestamp until the clock caught up:
 * an hour of commands at a single instant. Now each batch is stamped 1 µs past the last, and
 * from the clock again once it has caught up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusinessLogicProcessor } from '../../../src/pipeline/business-logic-processor.js';
import { nextTimestampUs } from '../../../src/pipeline/logical-time.js';
import { JournalProgress, ProgressSlot } from '../../../src/journal/journal-progress.js';
import { RingBuffer } from '../../../src/ring/ring-buffer.js';
import { SequenceBarrier } from '../../../src/ring/sequence-barrier.js';
import { Sequencer } from '../../../src/ring/sequencer.js';
import { WaitStrategy } from '../../../src/ring/wait-strategy.js';
import { eventSizeBytes } from '../../../src/constants.js';
import { CommandKind, SequencedWord } from '../../../src/protocol/command-layout.js';
import { writeCommand } from '../../../src/protocol/command-writer.js';
import type { EventRecord } from '../../../src/protocol/event-reader.js';
import { EngineDriver } from '../../harness/engine-driver.js';
import { takeEvents } from '../../harness/event-ring.js';

const hourUs = 3_600_000_000;
const USD = 1;

/** An engine as the old primary left it: an account with money, its last event at `at`. */
function engineStampedAt(at: number): EngineDriver {
  const d = new EngineDriver();
  d.timestamp = at - 3_000; // the driver adds 1 ms a command
  d.submit({ kind: CommandKind.AddAsset, ref: USD, aux: 2 });
  d.submit({ kind: CommandKind.CreateAccount, account: 10 });
  d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 1_000 });
  assert.equal(d.engine.position()[1], at);
  return d;
}

/** The processor a promoted member starts over `d`'s engine, reading `clock` (µs). */
function promoted(d: EngineDriver, clock: { nowUs: number }) {
  const wait = new WaitStrategy(0, 1);
  const slotWords = SequencedWord.size;
  const slotSizeBytes = slotWords * 4;
  const input = RingBuffer.create({ slotCount: 64, slotSizeBytes, consumers: 1, spill: 0 });
  const output = RingBuffer.create({
    slotCount: 1 << 10,
    slotSizeBytes: eventSizeBytes,
    consumers: 1,
    spill: d.engine.eventsPerCommandMax,
  });
  const producer = new Sequencer(input, wait);
  const taken = new SequenceBarrier(input, 0, wait);
  const events = new SequenceBarrier(output, 0, wait);
  const progress = new JournalProgress();
  const processor = new BusinessLogicProcessor(
    d.engine,
    taken,
    new Sequencer(output, wait),
    progress,
    64,
    () => clock.nowUs,
  );
  let seq = 100;
  /** Sends `n` deposits as one batch; returns the events the processor wrote for them. */
  const batch = (n: number): EventRecord[] => {
    assert.ok(producer.reserve(n));
    const first = producer.nextSequence();
    for (let i = 0; i < n; i++) {
      const deposit = { kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 1 };
      const w = input.slot((first + i) | 0) * slotWords;
      writeCommand(input.records.u32, w, { ...deposit, clientId: 1, clientSeq: ++seq });
    }
    producer.advance(n);
    producer.publish();
    processor.processBatch(taken.position(), taken.available());
    return takeEvents(output, events);
  };
  return { batch, progress };
}

/** The one timestamp of a batch's events (a batch's commands share one). */
function stampOf(events: EventRecord[]): number {
  assert.ok(events.length > 0);
  const stamps = new Set(events.map((e) => e.timestamp));
  assert.equal(stamps.size, 1, "a batch's commands share one timestamp");
  return events[0].timestamp;
}

test('logical time: a new primary whose clock is behind moves it on by 1 µs a batch', () => {
  const last = 1_800_000_000_000_000; // the old primary's last timestamp
  const d = engineStampedAt(last);
  const clock = { nowUs: last - hourUs }; // the new primary's clock: an hour behind
  const { batch, progress } = promoted(d, clock);
  const stamps: number[] = [];
  for (let i = 0; i < 5; i++) {
    stamps.push(stampOf(batch(3)));
    clock.nowUs += 1_000; // its clock runs, still an hour behind
  }
  assert.deepEqual(
    stamps,
    [last + 1, last + 2, last + 3, last + 4, last + 5],
    'each batch has a time of its own, past the old primary last',
  );
  assert.equal(progress.get(ProgressSlot.timestampStamped), last + 5);
  assert.equal(d.engine.position()[1], last + 5, "the engine's position is the stamped time");
  // The clock catches up: batches are stamped from it again.
  clock.nowUs = last + 2_000_000;
  assert.equal(stampOf(batch(2)), last + 2_000_000);
  assert.equal(stampOf(batch(2)), last + 2_000_001, 'a clock standing still: 1 µs on');
  assert.deepEqual(d.balance(10, USD), { available: 1_000 + 5 * 3 + 2 * 2, held: 0 });
});

test('logical time: the rule, max(clock, last + 1)', () => {
  assert.equal(nextTimestampUs(2_000, 1_000), 2_000, 'a clock ahead is taken');
  assert.equal(nextTimestampUs(1_000, 1_000), 1_001, 'a clock at the last: 1 µs on');
  assert.equal(nextTimestampUs(10, 1_000), 1_001, 'a clock behind: 1 µs on');
  assert.equal(nextTimestampUs(1_700_000_000_000_000, 0), 1_700_000_000_000_000);
});
