/**
 * The pipeline watch: a stall (commands wait, nothing becomes durable) is logged once per
 * watchLogEveryMs with the stage that holds it, makes /ready's reason, and clears when the
 * pipeline moves; full rings and tables and read timeouts are logged; an idle node is quiet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JournalProgress, ProgressSlot } from '../../../src/journal/journal-progress.js';
import { PipelineWatch, type WatchedRing } from '../../../src/pipeline/pipeline-watch.js';
import { smallConfig } from '../../harness/engine-driver.js';
import * as constants from '../../../src/constants.js';

const { clockBehindWarnMs, pipelineStallMs, watchLogEveryMs } = constants;

class FakeRing implements WatchedRing {
  readonly lags: number[];
  constructor(
    readonly slotCount: number,
    readonly consumers: number,
  ) {
    this.lags = new Array<number>(consumers).fill(0);
  }
  occupancy(): number {
    return Math.max(...this.lags);
  }
  consumerLag(i: number): number {
    return this.lags[i];
  }
}

function watched() {
  const progress = new JournalProgress();
  const input = new FakeRing(1024, 1);
  const output = new FakeRing(4096, 3);
  const reads = { timeouts: 0 };
  const lines: [string, string][] = [];
  const log = (line: string, level = 'info'): void => void lines.push([level, line]);
  const watch = new PipelineWatch({ progress, input, output, config: smallConfig, reads, log }, 0);
  return { progress, input, output, reads, lines, watch };
}

test('watch: a stall is logged, rate-limited, named in /ready, and cleared when it moves', () => {
  const w = watched();
  w.progress.set(ProgressSlot.sequenceDurable, 100);
  w.input.lags[0] = 300; // commands wait
  w.output.lags[2] = 4_000; // the read model holds the output ring
  for (let t = 0; t < pipelineStallMs; t += 1_000) w.watch.tick(t);
  assert.equal(w.watch.stalled(), null, 'not yet: durable moved at the start');
  w.watch.tick(pipelineStallMs);
  const reason = w.watch.stalled();
  assert.ok(reason !== null);
  assert.match(reason, /^stalled: nothing durable for 5 s while 300 commands wait/);
  assert.match(reason, /the output ring is full: the read model is 4000 slots behind/);
  assert.equal(w.watch.stalledSeconds(pipelineStallMs + 500), 5.5);
  const stalls = (): number => w.lines.filter(([, l]) => l.startsWith('pipeline stalled')).length;
  assert.equal(stalls(), 1);
  for (let t = pipelineStallMs; t < pipelineStallMs + watchLogEveryMs; t += 1_000) w.watch.tick(t);
  assert.equal(stalls(), 1, 'once per watchLogEveryMs');
  w.watch.tick(pipelineStallMs + watchLogEveryMs);
  assert.equal(stalls(), 2);
  assert.ok(w.lines.some(([level, l]) => level === 'warn' && /^output ring full/.test(l)));
  w.progress.set(ProgressSlot.sequenceDurable, 101);
  w.watch.tick(60_000);
  assert.equal(w.watch.stalled(), null);
  assert.equal(w.watch.stalledSeconds(60_000), 0);
  assert.match(w.lines.at(-1)![1], /^pipeline moves again: sequence 101 durable after \d+ s/);
});

test('watch: an idle node is quiet; decided but not durable counts as waiting', () => {
  const w = watched();
  w.progress.set(ProgressSlot.sequenceDurable, 50);
  for (let t = 0; t <= 60_000; t += 1_000) w.watch.tick(t);
  assert.equal(w.watch.stalled(), null);
  assert.deepEqual(w.lines, []);
  w.progress.set(ProgressSlot.sequencePublished, 60); // the journal writer does not commit
  for (let t = 61_000; t <= 61_000 + pipelineStallMs; t += 1_000) w.watch.tick(t);
  assert.match(w.watch.stalled() ?? '', /while 10 commands wait; the journal has not committed/);
});

test('watch: tables near full and full, and reads that timed out', () => {
  const w = watched();
  w.progress.set(ProgressSlot.ordersUsed, Math.ceil(smallConfig.orderCountMax * 0.92));
  w.reads.timeouts = 3;
  w.watch.tick(0);
  const text = w.lines.map(([level, l]) => `${level} ${l}`).join('\n');
  assert.match(text, /^warn orders table 92% full \(943 of 1024\)$/m);
  assert.match(text, /^warn 3 reads timed out \(not answered in 5 s, answered 503\)/m);
  w.progress.set(ProgressSlot.ordersUsed, smallConfig.orderCountMax);
  w.reads.timeouts = 4;
  w.watch.tick(1_000);
  assert.match(w.lines.at(-1)![1], /^orders table full \(1024\): .*MatchingOrderTableFull$/);
  assert.equal(w.lines.length, 3, 'the next read timeout waits for watchLogEveryMs');
  w.watch.tick(watchLogEveryMs);
  assert.match(w.lines.map(([, l]) => l).join('\n'), /^1 reads timed out/m);
});

/**
 * A clock behind the logical time the node stamped (its clock an hour behind, or a former
 * primary's an hour ahead) holds logical time still: holds expire that much late. It was shown
 * only by bourse_clock_behind_seconds; it is logged now, once per watchLogEveryMs, from a
 * second behind (a clock a little behind after a failover is not worth a line).
 */
test('watch: a clock behind logical time is logged, rate-limited', () => {
  const w = watched();
  const hourUs = 3_600_000_000;
  const clocks = (): string[] =>
    w.lines.filter(([, l]) => l.startsWith('clock ')).map(([, l]) => l);
  w.progress.set(ProgressSlot.timestampStamped, 10_000 * 1000 + (clockBehindWarnMs - 1) * 1000);
  w.watch.tick(10_000);
  assert.deepEqual(clocks(), [], 'just under the bound: quiet');
  w.progress.set(ProgressSlot.timestampStamped, 11_000 * 1000 + hourUs);
  w.watch.tick(11_000);
  assert.equal(clocks().length, 1);
  assert.match(clocks()[0], /^clock 3600 s behind the logical time this node last stamped/);
  assert.match(clocks()[0], /holds expire that much late; check the time sync \(NTP\)/);
  assert.equal(w.lines.find(([, l]) => l.startsWith('clock '))?.[0], 'warn');
  for (let t = 12_000; t < 11_000 + watchLogEveryMs; t += 1_000) w.watch.tick(t);
  assert.equal(clocks().length, 1, 'once per watchLogEveryMs');
  w.watch.tick(11_000 + watchLogEveryMs);
  assert.equal(clocks().length, 2);
});
