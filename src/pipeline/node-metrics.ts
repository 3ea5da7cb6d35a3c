/**
 * A node's /metrics, in Prometheus text (prom-client). Every value is read when /metrics is
 * scraped, from counters the stages keep anyway or write once per batch into the shared
 * progress buffer (src/journal/journal-progress.ts): nothing is reported per command.
 *
 *   processor thread   commands taken, GC pauses (sampled once a second)   ─┐
 *   journal thread     batches, events, flush-time buckets, rejections     ─┤
 *   journal log worker records handed over, records read from the file     ─┼─► progress SAB
 *   main thread        ring cursors, connections, role; the process's own  ─┘   read at scrape
 *                      metrics (event-loop delay, main-thread GC, heap)
 *
 * docs/PROTOCOL.md ("Metrics") lists every name.
 */
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import {
  journalFlushBucketsUs,
  metricsCacheMs,
  resultLatencyBucketsUs,
  statusCodeCountMax,
  type EngineConfig,
} from '../constants.js';
import { assert } from '../stdx/assert.js';
import { Status as GeneratedStatus } from '../protocol/generated/bourse/protocol/status.js';
import { statusName } from '../protocol/status.js';
import type { RingBuffer } from '../ring/ring-buffer.js';
import { flushBucketCount, JournalProgress, ProgressSlot } from '../journal/journal-progress.js';
import type { GatewayConnections, NodeRole } from '../gateway/gateway.js';
import type { CancelCounts } from '../gateway/cancel-on-disconnect.js';
import { registerSingleNodeRole } from './cluster-metrics.js';
import { processMetrics } from './process-metrics.js';
import { ScrapeCache } from './scrape-cache.js';
import type { SnapshotStats } from './snapshot-stats.js';
import { ResultLatency } from './result-latency.js';
import { clockMs, clockUs } from './logical-time.js';
import { capacityMax, capacityTables, type CapacityTable } from './capacity-use.js';
import { loginFailureReasons, type LoginFailureReason } from '../gateway/login-failures.js';
import { closeCodeLabels, type GatewayCounts } from '../gateway/gateway-counts.js';

export interface NodeMetricSources {
  progress: JournalProgress;
  inputRing: RingBuffer;
  outputRing: RingBuffer;
  /** Open connections by kind; null when the node has no gateway. */
  connections(): GatewayConnections | null;
  /** What cancel on disconnect did (absent, or null: no gateway). */
  cancelsOnDisconnect?(): CancelCounts | null;
  role: NodeRole;
  /** Free bytes on the data folder's disk (disk-watch.ts). */
  diskFree(): number;
  /** What the member's earlier nodes counted (a fresh one for a node of its own). */
  carried: CounterCarry;
  /** Snapshots taken (a node without a snapshotter of its own: absent). */
  snapshots?: SnapshotStats;
  /** The engine's config: the capacity tables' maxima (absent: no capacity gauges). */
  config?: EngineConfig;
  /** The pipeline watch (absent: no stall gauge). */
  watch?: { stalledSeconds(nowMs: number): number };
  /** Queries of the read model that timed out or were refused (503s). */
  reads?: { readonly timeouts: number; readonly refusals: number };
  /** Logins refused, by reason (absent: a node without a gateway). */
  loginFailures?: { total(reason: LoginFailureReason): number };
  /** Closes by code, Busy answers, refused frames (absent, or null: no gateway). */
  gatewayCounts?(): GatewayCounts | null;
  /** Counts the node's stages keep anyway (absent: not shown), read when scraped. */
  kept?: KeptCounts;
  /** How long a scrape's text is served again (ms; metricsCacheMs unless given: tests). */
  scrapeCacheMs?: number;
}

/**
 * Totals the node's stages keep for their own use or for tests, which /metrics also shows:
 * durable events the publisher passed on (publisher.ts), Ticks the expiry timer sent
 * (expiry-ticker.ts), and ended cancel reports dropped at cancelReportsMax
 * (gateway/cancel-reports.ts: their clients' next Welcome says Unknown).
 */
export interface KeptCounts {
  eventsPublished(): number;
  expiryTicks(): number;
  cancelReportsDropped(): number;
}

/** A gauge in `registry` whose value is read when /metrics is scraped. */
export function readGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => number,
): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect(this: Gauge) {
      this.set(read());
    },
  });
}

/**
 * What a cluster member's earlier nodes counted. A member makes a new node (with progress
 * counters from 0) when it is deposed; its counters go on from the last node's, since a
 * counter that falls back reads to Prometheus as a restart and loses what it counted since
 * the scrape before. The member owns it (several members may share a process, in tests), and
 * it goes with the process: counters restart from 0 then, as Prometheus expects.
 */
export class CounterCarry {
  readonly counters = new Map<string, number>();
  readonly rejections = new Float64Array(statusCodeCountMax);
  readonly flushBuckets = new Float64Array(flushBucketCount);
  flushSeconds = 0;
  /** Result latency (a publisher listener): counted into from every node of the member. */
  readonly results = new ResultLatency();
}

/** A node's counters: how to read each (to carry its totals on), and the earlier totals. */
interface Counters {
  reads: Map<string, () => number>;
  carried: CounterCarry;
}

/** A counter read when scraped, on from where the member's earlier nodes left it. */
function readCounter(
  registry: Registry,
  counters: Counters,
  name: string,
  help: string,
  read: () => number,
): void {
  counters.reads.set(name, read);
  const carried = counters.carried.counters;
  readTotal(registry, name, help, () => (carried.get(name) ?? 0) + read());
}

/** A counter in `registry` whose total (it only grows) is read when /metrics is scraped. */
export function readTotal(
  registry: Registry,
  name: string,
  help: string,
  read: () => number,
): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect(this: Counter) {
      this.reset();
      this.inc(read());
    },
  });
}

export interface NodeMetrics {
  /** What GET /metrics answers: the node's metrics, then the process's. */
  scrape(): Promise<string>;
  /** The node has stopped: its counters' last values carry over to the process's next node. */
  retire(): void;
}

/** Registers the node's metrics. */
export function nodeMetrics(sources: NodeMetricSources): NodeMetrics {
  const registry = new Registry();
  const carried = sources.carried;
  const counters: Counters = { reads: new Map(), carried };
  registerJournal(registry, counters, sources.progress);
  registerPipeline(registry, counters, sources);
  if (sources.snapshots !== undefined) registerSnapshots(registry, counters, sources.snapshots);
  registerProgress(registry, sources);
  const watch = sources.watch;
  if (watch !== undefined) {
    const stalled = 'Seconds commands have waited with nothing durable (0 unless stalled)';
    readGauge(registry, 'bourse_pipeline_stalled_seconds', stalled, () => {
      return watch.stalledSeconds(clockMs());
    });
  }
  if (sources.config !== undefined) registerCapacities(registry, sources.progress, sources.config);
  const cancels = sources.cancelsOnDisconnect;
  if (cancels !== undefined) registerCancels(registry, counters, cancels);
  const reads = sources.reads;
  if (reads !== undefined) {
    const timedOut = 'Read-model queries not answered in time (HTTP 503)';
    readCounter(registry, counters, 'bourse_read_timeouts_total', timedOut, () => reads.timeouts);
    const refused = 'Read-model queries refused at once: too many waited (HTTP 503)';
    readCounter(registry, counters, 'bourse_read_refusals_total', refused, () => reads.refusals);
  }
  if (sources.kept !== undefined) registerKept(registry, counters, sources.kept);
  const gateway = sources.gatewayCounts;
  if (gateway !== undefined) registerGatewayCounts(registry, counters, gateway);
  if (sources.loginFailures !== undefined) {
    registerLoginFailures(registry, counters, sources.loginFailures);
  }
  const results = carried.results;
  const latency = "Command's result latency: from sequencing to its durable result at the gateway";
  registerHistogram(registry, 'bourse_result_latency_seconds', latency, resultLatencyBucketsUs, {
    count: (b) => results.buckets[b],
    sumSeconds: () => results.sumSeconds,
  });
  if (sources.role.register !== undefined) sources.role.register(registry);
  else registerSingleNodeRole(registry);
  const own = processMetrics();
  const cache = new ScrapeCache(
    async () => (await registry.metrics()) + '\n' + (await own.metrics()),
    sources.scrapeCacheMs ?? metricsCacheMs,
  );
  const computed = 'Computations of /metrics (scrapes close together share one: metricsCacheMs)';
  readCounter(registry, counters, 'bourse_metrics_computed_total', computed, () => cache.computed);
  let retired = false;
  return {
    scrape: () => cache.text(),
    retire: () => {
      if (retired) return;
      retired = true;
      for (const [name, read] of counters.reads) {
        carried.counters.set(name, (carried.counters.get(name) ?? 0) + read());
      }
      const p = sources.progress;
      for (let code = 0; code < statusCodeCountMax; code++) {
        carried.rejections[code] += p.rejections[code];
      }
      for (let b = 0; b < flushBucketCount; b++) carried.flushBuckets[b] += p.flushBuckets[b];
      carried.flushSeconds += p.get(ProgressSlot.commitUsTotal) / 1e6;
    },
  };
}

function registerJournal(registry: Registry, counters: Counters, progress: JournalProgress): void {
  const at = (slot: ProgressSlot) => (): number => progress.get(slot);
  readGauge(
    registry,
    'bourse_journal_durable_sequence',
    'Last durable command sequence',
    at(ProgressSlot.sequenceDurable),
  );
  const batches = at(ProgressSlot.batchesWritten);
  const counter = (name: string, help: string, read: () => number): void =>
    readCounter(registry, counters, name, help, read);
  counter('bourse_journal_batches_total', 'Journal batches written', batches);
  const events = at(ProgressSlot.eventsWritten);
  counter(
    'bourse_events_total',
    'Events journaled durably since the process started (on a standby: stored)',
    events,
  );
  counter('bourse_journal_events_total', 'The same as bourse_events_total', events);
  readGauge(
    registry,
    'bourse_journal_commit_seconds_max',
    'Longest journal batch encode + commit + fsync since start',
    () => progress.get(ProgressSlot.commitUsMax) / 1e6,
  );
  // The journal log's applier (journal-log.ts, in its worker): how it took each record into
  // LMDB. File reads in steady state mean the hand-over in memory is not keeping up.
  const handed = 'Journal log records the applier took from the hand-over in memory';
  counter('bourse_journal_log_handed_over_total', handed, at(ProgressSlot.journalLogHandedOver));
  const read = 'Journal log records the applier read back from the file (recovery, else lag)';
  counter('bourse_journal_log_file_reads_total', read, at(ProgressSlot.journalLogFileReads));
  registerFlushHistogram(registry, progress, counters.carried);
  registerRejections(registry, progress, counters.carried);
}

function registerPipeline(
  registry: Registry,
  counters: Counters,
  sources: NodeMetricSources,
): void {
  const p = sources.progress;
  readCounter(
    registry,
    counters,
    'bourse_commands_total',
    'Commands the business-logic processor took since the process started',
    () => p.get(ProgressSlot.commandsProcessed),
  );
  readCounter(
    registry,
    counters,
    'bourse_processor_batches_total',
    'Batches the business-logic processor decided (one wait for input returned each)',
    () => p.get(ProgressSlot.processorBatches),
  );
  readCounter(
    registry,
    counters,
    'bourse_processor_gc_pauses_total',
    "GC pauses on the business-logic processor's thread while it decides",
    () => p.get(ProgressSlot.processorGcPauses),
  );
  readGauge(
    registry,
    'bourse_processor_gc_pause_seconds_max',
    "Longest GC pause on the business-logic processor's thread",
    () => p.get(ProgressSlot.processorGcPauseMaxUs) / 1e6,
  );
  const { inputRing, outputRing } = sources;
  const occupied = 'Slots published, not yet consumed by the slowest consumer';
  labelled(registry, 'bourse_ring_occupancy_slots', occupied, 'ring', () => [
    ['input', inputRing.occupancy()],
    ['output', outputRing.occupancy()],
  ]);
  labelled(registry, 'bourse_ring_capacity_slots', 'Slots of each ring', 'ring', () => [
    ['input', inputRing.slotCount],
    ['output', outputRing.slotCount],
  ]);
  const sessions = (): number => {
    const c = sources.connections();
    return c === null ? 0 : c.session + c.read;
  };
  readGauge(registry, 'bourse_gateway_sessions', 'Sessions logged in (commands + reads)', sessions);
  const free = 'Free bytes on the disk of the data folder (a full disk stops the node)';
  readGauge(registry, 'bourse_disk_free_bytes', free, () => sources.diskFree());
  const open = 'Open WebSocket connections by kind';
  labelled(registry, 'bourse_gateway_connections', open, 'kind', () =>
    Object.entries(sources.connections() ?? {}),
  );
}

/** Cancels on disconnect (gateway/cancel-on-disconnect.ts), read when scraped. */
function registerCancels(
  registry: Registry,
  counters: Counters,
  read: () => CancelCounts | null,
): void {
  const counter = (name: string, help: string, of: (c: CancelCounts) => number): void =>
    readCounter(registry, counters, name, help, () => {
      const c = read();
      return c === null ? 0 : of(c);
    });
  const sessions = 'Lost sessions (cancel on disconnect) whose orders got cancel rounds';
  counter('bourse_cancel_on_disconnect_sessions_total', sessions, (c) => c.sessions);
  const rounds = 'CancelClientOrders rounds of cancel on disconnect answered with AllCanceled';
  counter('bourse_cancel_on_disconnect_rounds_total', rounds, (c) => c.rounds);
  const orders = 'Orders canceled on disconnect';
  counter('bourse_cancel_on_disconnect_orders_total', orders, (c) => c.orders);
  const dropped = 'Lost sessions not canceled (node not taking commands, or too many)';
  counter('bourse_cancel_on_disconnect_dropped_total', dropped, (c) => c.dropped);
  const unreturned = 'Of those sessions, marked clients not back within the grace after a takeover';
  counter('bourse_cancel_on_disconnect_unreturned_total', unreturned, (c) => c.unreturned);
}

function registerKept(registry: Registry, counters: Counters, kept: KeptCounts): void {
  const counter = (name: string, help: string, read: () => number): void =>
    readCounter(registry, counters, name, help, read);
  const published = 'Durable events the publisher passed to the gateway (streams and answers)';
  counter('bourse_events_published_total', published, () => kept.eventsPublished());
  const ticks = 'Ticks the expiry timer sent, to expire pending transfers on an idle node';
  counter('bourse_expiry_ticks_total', ticks, () => kept.expiryTicks());
  const dropped = 'Ended cancel-on-disconnect reports dropped (cancelReportsMax): told Unknown';
  counter('bourse_cancel_reports_dropped_total', dropped, () => kept.cancelReportsDropped());
}

/** The newest snapshot and how many were taken (snapshot-stats.ts). */
function registerSnapshots(registry: Registry, counters: Counters, stats: SnapshotStats): void {
  const counter = (name: string, help: string, read: () => number): void =>
    readCounter(registry, counters, name, help, read);
  counter('bourse_snapshots_total', 'Snapshots taken', () => stats.taken);
  counter('bourse_snapshot_failures_total', 'Snapshots that failed', () => stats.failed);
  const gauge = (name: string, help: string, read: () => number): void =>
    readGauge(registry, name, help, read);
  const age = 'Seconds since the newest snapshot was stored (since the start before the first)';
  gauge('bourse_snapshot_age_seconds', age, () => stats.ageSeconds(clockMs()));
  const last = 'Sequence of the newest snapshot taken (0 before the first)';
  gauge('bourse_snapshot_sequence', last, () => stats.last?.sequence ?? 0);
  gauge('bourse_snapshot_bytes', 'Bytes the newest snapshot stored', () => stats.last?.bytes ?? 0);
  const took = 'How long the newest snapshot took, from due to stored, by part';
  labelled(registry, 'bourse_snapshot_duration_seconds', took, 'part', () => {
    const l = stats.last;
    if (l === null) return [];
    const s = (ms: number): number => ms / 1000;
    const parts: [string, number][] = [
      ['total', s(l.ms)],
      ['touch', s(l.touchMs)],
    ];
    return [...parts, ['copy', s(l.copyMs)], ['write', s(l.writeMs)]];
  });
}

/** Ring consumers by index, as /metrics names them (node.ts makes the rings). */
const consumerNames = { input: ['processor'], output: ['journal', 'publisher', 'snapshotter'] };

/**
 * Where each stage stands: each ring consumer's lag behind its ring's cursor, the read model's
 * sequence and lag behind the durable one, how long ago a batch last became durable, and how
 * far the clock is behind logical time.
 */
function registerProgress(registry: Registry, sources: NodeMetricSources): void {
  const p = sources.progress;
  const rings = { input: sources.inputRing, output: sources.outputRing };
  const lagHelp = "Slots published that a ring's consumer has not yet released";
  new Gauge({
    name: 'bourse_ring_consumer_lag_slots',
    help: lagHelp,
    labelNames: ['ring', 'consumer'],
    registers: [registry],
    collect(this: Gauge) {
      for (const ring of ['input', 'output'] as const) {
        const names = consumerNames[ring];
        for (let i = 0; i < rings[ring].consumers && i < names.length; i++) {
          this.set({ ring, consumer: names[i] }, rings[ring].consumerLag(i));
        }
      }
    },
  });
  const applied = (): number => p.get(ProgressSlot.readModelSequence);
  const durable = (): number => p.get(ProgressSlot.sequenceDurable);
  const gauge = (name: string, help: string, read: () => number): void =>
    readGauge(registry, name, help, read);
  gauge('bourse_read_model_sequence', 'Last sequence the read model applied', applied);
  const behind = 'Durable sequences the read model has not applied yet (reads lag this far)';
  gauge('bourse_read_model_lag_sequences', behind, () => Math.max(0, durable() - applied()));
  const age = 'Seconds since a journal batch last became durable (since the start before one)';
  gauge('bourse_journal_durable_age_seconds', age, () => {
    return Math.max(0, (clockMs() - p.get(ProgressSlot.durableAtMs)) / 1000);
  });
  // A clock behind the journal's time holds logical time still (logical-time.ts): holds expire
  // late by as much, and nothing else shows it.
  const behindClock = "Seconds this node's clock is behind the logical time it last stamped";
  gauge('bourse_clock_behind_seconds', behindClock, () => {
    return Math.max(0, p.get(ProgressSlot.timestampStamped) - clockUs()) / 1e6;
  });
}

/**
 * `bourse_login_failures_total{reason}`: WebSocket logins and HTTP keys refused (login-failures.ts,
 * http-keys.ts). Every
 * reason is shown, 0 until it happens, so that rate() sees the first one.
 */
function registerLoginFailures(
  registry: Registry,
  counters: Counters,
  failures: { total(reason: LoginFailureReason): number },
): void {
  const help = 'Logins refused (WebSocket; HTTP keys), by reason (docs/PROTOCOL.md, "Metrics")';
  labelledTotal(registry, counters, ['bourse_login_failures_total', help, 'reason'], {
    values: loginFailureReasons,
    total: (i) => failures.total(loginFailureReasons[i]),
  });
}

/**
 * The gateway's closes by code (`bourse_gateway_closes_total{code}`, every code counted by name
 * shown from the start), Busy answers and frames refused as Busy (gateway-counts.ts).
 */
function registerGatewayCounts(
  registry: Registry,
  counters: Counters,
  read: () => GatewayCounts | null,
): void {
  const closes = 'WebSocket sessions closed, by close code (4008: slow reader or too many refused)';
  labelledTotal(registry, counters, ['bourse_gateway_closes_total', closes, 'code'], {
    values: closeCodeLabels,
    total: (i) => read()?.closes[i] ?? 0,
  });
  const busy = 'Error frames Busy sent: input ring full, or the node not taking commands';
  readCounter(registry, counters, 'bourse_gateway_busy_answers_total', busy, () => {
    return read()?.busyAnswers ?? 0;
  });
  const refused = 'Commands frames refused as Busy (input ring full, or an earlier one refused)';
  readCounter(registry, counters, 'bourse_gateway_refused_frames_total', refused, () => {
    return read()?.refusedFrames ?? 0;
  });
}

/**
 * A counter with one label whose values are fixed (each shown, 0 until it happens, so that
 * rate() sees the first), read when scraped and carried on across a member's nodes.
 */
function labelledTotal(
  registry: Registry,
  counters: Counters,
  [name, help, label]: [string, string, string],
  read: { values: readonly string[]; total(index: number): number },
): void {
  const carried = counters.carried.counters;
  const key = (value: string): string => `${name}{${value}}`;
  read.values.forEach((value, i) => counters.reads.set(key(value), () => read.total(i)));
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect(this: Counter) {
      this.reset();
      read.values.forEach((value, i) => {
        this.inc({ [label]: value }, (carried.get(key(value)) ?? 0) + read.total(i));
      });
    },
  });
}

/** `bourse_capacity_used{table}` and `_max{table}`: how full the engine's tables are. */
function registerCapacities(registry: Registry, p: JournalProgress, config: EngineConfig): void {
  const each = (name: string, help: string, read: (t: CapacityTable) => number): void => {
    labelled(registry, name, help, 'table', () => capacityTables.map((t) => [t.name, read(t)]));
  };
  const used = 'Entries in use of each engine table (sampled by the processor once a second)';
  each('bourse_capacity_used', used, (t) => p.get(t.slot));
  const max = 'Entries each engine table holds (its --*-max); full: commands are rejected';
  each('bourse_capacity_max', max, (t) => capacityMax(config, t));
}

/** A gauge with one label, whose values are read when scraped. */
function labelled(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  read: () => [string, number][],
): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect(this: Gauge) {
      for (const [value, n] of read()) this.set({ [label]: value }, n);
    },
  });
}

/**
 * A histogram whose counts the pipeline keeps (per bucket, not cumulative; the last past every
 * bound): prom-client's Histogram can only observe values itself, so this metric hands the
 * registry its values directly, in the shape prom-client's own Histogram gives them.
 */
function registerHistogram(
  registry: Registry,
  name: string,
  help: string,
  boundsUs: readonly number[],
  read: { count(bucket: number): number; sumSeconds(): number },
): void {
  const get = () => {
    const values: { metricName: string; labels: Record<string, string>; value: number }[] = [];
    let count = 0;
    for (let b = 0; b <= boundsUs.length; b++) {
      count += read.count(b);
      const le = b < boundsUs.length ? String(boundsUs[b] / 1e6) : '+Inf';
      values.push({ metricName: `${name}_bucket`, labels: { le }, value: count });
    }
    values.push({ metricName: `${name}_sum`, labels: {}, value: read.sumSeconds() });
    values.push({ metricName: `${name}_count`, labels: {}, value: count });
    return { name, help, type: 'histogram', aggregator: 'sum', values };
  };
  const metric = { name, help, type: 'histogram', aggregator: 'sum', get, reset: () => {} };
  registry.registerMetric(metric as unknown as Metric);
}

/**
 * `bourse_journal_flush_seconds`: the time each journal batch took to encode, commit and fsync,
 * counted per bucket in shared memory by the journal writer.
 */
function registerFlushHistogram(
  registry: Registry,
  progress: JournalProgress,
  carried: CounterCarry,
): void {
  const help = 'Time one journal batch took to encode, commit and fsync';
  registerHistogram(registry, 'bourse_journal_flush_seconds', help, journalFlushBucketsUs, {
    count: (b) => carried.flushBuckets[b] + progress.flushBuckets[b],
    sumSeconds: () => carried.flushSeconds + progress.get(ProgressSlot.commitUsTotal) / 1e6,
  });
}

/** Every status code that names a rejection: the schema's codes but Ok and 350-399. */
const rejectionCodes: number[] = [];
const isRejectionCode = new Uint8Array(statusCodeCountMax);
for (let code = 1; code < statusCodeCountMax; code++) {
  const named = (GeneratedStatus as unknown as Record<number, string | undefined>)[code];
  if (named === undefined || (code >= 350 && code < 400)) continue;
  rejectionCodes.push(code);
  isRejectionCode[code] = 1;
}
for (const value of Object.values(GeneratedStatus)) {
  if (typeof value === 'number') assert(value < statusCodeCountMax, 'metrics: status fits');
}

/**
 * `bourse_rejections_total{code}`: commands rejected, by status name, counted by the journal
 * writer as they become durable. Every rejection code is shown, 0 until it happens, so that
 * rate() sees the first one.
 */
function registerRejections(
  registry: Registry,
  progress: JournalProgress,
  carried: CounterCarry,
): void {
  new Counter({
    name: 'bourse_rejections_total',
    help: 'Commands rejected (durable), by status code name (src/protocol/status.ts)',
    labelNames: ['code'],
    registers: [registry],
    collect(this: Counter) {
      this.reset();
      const count = (code: number): number => carried.rejections[code] + progress.rejections[code];
      for (const code of rejectionCodes) this.inc({ code: statusName(code) }, count(code));
      for (let code = 0; code < statusCodeCountMax; code++) {
        if (count(code) === 0 || isRejectionCode[code] === 1) continue;
        this.inc({ code: code === 0 ? 'OutOfRange' : statusName(code) }, count(code));
      }
    },
  });
}
