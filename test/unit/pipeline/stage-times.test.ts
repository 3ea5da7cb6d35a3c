import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StageTimes } from '../../../src/pipeline/stage-times.js';
import { StageHistogram, stageBucketUpperUs } from '../../../src/replication/stage-histogram.js';

test('a stage histogram puts each duration in the bucket that bounds it', () => {
  const h = new StageHistogram();
  for (const us of [0, 1, 3, 1_000, 1e12]) h.record(us);
  assert.equal(h.count, 5);
  assert.equal(h.counts[0], 2); // below 1 µs, and 1 µs
  const b = h.counts.findIndex((n, i) => i > 0 && n > 0);
  assert.ok(stageBucketUpperUs(b) > 3 && stageBucketUpperUs(b - 1) <= 3);
  assert.equal(h.counts[h.counts.length - 1], 1); // past the last bound
});

test('the primary times each entry once per stage: durable here, each ack, the commit', () => {
  const s = new StageTimes();
  const now = (performance.timeOrigin + performance.now()) * 1000;
  s.sealed(1, { takenMs: (now - 80) / 1000, sealedMs: (now - 50) / 1000 });
  for (let i = 1; i <= 4; i++) s.proposed(i, now - 100, i);
  s.durable(3);
  s.status(2, 0); // a standby's first status: where it stands
  s.status(2, 2);
  s.status(3, 0);
  s.status(3, 4);
  s.status(2, 4);
  s.commit(2);
  s.commit(4);
  s.durable(4);
  const count = (name: Parameters<StageTimes['stages']['get']>[0]) => s.stages.get(name)!.count;
  assert.equal(count('sequenced_to_proposed'), 4);
  assert.equal(count('sequenced_to_taken'), 1, 'the one batch whose writer said when');
  const taken = s.stages.get('taken_to_sealed')!;
  assert.ok(Math.abs(taken.sumUs - 30) < 1, 'taken to sealed: 30 µs');
  assert.equal(count('proposed_to_durable_here'), 4);
  assert.equal(count('proposed_to_ack_1'), 4);
  assert.equal(count('proposed_to_ack_2'), 4);
  assert.equal(count('proposed_to_commit'), 4);
  assert.ok(s.stages.get('sequenced_to_proposed')!.sumUs >= 400);
});

test('a standby times each entry from received to its write, and its write to durable', () => {
  const s = new StageTimes();
  const now = (performance.timeOrigin + performance.now()) * 1000;
  s.received(2, 2, now);
  s.received(3, 1, now);
  s.writing(3);
  s.writing(3); // the same write told twice: timed once
  s.stored(3);
  assert.equal(s.stages.get('sequenced_to_received')!.count, 2);
  assert.equal(s.stages.get('received_to_write')!.count, 3);
  assert.equal(s.stages.get('write_to_durable')!.count, 3);
});
