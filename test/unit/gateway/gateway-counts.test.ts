/**
 * The gateway's counts (gateway-counts.ts): closes by code, Busy answers and refused frames, on
 * /metrics with every close code counted by name shown from the start, carried on across a
 * member's new node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JournalProgress } from '../../../src/journal/journal-progress.js';
import { CounterCarry, nodeMetrics } from '../../../src/pipeline/node-metrics.js';
import { closeCodeLabels, GatewayCounts } from '../../../src/gateway/gateway-counts.js';
import { RingBuffer } from '../../../src/ring/ring-buffer.js';
import { seriesValue as sample } from '../../harness/metrics-text.js';

function scrape(carried: CounterCarry, counts: GatewayCounts | null) {
  const ring = (): RingBuffer =>
    RingBuffer.create({ slotCount: 16, slotSizeBytes: 64, consumers: 1, spill: 0 });
  return nodeMetrics({
    progress: new JournalProgress(),
    inputRing: ring(),
    outputRing: ring(),
    connections: () => null,
    gatewayCounts: () => counts,
    role: { accepting: () => true, describe: () => ({}) },
    diskFree: () => 1,
    carried,
    scrapeCacheMs: 0,
  });
}

const closes = (code: string): string => `bourse_gateway_closes_total{code="${code}"}`;

test('gateway counts: closes by code (others as other), Busy answers, refused frames', () => {
  const counts = new GatewayCounts();
  for (const code of [4008, 4008, 1006, 4010, 3999, 1002]) counts.closed(code);
  counts.busyAnswers += 3;
  counts.refusedFrames += 2;
  const closedWith = (label: string): number => counts.closes[closeCodeLabels.indexOf(label)];
  assert.equal(closedWith('4008'), 2);
  assert.equal(closedWith('1006'), 1);
  assert.equal(closedWith('4010'), 1);
  assert.equal(closedWith('4001'), 0);
  assert.equal(closedWith('other'), 2, 'codes not counted by name: 3999, 1002');
  assert.equal(
    counts.closes.reduce((a, b) => a + b),
    6,
  );
  assert.equal(closeCodeLabels.length, counts.closes.length);
});

test("gateway counts on /metrics: every code shown, carried to a member's new node", async () => {
  const carried = new CounterCarry();
  const none = await scrape(new CounterCarry(), null).scrape();
  for (const code of closeCodeLabels) assert.equal(sample(none, closes(code)), 0, code);
  assert.equal(sample(none, 'bourse_gateway_busy_answers_total'), 0);
  assert.equal(sample(none, 'bourse_gateway_refused_frames_total'), 0);
  const first = new GatewayCounts();
  first.closed(4008);
  first.closed(4242);
  first.busyAnswers = 5;
  first.refusedFrames = 6;
  const metrics = scrape(carried, first);
  const before = await metrics.scrape();
  assert.equal(sample(before, closes('4008')), 1);
  assert.equal(sample(before, closes('other')), 1);
  assert.equal(sample(before, closes('1000')), 0);
  assert.equal(sample(before, 'bourse_gateway_busy_answers_total'), 5);
  assert.equal(sample(before, 'bourse_gateway_refused_frames_total'), 6);
  assert.match(before, /^# TYPE bourse_gateway_closes_total counter$/m);
  metrics.retire();
  const second = new GatewayCounts(); // the new node's gateway, from 0
  second.closed(4008);
  second.busyAnswers = 1;
  const after = await scrape(carried, second).scrape();
  assert.equal(sample(after, closes('4008')), 2);
  assert.equal(sample(after, closes('other')), 1);
  assert.equal(sample(after, 'bourse_gateway_busy_answers_total'), 6);
  assert.equal(sample(after, 'bourse_gateway_refused_frames_total'), 6);
});
