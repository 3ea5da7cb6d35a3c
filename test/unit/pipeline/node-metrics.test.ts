/**
 * /metrics across a cluster member's change of role. A deposed primary stops its node and
 * starts a new one, with progress counters from 0: its counters must go on from the old node's
 * totals (a counter that falls back reads to Prometheus as a restart, and what it counted since
 * the last scrape is lost), while gauges show the new node alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JournalProgress, ProgressSlot } from '../../../src/journal/journal-progress.js';
import {
  CounterCarry,
  nodeMetrics,
  type NodeMetrics,
  type NodeMetricSources,
} from '../../../src/pipeline/node-metrics.js';
import { PipelineWatch } from '../../../src/pipeline/pipeline-watch.js';
import { SnapshotStats } from '../../../src/pipeline/snapshot-stats.js';
import { pipelineStallMs } from '../../../src/constants.js';
import { smallConfig } from '../../harness/engine-driver.js';
import { RingBuffer } from '../../../src/ring/ring-buffer.js';
import { Status } from '../../../src/protocol/status.js';
import { seriesValue as sample } from '../../harness/metrics-text.js';

function node(
  progress: JournalProgress,
  carried: CounterCarry,
  more: Partial<NodeMetricSources> = {},
): NodeMetrics {
  const ring = (): RingBuffer =>
    RingBuffer.create({ slotCount: 16, slotSizeBytes: 64, consumers: 1, spill: 0 });
  return nodeMetrics({
    ...more,
    progress,
    inputRing: ring(),
    outputRing: ring(),
    connections: () => null,
    role: { accepting: () => true, describe: () => ({}) },
    diskFree: () => 1,
    carried,
    scrapeCacheMs: 0, // each scrape computed: these read what changed since the last
  });
}

function count(progress: JournalProgress, commands: number, events: number, us: number): void {
  progress.set(ProgressSlot.commandsProcessed, commands);
  progress.set(ProgressSlot.processorBatches, Math.ceil(commands / 10));
  progress.set(ProgressSlot.eventsWritten, events);
  progress.set(ProgressSlot.sequenceDurable, commands);
  progress.set(ProgressSlot.commitUsTotal, us);
  // The journal log's applier (its worker writes these slots): records handed over, read back.
  progress.set(ProgressSlot.journalLogHandedOver, Math.ceil(commands / 10));
  progress.set(ProgressSlot.journalLogFileReads, 3);
  progress.flushBuckets[0] += 1;
  progress.rejections[Status.LedgerInsufficientFunds] += 2;
}

test("metrics: counters go on across a member's new node; gauges do not", async () => {
  const carried = new CounterCarry(); // the cluster member's
  const first = new JournalProgress();
  const old = node(first, carried);
  count(first, 100, 150, 2_000);
  const before = await old.scrape();
  assert.equal(sample(before, 'bourse_commands_total'), 100);
  old.retire();
  old.retire(); // a second call (stop after a failure) counts nothing twice

  const second = new JournalProgress();
  const next = node(second, carried);
  count(second, 7, 9, 500);
  const after = await next.scrape();
  assert.equal(sample(after, 'bourse_commands_total'), 107);
  assert.equal(sample(after, 'bourse_processor_batches_total'), 11); // 10 + 1: carried on too
  assert.equal(sample(after, 'bourse_events_total'), 159);
  assert.equal(sample(after, 'bourse_journal_events_total'), 159);
  assert.equal(sample(after, 'bourse_journal_flush_seconds_count'), 2);
  assert.equal(sample(after, 'bourse_journal_flush_seconds_sum'), 0.0025);
  assert.equal(sample(after, 'bourse_rejections_total{code="LedgerInsufficientFunds"}'), 4);
  assert.equal(sample(before, 'bourse_journal_log_handed_over_total'), 10);
  assert.equal(sample(after, 'bourse_journal_log_handed_over_total'), 11);
  assert.equal(sample(after, 'bourse_journal_log_file_reads_total'), 6);
  // A gauge is the new node's own: its durable sequence, not a sum.
  assert.equal(sample(after, 'bourse_journal_durable_sequence'), 7);
  // Another member in the same process (tests run clusters in one) counts on its own.
  const other = await node(new JournalProgress(), new CounterCarry()).scrape();
  assert.equal(sample(other, 'bourse_commands_total'), 0);
});

test("metrics: the stages' own counts, carried on across a member's new node", async () => {
  // Kept before (publisher.ts, expiry-ticker.ts, cancel-reports.ts) but never on /metrics.
  const carried = new CounterCarry();
  const kept = { published: 40, ticks: 3, dropped: 2 };
  const counts = {
    eventsPublished: () => kept.published,
    expiryTicks: () => kept.ticks,
    cancelReportsDropped: () => kept.dropped,
  };
  const names = ['events_published', 'expiry_ticks', 'cancel_reports_dropped'];
  const first = node(new JournalProgress(), carried, { kept: counts });
  const before = await first.scrape();
  for (const [i, name] of names.entries()) {
    assert.equal(sample(before, `bourse_${name}_total`), [40, 3, 2][i], name);
  }
  first.retire();
  Object.assign(kept, { published: 5, ticks: 1, dropped: 0 }); // the new node's, from 0
  const after = await node(new JournalProgress(), carried, { kept: counts }).scrape();
  for (const [i, name] of names.entries()) {
    assert.equal(sample(after, `bourse_${name}_total`), [45, 4, 2][i], name);
  }
});

test('metrics: two quick scrapes read no NaN or sentinel; memory by kind', async () => {
  const metrics = node(new JournalProgress(), new CounterCarry());
  await metrics.scrape();
  const text = await metrics.scrape(); // prom-client's event-loop histogram was reset by the first
  const values = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of values) {
    assert.doesNotMatch(line, /\sNaN$/, line);
    if (!/^(nodejs|bourse)_eventloop_/.test(line)) continue;
    const seconds = Number(line.slice(line.lastIndexOf(' ') + 1));
    assert.ok(seconds >= 0 && seconds < 1, line); // 9223372036.854776: no sample since reset
  }
  const anon = sample(text, 'bourse_process_resident_anon_bytes');
  assert.ok(anon > 1e6 && anon < process.memoryUsage().rss, 'anonymous memory: part of the RSS');
  assert.ok(sample(text, 'bourse_process_resident_file_bytes') >= 0);
  // An idle loop reads about 0, not the 10 ms sampling interval.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const idle = sample(await metrics.scrape(), 'bourse_eventloop_delay_seconds{quantile="0.5"}');
  assert.ok(idle >= 0 && idle < 0.005, `idle loop's median delay ${idle}`);
});

test("metrics: how far the node's clock is behind the logical time it stamped", async () => {
  const progress = new JournalProgress();
  const metrics = node(progress, new CounterCarry());
  const clock = (): number => Math.floor((performance.timeOrigin + performance.now()) * 1000);
  progress.set(ProgressSlot.timestampStamped, clock() - 5_000_000); // stamped 5 s ago
  assert.equal(sample(await metrics.scrape(), 'bourse_clock_behind_seconds'), 0);
  // The journal an hour ahead of this clock (a failover onto a slower one): logical time holds.
  progress.set(ProgressSlot.timestampStamped, clock() + 3_600_000_000);
  const behind = sample(await metrics.scrape(), 'bourse_clock_behind_seconds');
  assert.ok(behind > 3_590 && behind <= 3_600, `behind by ${behind} s`);
});

/** A pipeline watch that has seen commands wait, nothing durable, for `ms` before `nowMs`. */
function stalledWatch(nowMs: number, ms: number): PipelineWatch {
  const progress = new JournalProgress();
  const ring = { slotCount: 1024, consumers: 1, occupancy: () => 5, consumerLag: () => 5 };
  const log = (): void => {};
  const sources = { progress, input: ring, output: ring, config: smallConfig, reads: null, log };
  const watch = new PipelineWatch(sources, nowMs - ms);
  watch.tick(nowMs - ms);
  watch.tick(nowMs);
  assert.ok(watch.stalled() !== null);
  return watch;
}

test('metrics: ages and stalls stay put when the wall clock steps (NTP)', async (t) => {
  // The journal writer stamps durable batches on the process's monotonic clock; so does this.
  const clockMs = (): number => performance.timeOrigin + performance.now();
  const progress = new JournalProgress();
  progress.set(ProgressSlot.durableAtMs, clockMs() - 10_000);
  const snapshots = new SnapshotStats(clockMs() - 30_000);
  const watch = stalledWatch(clockMs(), pipelineStallMs + 3_000);
  const metrics = node(progress, new CounterCarry(), { snapshots, watch });
  /** Each age within a minute past what it was when set up (a slow scrape adds to them). */
  const agesRead = async (what: string): Promise<void> => {
    const text = await metrics.scrape();
    const expected = { journal_durable_age: 10, snapshot_age: 30, pipeline_stalled: 8 };
    for (const [name, seconds] of Object.entries(expected)) {
      const read = sample(text, `bourse_${name}_seconds`);
      assert.ok(read >= seconds && read < seconds + 60, `${what}: ${name} read ${read} s`);
    }
  };
  await agesRead('no step');
  const wallMs = Date.now();
  for (const stepMs of [2 * 3_600_000, -3_600_000]) {
    t.mock.method(Date, 'now', () => wallMs + stepMs);
    // Read 7210, 7230, 7208 s after a step forward, and 0 after one back (blind for an hour).
    await agesRead(`a step of ${stepMs / 1000} s`);
    t.mock.restoreAll();
  }
});
