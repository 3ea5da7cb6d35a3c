/**
 * bench:replicated — a primary and two hot standbys as separate processes on loopback, under
 * the same load as bench:e2e: every result waits until its batch is durable on a majority
 * (quorum mode; there is no asynchronous mode).
 *
 *   npm run bench:replicated              large: 4 client processes
 *   npm run bench:replicated -- --small   CI size
 *   npm run bench:replicated -- --rate N  the open loop at N commands/s (default 100k; 20k small)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnMember } from '../../src/cli/cluster-supervise.js';
import { findPrimary, stopAll } from '../../src/cli/drill.js';
import { drillMembers, writeDrillCluster } from '../../src/cli/drill-folder.js';
import { machine, machineLine, printTable } from '../lib/table.js';
import {
  closedThenOpen,
  type LoadPhase,
  fundAccounts,
  idleRoundTrip,
  loadSize,
  loadUsage,
  summarise,
} from '../lib/e2e-load.js';
import { benchProgress, exportHistogram } from '../lib/report-out.js';
import { checkArgs } from '../lib/flags.js';
import { modeTitle, quorumMode } from '../lib/modes.js';
import { exitOnSignal } from '../lib/bench-exit.js';
import { processCpuMs } from '../lib/process-cpu.js';

checkArgs(loadUsage('replicated'));
const small = process.argv.includes('--small');
const size = loadSize(small);
const { processes, accounts, window } = size;
const members = 3;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-replicated-'));
  const file = await drillMembers(members);
  writeDrillCluster(dir, file);
  const children = new Map<number, ChildProcess>();
  // Whatever ends this process (a client error, a signal), the members go with it, and the
  // folder too (after the kill: retried while a dying member's files go) unless kept.
  const keep = process.env.BOURSE_BENCH_KEEP === '1';
  const killAll = (): void => {
    children.forEach((c) => c.kill('SIGKILL'));
    if (!keep) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  };
  process.on('exit', killAll);
  exitOnSignal(killAll);
  benchProgress(0, 6, 'starting members');
  for (const m of file.members) {
    const log = openSync(join(dir, `member-${m.id}.log`), 'a');
    const data = join(dir, `member-${m.id}`);
    children.set(m.id, spawnMember(join(dir, 'cluster.json'), m.id, data, true, { output: log }));
  }
  try {
    const primary = file.members[(await findPrimary(file)) - 1];
    const url = `ws://${primary.host}:${primary.port}/`;
    benchProgress(1, 6, 'funding accounts');
    await fundAccounts(url, accounts);
    const roundTrip = await idleRoundTrip(url, small ? 50 : 400, 900);
    // The clients know every member: if the primary steps down mid-run (two cores for three
    // members and four client processes), they follow the new one, and the figures show it.
    const members = file.members.map((m) => `ws://${m.host}:${m.port}/`);
    const cpuAt = new Map<LoadPhase, Map<number, number>>();
    const loads = await closedThenOpen(url, size, members, 0, (phase) =>
      cpuAt.set(phase, cpuByMember(children)),
    );
    const summary = summarise(loads, size);
    const batchCommands = loads.batch.reduce((sum, r) => sum + r.done, 0);
    const stillPrimary = (await findPrimary(file)) === primary.id;
    if (!stillPrimary) printRoleChanges(dir, members.length);
    const byRole = (from: LoadPhase, to: LoadPhase, commands: number): RoleCpu => {
      const cpu = (id: number): number =>
        ((cpuAt.get(to)!.get(id)! - cpuAt.get(from)!.get(id)!) * 1000) / commands;
      const standbys = file.members.filter((m) => m.id !== primary.id).map((m) => cpu(m.id));
      return {
        primary: cpu(primary.id),
        standby: standbys.reduce((sum, v) => sum + v, 0) / standbys.length,
      };
    };
    await report(summary, stillPrimary, roundTrip, {
      all: byRole('closed', 'end', summary.commands),
      batch: byRole('batch', 'open', batchCommands),
    });
  } finally {
    await stopAll(children);
    // BOURSE_BENCH_KEEP=1 keeps the members' folders and logs (to see why a run went wrong).
    if (keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The primary changed during the run: what each member logged about roles, elections and its
 * event loop, so that the reason is on record (the folders are removed after the run).
 */
function printRoleChanges(dir: string, count: number): void {
  const telling = /term \d+"|stalled|candidate|took over|stepping down|failed|deposed/;
  console.log('the primary changed during the run; the members logged:');
  for (let id = 1; id <= count; id++) {
    const lines = readFileSync(join(dir, `member-${id}.log`), 'utf8').split('\n');
    for (const line of lines.filter((l) => telling.test(l)).slice(-20)) console.log(`  ${line}`);
  }
}

/**
 * CPU time each member process has used so far (ms). Divided by the commands answered, it is
 * the cost of one command on each role, which is what one machine per member would have to pay
 * (bench/RESULTS.md).
 */
function cpuByMember(children: Map<number, ChildProcess>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [id, child] of children) out.set(id, processCpuMs(child.pid as number));
  return out;
}

/** CPU per command (µs) of the primary and of a standby (the mean of the standbys). */
interface RoleCpu {
  primary: number;
  standby: number;
}

async function report(
  s: ReturnType<typeof summarise>,
  stillPrimary: boolean,
  roundTrip: { p50: number; p99: number },
  /** Over every phase (open loops at a low rate and idle gaps included), and over the batched
   * closed loop alone: the cost per command when the cluster is saturated. */
  cpuUs: { all: RoleCpu; batch: RoleCpu },
): Promise<void> {
  const round = (v: number): number => Math.round(v * 100) / 100;
  const host = await machine();
  const figures = {
    bench: 'replicated',
    cpu_steal_pct: host.cpu_steal_pct,
    size: small ? 'small' : 'large',
    mode: quorumMode(members),
    standbys: members - 1,
    connections: processes,
    ...s.figures,
    /** False when the primary changed mid-run (the CPU split by role is then mixed). */
    same_primary: stillPrimary,
    cpu_us_per_command_primary: round(cpuUs.all.primary),
    cpu_us_per_command_standby: round(cpuUs.all.standby),
    batch_cpu_us_per_command_primary: round(cpuUs.batch.primary),
    batch_cpu_us_per_command_standby: round(cpuUs.batch.standby),
    idle_round_trip_p50_us: roundTrip.p50,
    idle_round_trip_p99_us: roundTrip.p99,
  };
  {
    const on = machineLine(host);
    printTable(`bench:replicated (${figures.size}, ${modeTitle(figures.mode)}) on ${on}`, [
      ...s.rows(`durable on a majority, commands/s, ${window} in flight`),
      { measure: 'standbys', value: figures.standbys, unit: '' },
      {
        measure: 'one command at a time, idle cluster: p50 / p99',
        value: `${roundTrip.p50} / ${roundTrip.p99}`,
        unit: 'µs',
      },
      { measure: 'same primary throughout', value: stillPrimary ? 'yes' : 'no', unit: '' },
      {
        measure: 'CPU per command, primary process',
        value: figures.cpu_us_per_command_primary,
        unit: 'µs',
      },
      {
        measure: 'CPU per command, standby process (mean)',
        value: figures.cpu_us_per_command_standby,
        unit: 'µs',
      },
      {
        measure: 'the same in the batched closed loop: primary / standby',
        value: [figures.batch_cpu_us_per_command_primary, figures.batch_cpu_us_per_command_standby]
          .map(String)
          .join(' / '),
        unit: 'µs',
      },
    ]);
    exportHistogram(s.histogram, 'us', 'send → result durable on a majority, open loop');
    console.log(JSON.stringify(figures));
  }
}

await main();
