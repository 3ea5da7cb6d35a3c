/**
 * The business-logic processor's batch loop: a batch longer than prefetchCommandsMax is read
 * ahead and decided in runs, and one that wraps around the input ring's end is decided all the
 * same: every command once, in order, as the engine decides them one by one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../../src/engine/engine.js';
import { BusinessLogicProcessor } from '../../../src/pipeline/business-logic-processor.js';
import { JournalProgress, ProgressSlot } from '../../../src/journal/journal-progress.js';
import { RingBuffer } from '../../../src/ring/ring-buffer.js';
import { SequenceBarrier } from '../../../src/ring/sequence-barrier.js';
import { Sequencer } from '../../../src/ring/sequencer.js';
import { WaitStrategy } from '../../../src/ring/wait-strategy.js';
import { eventSizeBytes, prefetchCommandsMax } from '../../../src/constants.js';
import { SequencedWord } from '../../../src/protocol/command-layout.js';
import { writeCommand } from '../../../src/protocol/command-writer.js';
import type { EventRecord } from '../../../src/protocol/event-reader.js';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import { takeEvents } from '../../harness/event-ring.js';
import { workload } from '../../harness/workload.js';

/** An event without its timestamp (the processor stamps wall-clock time, the driver not). */
function shape(e: EventRecord): EventRecord {
  return { ...e, timestamp: 0 };
}

test('processor: long and wrapping batches decide every command once, in order', () => {
  const commands = workload(1, 900, 7);
  const reference = new EngineDriver(smallConfig);
  const expected: EventRecord[] = [];
  for (const f of commands) {
    writeCommand(reference.commands.u32, 0, f);
    expected.push(...reference.executeRaw(reference.commands.u32, 0).map(shape));
  }

  const wait = new WaitStrategy(0, 1);
  const slotWords = SequencedWord.size;
  const input = RingBuffer.create({
    slotCount: 512,
    slotSizeBytes: slotWords * 4,
    consumers: 1,
    spill: 0,
  });
  const engine = new Engine(smallConfig);
  const output = RingBuffer.create({
    slotCount: 1 << 13,
    slotSizeBytes: eventSizeBytes,
    consumers: 1,
    spill: engine.eventsPerCommandMax,
  });
  const producer = new Sequencer(input, wait);
  const taken = new SequenceBarrier(input, 0, wait);
  const eventsOut = new SequenceBarrier(output, 0, wait);
  const progress = new JournalProgress();
  const processor = new BusinessLogicProcessor(
    engine,
    taken,
    new Sequencer(output, wait),
    progress,
    4096,
  );
  const seen: EventRecord[] = [];
  let batches = 0;
  const batch = 300; // > 2 * prefetchCommandsMax; the second batch wraps the 512-slot ring
  assert.ok(batch > 2 * prefetchCommandsMax);
  for (let at = 0; at < commands.length; at += batch) {
    const n = Math.min(batch, commands.length - at);
    assert.ok(producer.reserve(n));
    const first = producer.nextSequence();
    for (let i = 0; i < n; i++) {
      writeCommand(input.records.u32, input.slot((first + i) | 0) * slotWords, commands[at + i]);
    }
    producer.advance(n);
    producer.publish();
    processor.processBatch(taken.position(), taken.available());
    batches++;
    seen.push(...takeEvents(output, eventsOut).map(shape));
  }
  assert.equal(processor.commandsProcessed, commands.length);
  // One batch per call however long (runs of prefetchCommandsMax are no batches of their own):
  // bourse_processor_batches_total, the processor's wake-ups.
  assert.equal(processor.batchesProcessed, batches);
  assert.equal(progress.get(ProgressSlot.processorBatches), batches);
  assert.equal(progress.get(ProgressSlot.commandsProcessed), commands.length);
  assert.equal(seen.length, expected.length);
  assert.deepEqual(seen, expected);
  assert.equal(engine.checksum.hex(), reference.engine.checksum.hex());
});
