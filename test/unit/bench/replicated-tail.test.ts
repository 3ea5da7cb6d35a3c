/**
 * bench:replicated's tail by stage (bench/lib/replicated-tail.ts) over the rows members keep
 * (src/pipeline/stage-rows.ts, through StageTimes): a command is found in the entry holding its
 * sequence, and its stages are read off the primary's row and the row of the standby whose
 * status came first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StageTimes } from '../../../src/pipeline/stage-times.js';
import { StageRows, Row } from '../../../src/pipeline/stage-rows.js';
import { replicatedTail } from '../../../bench/lib/replicated-tail.js';
import { RecordBuffer } from '../../../src/stdx/records.js';
import { EventWord } from '../../../src/protocol/event-layout.js';
import type { TailFigures } from '../../../bench/lib/tail-log.js';

/** Results of sequences `first`..`last` as the publisher hands them to its listener. */
function results(times: StageTimes, first: number, last: number, stampUs: number): void {
  const count = last - first + 1;
  const records = RecordBuffer.allocate(count, EventWord.size * 4);
  for (let i = 0; i < count; i++) {
    const at = i * EventWord.size;
    records.u32[at + EventWord.sequence] = first + i; // low word (the high one stays 0)
    records.u32[at + EventWord.timestamp] = stampUs % 2 ** 32;
    records.u32[at + EventWord.timestamp + 1] = Math.floor(stampUs / 2 ** 32);
  }
  times.result(records, 0, count);
}

test("each entry's row holds its milestones; results are found by sequence", () => {
  const primary = new StageTimes(new StageRows());
  const now = (performance.timeOrigin + performance.now()) * 1000;
  primary.sealed(1, { takenMs: (now - 80) / 1000, sealedMs: (now - 50) / 1000 });
  primary.proposed(1, now - 100, 1); // sequences 1-10
  primary.proposed(2, now - 90, 11); // 11-20
  primary.durable(2);
  primary.status(3, 0);
  primary.status(3, 2);
  primary.commit(2);
  results(primary, 1, 15, now - 100);
  results(primary, 16, 20, now - 90);
  const rows = primary.rows as StageRows;
  assert.equal(rows.get(1, Row.first_sequence), 1);
  assert.equal(rows.get(2, Row.first_sequence), 11);
  assert.equal(rows.get(1, Row.ack_1_from), 3);
  for (const field of [Row.taken, Row.sealed, Row.durable_here, Row.commit, Row.result]) {
    assert.ok(rows.get(1, field) > 0, `entry 1: field ${field}`);
  }
  assert.equal(rows.get(2, Row.taken), 0, 'its writer said nothing of entry 2');
  assert.ok(rows.get(2, Row.result) >= rows.get(2, Row.commit));

  const standby = new StageTimes(new StageRows());
  standby.received(2, 2, now - 100);
  standby.writing(2);
  standby.stored(2);
  const tail: TailFigures = {
    count: 2,
    duringGc: 0,
    sequences: [5, 12],
    each: { lagUs: [7, 7], toStampUs: [3, 3], fromStampUs: [900, 900], duringGc: [0, 0] },
    lagUs: 7,
    toStampUs: 3,
    fromStampUs: 900,
  };
  const standbyRows = new Map([[3, (standby.rows as StageRows).held()]]);
  const t = replicatedTail([tail], rows.held(), standbyRows);
  assert.equal(t.found, 2);
  assert.equal(t.stages.whole.p50, 910);
  assert.equal(t.stages.lag.mean, 7);
  assert.ok(t.stages.seal.mean >= 29 && t.stages.seal.mean <= 31, 'entry 1 only: 30 µs');
  assert.ok(t.stages.standby_write.p99 >= 0);
});
