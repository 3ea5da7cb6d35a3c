/**
 * bench:pipeline — a whole node: producer thread → input ring → business-logic worker → output
 * ring → journal writer (LMDB, group commit, fsync) → publisher, plus the snapshotter.
 *
 *   npm run bench:pipeline              large: 10M transfers closed-loop, 500k/s open-loop
 *   npm run bench:pipeline -- --small   CI size: a few seconds
 *
 * Phases: (1) durable throughput, closed loop: time until the last command is fsynced;
 * (2) latency from intended send to durable at a fixed open-loop rate (HDR histogram);
 * (3) replay of the whole journal from genesis; (4) restart: snapshot + tail replay to ready.
 * GC pauses are those of the business-logic thread (V8's GC profiler, in the worker).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { BourseNode } from '../../src/pipeline/node.js';
import { engineConfigDefault, type EngineConfig } from '../../src/constants.js';
import { ProgressSlot } from '../../src/journal/journal-progress.js';
import { closeJournalDb, openJournalDb } from '../../src/journal/journal-db.js';
import { EventWord } from '../../src/protocol/event-layout.js';
import { Replica, replayChecked } from '../../src/pipeline/replay.js';
import type { ProducerData } from './pipeline-producer.js';
import { machine, machineLine, printTable } from '../lib/table.js';
import { benchProgress, exportHistogram } from '../lib/report-out.js';
import { checkArgs, flag } from '../lib/flags.js';
import { modeTitle, singleNodeMode } from '../lib/modes.js';
import { removeOnExit } from '../lib/bench-exit.js';
import { percentileOf } from '../../src/stdx/percentile.js';

checkArgs({
  run: 'npm run bench:pipeline --',
  switches: { '--small': 'the CI size: a few seconds' },
  values: {
    '--closed': 'commands in the closed loop (10M; small 200k)',
    '--rate': 'open-loop rate, commands/s (500k; small 50k)',
    '--seconds': 'open-loop seconds (10; small 2)',
    '--snapshot-events': 'events between snapshots (2M; small 100k)',
  },
});
const small = process.argv.includes('--small');
// `--name N` overrides, for experiments (the published sizes use none); checked (flags.ts).
const accounts = small ? 1_000 : 10_000;
const closedCount = flag('--closed', small ? 200_000 : 10_000_000);
const openRate = flag('--rate', small ? 50_000 : 500_000);
const openSeconds = flag('--seconds', small ? 2 : 10);
const latencyClient = 3;
const config: EngineConfig = { ...engineConfigDefault, accountCountMax: accounts + 16 };
const sent = new SharedArrayBuffer(8 << 22);

function produce(node: BourseNode, data: Omit<ProducerData, 'ring' | 'sent'>): Promise<void> {
  const worker = new Worker(new URL('./pipeline-producer.js', import.meta.url), {
    workerData: { ...data, ring: node.inputRing.buffer, sent },
  });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', () => resolve());
  });
}

function histogramUs(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

async function untilDurable(node: BourseNode, sequence: number): Promise<void> {
  while (node.progress.get(ProgressSlot.sequenceDurable) < sequence) {
    if (node.failure !== null) throw node.failure;
    await node.progress.waitChangeAsync(node.progress.version(), 100);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-bench-'));
  removeOnExit(dir);
  const snapshotIntervalEvents = flag('--snapshot-events', small ? 100_000 : 2_000_000);
  const node = await BourseNode.start({
    dataDir: dir,
    config,
    mainThreadProducer: false,
    snapshotIntervalEvents,
  });
  const setupCount = 1 + 2 * accounts;
  benchProgress(0, 4, 'funding accounts');
  await produce(node, {
    mode: 'setup',
    clientId: 1,
    firstClientSeq: 1,
    count: setupCount,
    accounts,
    rate: 0,
    batch: 1,
  });
  await untilDurable(node, setupCount);

  // 1. Durable throughput, closed loop.
  benchProgress(1, 4, 'closed loop');
  const t0 = performance.now();
  await produce(node, {
    mode: 'closed',
    clientId: 2,
    firstClientSeq: 1,
    count: closedCount,
    accounts,
    rate: 0,
    batch: 1024,
  });
  await untilDurable(node, setupCount + closedCount);
  const closedMs = performance.now() - t0;

  // 2. Latency at a fixed open-loop rate.
  benchProgress(2, 4, 'open loop');
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const sentAt = new Float64Array(sent);
  const mask = sentAt.length - 1;
  // The same latency in two parts, split at the timestamp the processor stamps on each event:
  // waiting for the processor (queue), then deciding + journaling + publishing (durable).
  const queued = histogramUs();
  const durable = histogramUs();
  node.publisher.listen((records, slot, count) => {
    const now = performance.timeOrigin + performance.now();
    const u32 = records.u32;
    for (let i = 0; i < count; i++) {
      const w = (slot + i) * EventWord.size;
      if (u32[w + EventWord.clientId] !== latencyClient) continue;
      const stampUs = u32[w + EventWord.timestamp] + u32[w + EventWord.timestamp + 1] * 2 ** 32;
      const sentUs = sentAt[u32[w + EventWord.clientSeq] & mask] * 1000;
      queued.recordValue(Math.max(1, Math.round(stampUs - sentUs)));
      durable.recordValue(Math.max(1, Math.round(now * 1000 - stampUs)));
      histogram.recordValue(
        Math.max(1, Math.round((now - sentAt[u32[w + EventWord.clientSeq] & mask]) * 1000)),
      );
    }
  });
  const openCount = openRate * openSeconds;
  const o0 = performance.now();
  await produce(node, {
    mode: 'open',
    clientId: latencyClient,
    firstClientSeq: 1,
    count: openCount,
    accounts,
    rate: openRate,
    batch: 0,
  });
  const total = setupCount + closedCount + openCount;
  await untilDurable(node, total);
  // Answered per second over the open loop: below the rate offered, the node did not keep up
  // (its latencies then measure a queue that grew all along).
  const openAnsweredPerS = Math.round(openCount / ((performance.now() - o0) / 1000));
  const p = node.progress;
  const commitUsMean = p.get(ProgressSlot.commitUsTotal) / p.get(ProgressSlot.batchesWritten);
  const batches = p.get(ProgressSlot.batchesWritten);
  await node.stop();
  const gc = node.processorStats;

  // 3. Replay from genesis: apply on this thread, SHA-256 checks on the other core (piscina).
  benchProgress(3, 4, 'replay and restart');
  const db = openJournalDb(dir, { create: false, readOnly: true });
  const replica = new Replica(config);
  const r0 = performance.now();
  const replayed = await replayChecked(replica, db, dir); // the recovery path
  const replayMs = performance.now() - r0;
  closeJournalDb(db);

  // 4. Restart: newest snapshot + journal tail.
  const s0 = performance.now();
  const again = await BourseNode.start({ dataDir: dir, config, mainThreadProducer: false });
  const restartMs = performance.now() - s0;
  const recovered = again.recovery;
  await again.stop();
  rmSync(dir, { recursive: true, force: true });

  const host = await machine();
  const figures = {
    bench: 'pipeline',
    cpu_steal_pct: host.cpu_steal_pct,
    size: small ? 'small' : 'large',
    mode: singleNodeMode,
    commands: closedCount,
    commands_per_s: Math.round(closedCount / (closedMs / 1000)),
    open_loop_rate: openRate,
    open_loop_answered_per_s: openAnsweredPerS,
    p50_us: percentileOf(histogram, 50),
    p99_us: percentileOf(histogram, 99),
    p999_us: percentileOf(histogram, 99.9),
    queue_p50_us: percentileOf(queued, 50),
    queue_p99_us: percentileOf(queued, 99),
    stamp_to_durable_p50_us: percentileOf(durable, 50),
    stamp_to_durable_p99_us: percentileOf(durable, 99),
    max_us: histogram.maxValue,
    latency_samples: histogram.totalCount,
    journal_batches: batches,
    commit_us_mean: Math.round(commitUsMean),
    commit_us_max: p.get(ProgressSlot.commitUsMax),
    replay_events: replayed,
    replay_events_per_s: Math.round(replayed / (replayMs / 1000)),
    restart_ms: Math.round(restartMs),
    restart_snapshot_sequence: recovered.snapshotSequence,
    restart_events_replayed: recovered.eventsReplayed,
    journaled_events: total,
    gc_pauses: gc?.gcPauses ?? -1,
    gc_pause_max_ms: Math.round((gc?.gcPauseMaxMs ?? -1) * 1000) / 1000,
    result_checksum: replica.engine.checksum.hex(),
  };
  const title = `bench:pipeline (${figures.size}, ${modeTitle(figures.mode)})`;
  printTable(`${title} on ${machineLine(host)}`, [
    {
      measure: 'durable throughput (closed loop)',
      value: figures.commands_per_s,
      unit: 'commands/s',
    },
    {
      measure: `open loop: ${openRate.toLocaleString('en-US')}/s offered, answered`,
      value: figures.open_loop_answered_per_s,
      unit: 'commands/s',
    },
    { measure: `latency p50 @ ${openRate}/s open loop`, value: figures.p50_us, unit: 'µs' },
    { measure: 'latency p99', value: figures.p99_us, unit: 'µs' },
    { measure: 'latency p99.9', value: figures.p999_us, unit: 'µs' },
    { measure: '  of which: send → stamped, p99', value: figures.queue_p99_us, unit: 'µs' },
    { measure: '  stamped → durable, p99', value: figures.stamp_to_durable_p99_us, unit: 'µs' },
    { measure: 'journal commit+fsync mean', value: figures.commit_us_mean, unit: 'µs / batch' },
    {
      measure: 'replay from genesis (hashes checked)',
      value: figures.replay_events_per_s,
      unit: 'events/s',
    },
    { measure: `restart with ${total} events journaled`, value: figures.restart_ms, unit: 'ms' },
    { measure: 'GC pause max, processor thread', value: figures.gc_pause_max_ms, unit: 'ms' },
  ]);
  exportHistogram(histogram, 'us', 'send → durable result, open loop');
  console.log(JSON.stringify(figures));
}

await main();
