/**
 * Load from separate client processes (bench/macro/e2e-client.ts) through the SDK, shared by
 * bench:e2e and bench:replicated: funded accounts, a closed loop and an open loop.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import { BourseClient } from '../../src/client/client.js';
import { clientV8Flags } from '../../src/constants.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { benchProgress } from './report-out.js';
import { flag, type BenchUsage } from './flags.js';
import { percentileOf } from '../../src/stdx/percentile.js';
import type { StageFigures } from './stage-trace.js';
import type { TailFigures } from './tail-log.js';

const script = fileURLToPath(new URL('../macro/e2e-client.js', import.meta.url));

/** The flags of bench:e2e and bench:replicated (flags.ts checkArgs). */
export function loadUsage(name: string): BenchUsage {
  return {
    run: `npm run bench:${name} --`,
    switches: {
      '--small': 'the CI size: 2 client processes, 2 s a phase',
      '--open-events':
        "the one-call open loop by transfer()'s promise of events (stamps: the stage split), " +
        'not submitStatus',
    },
    values: {
      '--rate': 'open-loop rate, commands/s (100k; small 20k)',
      '--tick-us': 'open-loop tick, µs (500, the default: pacer.ts; 0: a 1 ms timer)',
      '--seconds': 'seconds a load phase (10; small 2; CI 1)',
    },
  };
}

/**
 * The open loops' tick by default (µs): the pacer's 500 µs clock, not setTimeout(1) (0), since
 * the forty-third session (bench/RESULTS.md): on a loaded guest the timer's generator fell
 * behind the offered rate (e2e 3 of 6 runs, replicated at 100k/s 4 of 4) where the pacer kept
 * it, and p99 was lower with it in most pairs of both benches; quiet, e2e's p50 drops by the
 * timer's own lag (~0.6 ms). Figures before that session were taken with the timer.
 */
export const openTickUsDefault = 500;

/**
 * The load's size: the same for bench:e2e and bench:replicated, so that they compare.
 * `--rate N` sets the open loop's rate (commands/s), to draw latency against load.
 */
export function loadSize(small: boolean) {
  // A phase's length: bench-smoke runs 1 s, so that --small's figures stay those of 2 s.
  const seconds = flag('--seconds', small ? 2 : 10, 1, 3_600);
  return {
    processes: small ? 2 : 4,
    accounts: small ? 1_000 : 10_000,
    closedSeconds: seconds,
    window: small ? 2_000 : 8_000,
    /**
     * The batched closed loop: one client process (a second one takes a core from the node:
     * 2 processes gave 770k/s, 1 gave 920k/s at 8,000 in flight) with more in flight.
     */
    batchProcesses: 1,
    batchWindow: small ? 4_000 : 16_000,
    openRate: flag('--rate', small ? 20_000 : 100_000),
    openSeconds: seconds,
    /** The open loops' tick (µs; 0: setTimeout(1)); e2e-client.ts tickUs. */
    openTickUs: flag('--tick-us', openTickUsDefault, 0, 1_000_000),
    /** The one-call open loop's SDK call: transfer()'s promise of events, or submitStatus. */
    openEvents: process.argv.includes('--open-events'),
  };
}

/**
 * A closed loop, the same through submitBatch, then an open loop, against `url` (and a
 * cluster's `members`), then the open loop again through submitBatch (each tick's commands in
 * one call); client ids from `idBase` + 100 (closed), + 300 (batch), + 200 (open), + 400 (open,
 * batches). Progress: phases 2 to 5 of 6 (the caller's are 0 and 1).
 */
export async function closedThenOpen(
  url: string,
  size: ReturnType<typeof loadSize>,
  members: readonly string[] = [],
  idBase = 0,
  /** Called as each phase starts and once after the last ('end'): a bench reads CPU there. */
  atPhase: (phase: LoadPhase) => void = () => {},
): Promise<{
  closed: ClientResult[];
  batch: ClientResult[];
  open: ClientResult[];
  openBatch: ClientResult[];
}> {
  const { processes, accounts } = size;
  const window = size.window / processes;
  // Read by each load process (fork passes the environment on).
  process.env.BOURSE_BENCH_TICK_US = String(size.openTickUs);
  process.env.BOURSE_BENCH_OPEN_EVENTS = size.openEvents ? '1' : '';
  const seconds = size.closedSeconds;
  benchProgress(2, 6, 'closed loop');
  atPhase('closed');
  const closed = await runClients(
    url,
    processes,
    'closed',
    seconds,
    accounts,
    window,
    idBase + 100,
    members,
  );
  benchProgress(3, 6, 'closed loop, batches');
  atPhase('batch');
  const batchBase = idBase + 300;
  const batch = await runClients(
    url,
    size.batchProcesses,
    'batch',
    seconds,
    accounts,
    size.batchWindow / size.batchProcesses,
    batchBase,
    members,
  );
  benchProgress(4, 6, 'open loop');
  atPhase('open');
  const rate = size.openRate / processes;
  const s = size.openSeconds;
  const base = idBase + 200;
  const open = await runClients(url, processes, 'open', s, accounts, rate, base, members);
  benchProgress(5, 6, 'open loop, batches');
  atPhase('open-batch');
  const openBatch = await runClients(
    url,
    size.batchProcesses,
    'open-batch',
    s,
    accounts,
    size.openRate / size.batchProcesses,
    idBase + 400,
    members,
  );
  atPhase('end');
  return { closed, batch, open, openBatch };
}

export type LoadPhase = 'closed' | 'batch' | 'open' | 'open-batch' | 'end';

export interface ClientResult {
  done: number;
  rejected: number;
  /** The status of one rejection (0: none; protocol/status.ts names it). */
  rejectedStatus: number;
  elapsedMs: number;
  histogram: string;
  /** The process's CPU time over its loop (µs, all its threads: warm-up included). */
  cpuUs: number;
  /** The process's garbage collections while it measured: count and longest pause. */
  gcCount: number;
  gcMaxMs: number;
  /** Times the client's connection dropped and it reconnected and resent (a healthy run: 0). */
  reconnects: number;
  /** Frames from the server the SDK found malformed (each dropped the connection). */
  malformedFrames: number;
  /** The one-call open loop's commands at or above the process's p99 (tail-log.ts). */
  tail?: TailFigures;
  /** The one-call open loop's stages (e2e-client.ts): encoded histograms by name. */
  stages?: Record<ClientStage, string>;
  /**
   * Why the process stopped before its loop's end ('' or absent: it ran to the end): the SDK's
   * error once the node closed its connection (4008: it read its answers too slowly).
   */
  stopped?: string;
  /** Set by runClients: which process (its client id) in which loop. */
  clientId?: number;
  mode?: string;
}

type ClientStage = 'call' | 'lag' | 'to_stamp' | 'from_stamp';
const clientStages: readonly ClientStage[] = ['call', 'lag', 'to_stamp', 'from_stamp'];

/** Runs `processes` client processes in `mode` (closed: knob = window; open: knob = rate). */
export function runClients(
  url: string,
  processes: number,
  mode: 'closed' | 'batch' | 'open' | 'open-batch',
  seconds: number,
  accounts: number,
  knob: number,
  base: number,
  members: readonly string[] = [],
): Promise<ClientResult[]> {
  return Promise.all(
    Array.from({ length: processes }, (_, i) => {
      const args = [url, String(base + i), mode, String(seconds), String(accounts), String(knob)];
      if (members.length > 0) args.push(members.join(','));
      // The young generation the README recommends for streaming SDK processes.
      const child = fork(script, args, { stdio: 'inherit', execArgv: [...clientV8Flags] });
      return new Promise<ClientResult>((resolve, reject) => {
        child.once('message', (m) => {
          const result = { ...(m as ClientResult), clientId: base + i, mode };
          if (result.stopped) console.error(`bench: ${cutOffLine(result)}`);
          resolve(result);
        });
        child.once('exit', (code) => {
          if (code !== 0) reject(new Error(`client exited with ${code}`));
        });
      });
    }),
  );
}

/** What a load process that was cut off says (readable: why, and what its figures are). */
function cutOffLine(r: ClientResult): string {
  return (
    `the ${r.mode} loop's client ${r.clientId} was cut off (${r.stopped}); ` +
    `its figures cover the ${r.done} commands answered before: the run did not keep up`
  );
}

/** One asset and `accounts` funded accounts (through the primary among `members`). */
export async function fundAccounts(
  url: string,
  accounts: number,
  members: readonly string[] = [],
  clientId = 1,
): Promise<void> {
  const admin = await BourseClient.connect(url, {
    clientId,
    members: members.length > 0 ? [...members] : undefined,
  });
  const all: Promise<unknown>[] = [admin.submit(CommandKind.AddAsset, { ref: 1, aux: 2 })];
  for (let a = 1; a <= accounts; a++)
    all.push(admin.submit(CommandKind.CreateAccount, { account: a }));
  for (let a = 1; a <= accounts; a++) {
    all.push(admin.submit(CommandKind.Deposit, { account: a, ref: 1, quantity: 1_000_000_000 }));
  }
  await Promise.all(all);
  await admin.close();
}

/**
 * Round trips of one command at a time on an otherwise idle node or cluster (µs): the fixed
 * cost of a durable answer, with no queue in front of it. `count` transfers between accounts 1
 * and 2 (funded), after a few untimed ones.
 */
export async function idleRoundTrip(
  url: string,
  count: number,
  clientId: number,
  /** Called before the first measured command (after the untimed ones). */
  atMeasured: () => void = () => {},
): Promise<{
  p50: number;
  p99: number;
  stages: Record<string, StageFigures>;
  /** Each command's stamp → answer (µs) by its sequence. */
  fromStampUs: Map<number, number>;
}> {
  const client = await BourseClient.connect(url, { clientId });
  const us: number[] = [];
  const toStamp: number[] = [];
  const fromStamp: number[] = [];
  const bySequence = new Map<number, number>();
  for (let i = -20; i < count; i++) {
    if (i === 0) atMeasured();
    const t0 = performance.now();
    const [head] = await client.transfer({
      account: 1 + (i & 1),
      target: 2 - (i & 1),
      ref: 1,
      quantity: 1,
    });
    if (head.status !== 0) throw new Error(`idle round trip: status ${head.status}`);
    if (i < 0) continue;
    const now = performance.now();
    const stampedAt = head.timestamp / 1000 - performance.timeOrigin;
    us.push(Math.round((now - t0) * 1000));
    toStamp.push(Math.round((stampedAt - t0) * 1000));
    fromStamp.push(Math.round((now - stampedAt) * 1000));
    bySequence.set(head.sequence, (now - stampedAt) * 1000);
  }
  await client.close();
  const all = summary(us);
  const stages = { to_stamp: summary(toStamp), from_stamp: summary(fromStamp) };
  return { p50: all.p50, p99: all.p99, stages, fromStampUs: bySequence };
}

/** p50, p99 and mean of `us` (sorted here). */
export function summary(us: number[]): StageFigures {
  us.sort((a, b) => a - b);
  const at = (p: number): number => us[Math.min(us.length - 1, Math.floor((us.length * p) / 100))];
  const mean = Math.round(us.reduce((sum, x) => sum + x, 0) / Math.max(1, us.length));
  return { p50: at(50), p99: at(99), mean };
}

/** The latency keys of an open loop (µs). */
function latencyFigures(histogram: hdr.Histogram) {
  return {
    p50_us: percentileOf(histogram, 50),
    p99_us: percentileOf(histogram, 99),
    p999_us: percentileOf(histogram, 99.9),
    max_us: histogram.maxValue,
    latency_samples: histogram.totalCount,
  };
}

/** CPU µs a command answered, over the processes' loops (their warm-up's commands counted). */
function clientCpuUs(results: ClientResult[]): number {
  const cpu = results.reduce((sum, r) => sum + r.cpuUs, 0);
  const done = results.reduce((sum, r) => sum + r.done, 0);
  return Number((cpu / Math.max(1, done)).toFixed(2));
}

/** Commands/s of clients that ran side by side: all they did over the longest's time. */
function rate(results: ClientResult[]): number {
  const done = results.reduce((sum, r) => sum + r.done, 0);
  return Math.round(done / (Math.max(...results.map((r) => r.elapsedMs)) / 1000));
}

/**
 * What every load bench (e2e, replicated, remote) reports of `closedThenOpen`'s loops: the
 * keys of its JSON line, and its table's rows (the first row's measure named by the bench).
 * Also the open loop's merged histogram (to export) and the commands answered in all loops.
 */
export function summarise(
  loads: Awaited<ReturnType<typeof closedThenOpen>>,
  size: ReturnType<typeof loadSize>,
  /** The node's stages of the same open loop, when the bench can see them (stage-trace.ts). */
  nodeStages: Record<string, StageFigures> = {},
) {
  const all = [...loads.closed, ...loads.batch, ...loads.open, ...loads.openBatch];
  const cutOff = all.filter((r) => r.stopped);
  const histogram = merged(loads.open);
  /** The open loop through submitBatch: each command up to its batch's answer. */
  const batched = merged(loads.openBatch);
  const figures = {
    /**
     * False when the node closed a load process's connection mid-loop (4008: it read its
     * answers too slowly, as a CPU-starved client on a loaded machine does): that loop's figures
     * cover only what was answered before, and its latencies leave the rest out.
     */
    kept_up: cutOff.length === 0,
    /** Each process cut off: its loop, client id and the SDK's reason ('' when none). */
    cut_off: cutOff.map((r) => `${r.mode} ${r.clientId}: ${r.stopped}`).join('; '),
    commands_per_s: rate(loads.closed),
    batch_commands_per_s: rate(loads.batch),
    closed_window: size.window,
    open_loop_rate: size.openRate,
    /** Below the rate offered, the node did not keep up: the latencies measure a growing queue. */
    open_loop_answered_per_s: rate(loads.open),
    ...latencyFigures(histogram),
    batch_open_p50_us: percentileOf(batched, 50),
    batch_open_p99_us: percentileOf(batched, 99),
    batch_open_p999_us: percentileOf(batched, 99.9),
    rejected: all.reduce((sum, r) => sum + r.rejected, 0),
    /** The status of a rejection, if any (0: none), so that a run with rejections says why. */
    rejected_status: all.find((r) => r.rejectedStatus !== 0)?.rejectedStatus ?? 0,
    client_reconnects: all.reduce((sum, r) => sum + r.reconnects, 0),
    client_malformed_frames: all.reduce((sum, r) => sum + r.malformedFrames, 0),
    /** The one-call open loop's client processes: their collections and the longest pause. */
    open_client_gc_count: loads.open.reduce((sum, r) => sum + r.gcCount, 0),
    /** The load processes' CPU a command in the one-call open loop (the generator's cost). */
    open_client_cpu_us: clientCpuUs(loads.open),
    open_client_gc_max_ms: Number(Math.max(0, ...loads.open.map((r) => r.gcMaxMs)).toFixed(2)),
    ...stageFigures({ ...clientStageFigures(loads.open), ...nodeStages }),
    ...tailFigures(loads.open),
  };
  const batchedUs = [
    figures.batch_open_p50_us,
    figures.batch_open_p99_us,
    figures.batch_open_p999_us,
  ]
    .map((us) => us.toLocaleString('en-US'))
    .join(' / ');
  const loops = [...new Set(cutOff.map((r) => r.mode))].join(', ');
  const rowsOf = (closedMeasure: string) => [
    {
      measure: 'kept up (no load process cut off by the node)',
      value: figures.kept_up ? 'yes' : `no: ${loops}`,
      unit: '',
    },
    { measure: closedMeasure, value: figures.commands_per_s, unit: 'commands/s' },
    {
      measure: `  through submitBatch (500 per call), ${size.batchWindow} in flight, 1 process`,
      value: figures.batch_commands_per_s,
      unit: 'commands/s',
    },
    {
      measure: `open loop: ${size.openRate.toLocaleString('en-US')}/s offered, answered`,
      value: figures.open_loop_answered_per_s,
      unit: 'commands/s',
    },
    { measure: `latency p50 @ ${size.openRate}/s open loop`, value: figures.p50_us, unit: 'µs' },
    { measure: 'latency p99', value: figures.p99_us, unit: 'µs' },
    { measure: 'latency p99.9', value: figures.p999_us, unit: 'µs' },
    {
      measure: '  the same open loop, one submitBatch per ms: p50 / p99 / p99.9',
      value: batchedUs,
      unit: 'µs',
    },
    {
      measure: '  client GCs in the one-call open loop (all processes); longest',
      value: `${figures.open_client_gc_count}; ${figures.open_client_gc_max_ms}`,
      unit: '; ms',
    },
    {
      measure: '  its tail (≥ p99): share during a client GC; mean lag / to stamp / from stamp',
      value: `${figures.open_tail_client_gc_share}; ${tailStages(figures)}`,
      unit: '; µs',
    },
  ];
  const rows = (closedMeasure: string) => [...rowsOf(closedMeasure), ...stageRows(figures)];
  /** Commands answered in every loop. */
  const commands = all.reduce((sum, r) => sum + r.done, 0);
  return { figures, rows, histogram, commands };
}

/**
 * The one-call open loop's tail (each process's commands at or above its p99): the share that
 * overlapped a collection in their client, and each stage's mean over them (µs).
 */
function tailFigures(open: ClientResult[]) {
  const tails = open.flatMap((r) => (r.tail === undefined ? [] : [r.tail]));
  const count = tails.reduce((sum, t) => sum + t.count, 0);
  const mean = (key: 'lagUs' | 'toStampUs' | 'fromStampUs'): number =>
    count === 0 ? 0 : Math.round(tails.reduce((sum, t) => sum + t[key] * t.count, 0) / count);
  const duringGc = tails.reduce((sum, t) => sum + t.duringGc, 0);
  return {
    open_tail_count: count,
    open_tail_client_gc_share: count === 0 ? 0 : Number((duringGc / count).toFixed(3)),
    open_tail_lag_us: mean('lagUs'),
    open_tail_to_stamp_us: mean('toStampUs'),
    open_tail_from_stamp_us: mean('fromStampUs'),
  };
}

/** "lag / to stamp / from stamp" of the tail (µs). */
function tailStages(f: ReturnType<typeof tailFigures>): string {
  return `${f.open_tail_lag_us} / ${f.open_tail_to_stamp_us} / ${f.open_tail_from_stamp_us}`;
}

function merged(results: ClientResult[] | string[]): hdr.Histogram {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (const r of results) {
    const encoded = typeof r === 'string' ? r : r.histogram;
    histogram.add(hdr.decodeFromCompressedBase64(encoded));
  }
  return histogram;
}

/** The one-call open loop's client stages, all processes merged. */
function clientStageFigures(open: ClientResult[]): Record<string, StageFigures> {
  const out: Record<string, StageFigures> = {};
  for (const name of clientStages) {
    const h = merged(open.flatMap((r) => (r.stages === undefined ? [] : [r.stages[name]])));
    if (h.totalCount === 0) continue;
    out[name] = { p50: percentileOf(h, 50), p99: percentileOf(h, 99), mean: Math.round(h.mean) };
  }
  return out;
}

/** JSON keys `stage_<name>_p50_us`, `_p99_us`, `_mean_us`, in the order of a command's path. */
export function stageFigures(
  stages: Record<string, StageFigures>,
  prefix = 'stage_',
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of stageOrder) {
    const s = stages[name];
    if (s === undefined) continue;
    out[`${prefix}${name}_p50_us`] = s.p50;
    out[`${prefix}${name}_p99_us`] = s.p99;
    out[`${prefix}${name}_mean_us`] = s.mean;
  }
  return out;
}

/** A command's stages in path order, each with its table label. */
const stageOrder = [
  'call',
  'lag',
  'to_stamp',
  'from_stamp',
  'journal_wait',
  'commit',
  'wake',
  'send',
] as const;
const stageLabels: Record<(typeof stageOrder)[number], string> = {
  call: 'SDK call → answer (no load-loop tick in it)',
  lag: 'intended send → SDK call (the load loop: its tick)',
  to_stamp: 'SDK call → stamped (SDK, socket, gateway, input ring)',
  from_stamp: 'stamped → answer in the client (the rest)',
  journal_wait: '  of which stamped → journal commit start (node)',
  commit: '  of which commit + fsync (node)',
  wake: '  of which durable → sent by the gateway (publisher wake-up, send)',
  send: '  of which sent → answer in the client (socket, SDK)',
};

/** The table's rows of the stages present: p50 / p99 / mean. */
function stageRows(figures: Record<string, number | string | boolean>) {
  return stageOrder
    .filter((name) => figures[`stage_${name}_p50_us`] !== undefined)
    .map((name) => ({
      measure: `  open loop by stage: ${stageLabels[name]}: p50 / p99 / mean`,
      value: ['p50', 'p99', 'mean']
        .map((p) => Number(figures[`stage_${name}_${p}_us`]).toLocaleString('en-US'))
        .join(' / '),
      unit: 'µs',
    }));
}
