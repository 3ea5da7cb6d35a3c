/**
 * bench:e2e — clients in separate processes, through the SDK and the binary WebSocket gateway,
 * to durable results: the whole path a user sees.
 *
 *   npm run bench:e2e              large: 4 client processes
 *   npm run bench:e2e -- --small   CI size
 *
 * Phases: (1) closed loop, each process keeping `window` commands in flight: durable
 * commands/s; (2) open loop at a fixed total rate split over the processes: latency from
 * intended send to durable result (HDR, coordinated omission corrected), recorded after each
 * new client process has run 2 s at the rate (a quarter of the run at the CI size; see
 * e2e-client.ts). Client processes run with `clientV8Flags` (constants.ts), as the README
 * recommends for streaming SDK processes.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BourseNode } from '../../src/pipeline/node.js';
import { engineConfigDefault } from '../../src/constants.js';
import { machine, machineLine, printTable } from '../lib/table.js';
import {
  closedThenOpen,
  fundAccounts,
  idleRoundTrip,
  loadSize,
  loadUsage,
  stageFigures,
  summarise,
  summary,
} from '../lib/e2e-load.js';
import { benchProgress, exportHistogram } from '../lib/report-out.js';
import { checkArgs } from '../lib/flags.js';
import { openWarmupMs } from '../lib/open-loop.js';
import { StageTrace, type StageFigures } from '../lib/stage-trace.js';
import { readRunQueue, runQueueWait, type RunQueueReading } from '../lib/run-queue.js';
import { modeTitle, singleNodeMode } from '../lib/modes.js';
import { removeOnExit } from '../lib/bench-exit.js';
import { MainThreadStalls } from '../lib/main-stalls.js';
import { BatchCounts } from '../lib/batch-counts.js';
import { tailBreakdown, tailBreakdownFigures, tailBreakdownRows } from '../lib/tail-stages.js';

checkArgs(loadUsage('e2e'));
const small = process.argv.includes('--small');
const size = loadSize(small);
const { processes, accounts, window } = size;
const idleScript = fileURLToPath(new URL('./e2e-idle.js', import.meta.url));
const idleConnections = small ? 1_000 : 9_900; // sessionCountMax is 10,000, some are in use

/** Opens idle sessions from two processes; returns the node's RSS growth (MB) while open. */
async function idle(url: string): Promise<{ open: number; rssMb: number; rssGrowthMb: number }> {
  global.gc?.();
  const before = process.memoryUsage().rss;
  const half = idleConnections / 2;
  const children = [0, 1].map((i) =>
    fork(idleScript, [url, String(100_000 + i * half), String(half)], { stdio: 'inherit' }),
  );
  const opened = await Promise.all(
    children.map(
      (c) =>
        new Promise<number>((resolve, reject) => {
          c.once('message', (m) => resolve((m as { open: number }).open));
          // One that dies before it reports (no port, no descriptor left): the bench waited
          // for it for ever.
          c.once('exit', (code) => reject(new Error(`idle sessions: a client exited (${code})`)));
        }),
    ),
  ).catch((error: Error) => {
    for (const c of children) c.kill();
    throw error;
  });
  const after = process.memoryUsage().rss;
  for (const c of children) c.send('close');
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
  return {
    open: opened[0] + opened[1],
    rssMb: Math.round(after / 2 ** 20),
    rssGrowthMb: Math.round((after - before) / 2 ** 20),
  };
}

/** The idle round trip's p50 by stage, in path order. */
function idleStageLine(s: Record<string, StageFigures>): string {
  const parts = [s.to_stamp, s.journal_wait, s.commit, s.wake, s.send];
  return parts.map((f) => (f === undefined ? '-' : f.p50.toLocaleString('en-US'))).join(' / ');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-e2e-'));
  removeOnExit(dir);
  const node = await BourseNode.start({
    dataDir: dir,
    config: { ...engineConfigDefault, accountCountMax: accounts + 16 },
    gateway: { host: '127.0.0.1', port: 0 },
  });
  const url = `ws://127.0.0.1:${node.gateway?.port}/`;
  benchProgress(0, 6, 'funding accounts');
  await fundAccounts(url, accounts);
  benchProgress(1, 6, 'idle sessions');
  // Idle sessions first, on a node holding only the accounts: what 10k connections cost. The
  // node's RSS after the load (state touched, journal pages mapped) is reported apart.
  const held = await idle(url).catch(async (error: Error) => {
    await node.stop(); // the folder goes at the exit (removeOnExit)
    throw error;
  });
  // One command at a time, by stage too: the fixed cost of each, with no queue.
  const idleCount = small ? 50 : 400;
  const idleTrace = new StageTrace(node.progress, idleCount);
  node.publisher.listen(idleTrace.listener);
  const idleAt: { queue: RunQueueReading | null } = { queue: null };
  const roundTrip = await idleRoundTrip(url, idleCount, 900, () => {
    idleTrace.start();
    idleAt.queue = readRunQueue();
  });
  idleTrace.stop();
  const idleWait = runQueueWait(idleAt.queue, readRunQueue());
  // Sent → answered, command by command: the socket and the SDK.
  const sent: number[] = [];
  for (const [sequence, us] of roundTrip.fromStampUs) {
    const inNode = idleTrace.kept.get(sequence);
    if (inNode !== undefined) sent.push(Math.round(us - inNode));
  }
  const idleStages = {
    ...roundTrip.stages,
    ...idleTrace.figures(),
    ...(sent.length > 0 ? { send: summary(sent) } : {}),
  };
  // The node's side of the one-call open loop, by stage, from the end of its clients' warm-up
  // (their fork takes ~0.3 s more) to the next loop.
  // Its stages by sequence too: the slowest commands' (open_tail_*) are looked up after.
  const trace = new StageTrace(node.progress, 0, size.openRate * (size.openSeconds + 3));
  node.publisher.listen(trace.listener);
  const warmupMs = openWarmupMs(size.openSeconds) + 300;
  // The node's main thread (gateway, publisher) over the same window: its collections and how
  // late its event loop ran.
  const stalls = new MainThreadStalls();
  // How the processor and the journal batched over the same window.
  const batches = new BatchCounts(node.progress);
  const batched: { figures: ReturnType<BatchCounts['figures']> | null } = { figures: null };
  // Set in the phase callback (a holder: TypeScript does not follow a closure's assignments).
  const open: { queue: RunQueueReading | null; wait: ReturnType<typeof runQueueWait> } = {
    queue: null,
    wait: null,
  };
  const loads = await closedThenOpen(url, size, [], 0, (phase) => {
    if (phase === 'open') {
      setTimeout(() => {
        trace.start();
        stalls.start();
        batches.start();
        open.queue = readRunQueue();
      }, warmupMs);
    }
    if (phase === 'open-batch') {
      trace.stop();
      stalls.stop();
      batched.figures = batches.figures();
      open.wait = runQueueWait(open.queue, readRunQueue());
    }
  });
  const load = summarise(loads, size, trace.figures());
  const tail = trace.tailStages(loads.open.flatMap((r) => r.tail?.sequences ?? []));
  const mainStalls = await stalls.figures();
  const tails = loads.open.flatMap((r) => (r.tail === undefined ? [] : [r.tail]));
  const breakdown = tailBreakdown(tails, (s) => trace.stagesOf(s), stalls.pausesUs());
  const loadedRssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
  const host = await machine();
  const figures = {
    bench: 'e2e',
    cpu_steal_pct: host.cpu_steal_pct,
    size: small ? 'small' : 'large',
    mode: singleNodeMode,
    connections: processes,
    ...load.figures,
    /** The tail's commands found in the node's trace, and their mean stages there (µs). */
    open_tail_node_found: tail.found,
    open_tail_journal_wait_us: tail.journal_wait,
    open_tail_commit_us: tail.commit,
    open_tail_wake_us: tail.wake,
    /** The open loop's batching in the node: processor, journal (commands; KB; commits/s). */
    open_processor_batch_commands: batched.figures?.processor_batch_commands ?? null,
    open_journal_batch_commands: batched.figures?.journal_batch_commands ?? null,
    open_journal_batch_kb: batched.figures?.journal_batch_kb ?? null,
    open_journal_commits_per_s: batched.figures?.journal_commits_per_s ?? null,
    idle_connections: held.open,
    idle_rss_mb: held.rssMb,
    idle_rss_growth_mb: held.rssGrowthMb,
    rss_after_load_mb: loadedRssMb,
    idle_round_trip_p50_us: roundTrip.p50,
    idle_round_trip_p99_us: roundTrip.p99,
    /** Answers the node's stages could not place in a journal batch (0: all counted). */
    stage_trace_missed: trace.missed + idleTrace.missed,
    /** The node's threads: µs waited for a core per wake-up, and waiting per running. */
    open_runqueue_wait_us: open.wait?.waitUsPerSlice ?? null,
    open_runqueue_wait_per_run: open.wait?.waitPerRun ?? null,
    idle_runqueue_wait_us: idleWait?.waitUsPerSlice ?? null,
    ...mainStalls,
    ...tailBreakdownFigures(breakdown),
    ...stageFigures(idleStages, 'idle_stage_'),
  };
  const title = `bench:e2e (${figures.size}, ${modeTitle(figures.mode)})`;
  printTable(`${title} on ${machineLine(host)}`, [
    ...load.rows(`durable commands/s, closed loop, ${window} in flight`),
    {
      measure: '  its tail (≥ p99) in the node: mean journal wait / commit + fsync / wake',
      value: `${tail.journal_wait} / ${tail.commit} / ${tail.wake}`,
      unit: 'µs',
    },
    ...tailBreakdownRows(breakdown),
    {
      measure: '  its batches: commands a processor batch / a journal batch; KB a commit',
      value: `${figures.open_processor_batch_commands ?? '-'} / ${
        figures.open_journal_batch_commands ?? '-'
      }; ${figures.open_journal_batch_kb ?? '-'}`,
      unit: '',
    },
    { measure: 'client processes (connections)', value: processes, unit: '' },
    {
      measure: 'one command at a time, idle node: p50 / p99',
      value: `${roundTrip.p50} / ${roundTrip.p99}`,
      unit: 'µs',
    },
    {
      measure: '  its p50 by stage: call → stamp → commit start → durable → sent → answer',
      value: idleStageLine(idleStages),
      unit: 'µs',
    },
    {
      measure: "node's threads: wait for a core per wake-up, idle / open loop (neighbours)",
      value: `${figures.idle_runqueue_wait_us ?? '-'} / ${figures.open_runqueue_wait_us ?? '-'}`,
      unit: 'µs',
    },
    {
      measure: `node RSS with ${figures.idle_connections} idle sessions`,
      value: figures.idle_rss_mb,
      unit: 'MB',
    },
    { measure: '  of which the sessions added', value: figures.idle_rss_growth_mb, unit: 'MB' },
    { measure: 'node RSS after the load runs', value: figures.rss_after_load_mb, unit: 'MB' },
  ]);
  exportHistogram(load.histogram, 'us', 'send → durable result, open loop');
  console.log(JSON.stringify(figures));
}

await main();
