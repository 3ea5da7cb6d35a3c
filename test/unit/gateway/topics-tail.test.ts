/**
 * The standby's topics tail (gateway/topics-tail.ts) on a journal of its own: a poll hands the
 * topics at most one catch-up turn's events, the rest at the next polls, in order; the catch-up
 * before a promoted node's publisher goes on hands out all.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { TopicsTail } from '../../../src/gateway/topics-tail.js';
import { journalPollMs, type JournalChunks } from '../../../src/gateway/journal-stream.js';
import { eventSizeBytes, journalCatchUpEventsPerTurnMax } from '../../../src/constants.js';
import { EventWord } from '../../../src/protocol/event-layout.js';
import { readU64, type RecordBuffer } from '../../../src/stdx/records.js';

/** A journal of events 1 to `visible`, in batches of 256. */
class FakeJournal implements JournalChunks {
  visible = 0;
  chunkFrom(from: number, eventsMax: number) {
    if (from > this.visible) return null;
    const count = Math.min(this.visible - from + 1, Math.max(256, eventsMax));
    const events = new Uint8Array(count * eventSizeBytes);
    const u32 = new Uint32Array(events.buffer);
    for (let i = 0; i < count; i++) u32[i * EventWord.size + EventWord.sequence] = from + i;
    return { events, count, last: from + count - 1 };
  }
}

function setUp(handOver: () => number | null = () => null) {
  const journal = new FakeJournal();
  const sequences: number[] = [];
  const publish = (records: RecordBuffer, slot: number, count: number): void => {
    for (let i = 0; i < count; i++) {
      sequences.push(readU64(records.u32, (slot + i) * EventWord.size + EventWord.sequence));
    }
  };
  const fail = (error: unknown): void => assert.fail(String(error));
  const tail = new TopicsTail(journal, () => journal.visible, handOver, publish, fail);
  return { journal, sequences, tail };
}

/**
 * Fails on the old code: the first poll after a backlog of 40,000 events (a standby's loop
 * stalled 0.4 s at 100k/s: 5 MB) handed all of them out in one call, past the 4 MB a session
 * may leave unsent.
 */
test('a poll hands out at most a turn of a backlog, the rest at the next polls', () => {
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const { journal, sequences, tail } = setUp();
    tail.start();
    journal.visible = 40_000;
    mock.timers.tick(journalPollMs);
    assert.ok(sequences.length > 0, 'the poll went on');
    assert.ok(sequences.length <= journalCatchUpEventsPerTurnMax, 'at most a turn of it');
    for (let polls = 0; polls < 10 && sequences.length < 40_000; polls++) {
      mock.timers.tick(journalPollMs);
    }
    assert.equal(sequences.length, 40_000, 'all, in a few polls');
    assert.ok(
      sequences.every((s, i) => s === i + 1),
      'in order, once each',
    );
    tail.stop();
  } finally {
    mock.timers.reset();
  }
});

test('the catch-up before a promoted publisher hands out all, up to the hand-over', () => {
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    let handOver: number | null = null;
    const { journal, sequences, tail } = setUp(() => handOver);
    tail.start();
    journal.visible = 40_000;
    handOver = 30_000;
    tail.catchUp();
    assert.equal(sequences.length, 30_000, 'all of it at once, none past the hand-over');
    assert.equal(sequences.at(-1), 30_000);
    mock.timers.tick(journalPollMs);
    assert.equal(sequences.length, 30_000, 'stopped: the publisher goes on');
  } finally {
    mock.timers.reset();
  }
});
