import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StageTrace } from '../../../bench/lib/stage-trace.js';
import {
  batchLogEntryWords,
  BatchLogWord,
  JournalProgress,
  ProgressSlot,
} from '../../../src/journal/journal-progress.js';
import { eventSizeBytes } from '../../../src/constants.js';
import { EventFlag, EventWord } from '../../../src/protocol/event-layout.js';
import { RecordBuffer, write64 } from '../../../src/stdx/records.js';

/** One journal batch in the progress's log: its last sequence, commit start and durable (µs). */
function logBatch(p: JournalProgress, batch: number, last: number, startUs: number, endUs: number) {
  const at = batch * batchLogEntryWords;
  p.batchLog[at + BatchLogWord.lastSequence] = last;
  p.batchLog[at + BatchLogWord.commitStartUs] = startUs;
  p.batchLog[at + BatchLogWord.durableUs] = endUs;
  p.set(ProgressSlot.batchesWritten, batch + 1);
}

/** Head events of commands `first`.. stamped at `stampUs` each. */
function heads(first: number, stampsUs: number[]): RecordBuffer {
  const records = RecordBuffer.allocate(stampsUs.length, eventSizeBytes);
  stampsUs.forEach((stampUs, i) => {
    const e = i * EventWord.size;
    write64(records.u32, e + EventWord.sequence, first + i);
    write64(records.u32, e + EventWord.timestamp, stampUs);
    records.u32[e + EventWord.flagsTifStp] = EventFlag.Head;
  });
  return records;
}

test("the tail's commands are found by sequence, with their own batch's stages", () => {
  const progress = new JournalProgress();
  const nowUs = Math.round((performance.timeOrigin + performance.now()) * 1000);
  // Commands 10, 11 in batch 0 (commit from now - 5,000 to now - 4,000 µs); 12 in batch 1
  // (its commit took 3,000 µs, and it waited 1,000 µs for it after its stamp).
  logBatch(progress, 0, 11, nowUs - 5_000, nowUs - 4_000);
  logBatch(progress, 1, 12, nowUs - 3_500, nowUs - 500);
  const trace = new StageTrace(progress, 0, 16);
  trace.start();
  trace.listener(heads(10, [nowUs - 6_000, nowUs - 5_500, nowUs - 4_500]), 0, 3);
  const slow = trace.tailStages([12]);
  assert.equal(slow.found, 1);
  assert.equal(slow.journal_wait, 1_000);
  assert.equal(slow.commit, 3_000);
  assert.ok(slow.wake >= 500, 'answered at least 500 µs after durable');
  const both = trace.tailStages([10, 11, 99, 3]);
  assert.equal(both.found, 2, 'sequences not recorded (99, 3) are left out');
  assert.equal(both.journal_wait, 750);
  assert.equal(both.commit, 1_000);
  const twelve = trace.stagesOf(12);
  assert.ok(twelve !== null);
  assert.equal(twelve.behindCommit, 500, 'stamped 500 µs before the commit ahead ended');
  assert.equal(trace.stagesOf(10)?.behindCommit, 0, 'no batch ahead in the log');
  assert.equal(trace.stagesOf(99), null);
  assert.deepEqual(new StageTrace(progress).tailStages([10]), {
    found: 0,
    journal_wait: 0,
    commit: 0,
    wake: 0,
  });
});
