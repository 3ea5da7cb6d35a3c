/**
 * bench:replicated — a primary and two hot standbys as separate processes on loopback, under
 * the same load as bench:e2e: every result waits until its batch is durable on a majority
 * (quorum mode; there is no asynchronous mode).
 *
 *   npm run bench:replicated              large: 4 client processes
 *   npm run bench:replicated -- --small   CI size
 *   npm run bench:replicated -- --rate N  the open loop at N commands/s (default 100k; 20k small)
 *   npm run bench:replicated -- --ports N members on ports N..N+5 (client ports first), not on
 *                                         free ones the kernel picks (a shared machine's range)
 *   npm run bench:replicated -- --datagram-bytes N  replication datagrams' chunks of N bytes
 *                                         (the cluster file's datagramPayloadBytes; default 1,384)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnMember } from '../../src/cli/cluster-supervise.js';
import { findPrimary, stopAll } from '../../src/cli/drill.js';
import { stopMembersSync } from '../../src/cli/member-stop.js';
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
import { checkArgs, flag } from '../lib/flags.js';
import type { ClusterFile } from '../../src/cli/cluster-file.js';
import { modeTitle, quorumMode } from '../lib/modes.js';
import { exitOnSignal } from '../lib/bench-exit.js';
import { processCpuMs } from '../lib/process-cpu.js';
import { stageTimesVariable } from '../../src/pipeline/stage-times.js';
import { udpPayloadBytesDefault, udpPayloadBytesMax } from '../../src/constants.js';
import { stageRowsVariable } from '../../src/pipeline/stage-rows.js';
import {
  type ReplicatedTail,
  readStageRows,
  replicatedTail,
  replicatedTailFigures,
  replicatedTailRows,
} from '../lib/replicated-tail.js';
import {
  type MemberStages,
  commandsPerBatch,
  datagramsPerEntry,
  scrapeStages,
  shownStages,
  stageFigures,
  stagesBetween,
} from '../lib/stage-breakdown.js';
import { scrapeTransport, transportFigures, transportRows } from '../lib/transport-counters.js';

const usage = loadUsage('replicated');
usage.values['--ports'] = 'members on ports N..N+5: client ports, then replication ports';
usage.values['--datagram-bytes'] =
  `replication datagrams' chunk, bytes (${udpPayloadBytesDefault})`;
checkArgs(usage);
const small = process.argv.includes('--small');
const size = loadSize(small);
const { processes, accounts, window } = size;
const members = 3;
const ports = flag('--ports', 0, 0, 65_530);
const payloadBytes = flag(
  '--datagram-bytes',
  udpPayloadBytesDefault,
  udpPayloadBytesDefault,
  udpPayloadBytesMax,
);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-replicated-'));
  const file = ports === 0 ? await drillMembers(members) : portRange(ports);
  if (payloadBytes !== udpPayloadBytesDefault) file.datagramPayloadBytes = payloadBytes;
  writeDrillCluster(dir, file);
  const children = new Map<number, ChildProcess>();
  // Whatever ends this process (a client error, a signal), the members go with it, and the
  // folder too (after the kill: retried while a dying member's files go) unless kept. Stopped
  // by a signal (Ctrl-C reaches this process alone: the members have process groups of their
  // own), the members stop cleanly first (member-stop.ts); killed (SIGKILL), they see it.
  const keep = process.env.BOURSE_BENCH_KEEP === '1';
  const killAll = (): void => {
    children.forEach((c) => c.kill('SIGKILL'));
    if (!keep) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  };
  process.on('exit', killAll);
  exitOnSignal(() => {
    stopMembersSync([...children.values()]);
    killAll();
  });
  // The members time each stage (stage-breakdown.ts); BOURSE_STAGE_TIMES=0 runs them without,
  // to see what timing costs (the breakdown's figures are then zero).
  if (process.env[stageTimesVariable] !== '0') process.env[stageTimesVariable] = '1';
  // Each entry's milestones too, written into the folder at each member's exit (stage-rows.ts):
  // the open loop's slowest commands are looked up in them (replicated-tail.ts).
  process.env[stageRowsVariable] = dir;
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
    const stagesAt = new Map<LoadPhase, Promise<MemberStages[]>>();
    const loads = await closedThenOpen(url, size, members, 0, (phase) => {
      cpuAt.set(phase, cpuByMember(children));
      stagesAt.set(phase, Promise.all(file.members.map((m) => scrapeStages(m.host, m.port))));
    });
    const breakdown = async (from: LoadPhase, to: LoadPhase): Promise<Breakdown> => {
      const [a, b] = [await stagesAt.get(from)!, await stagesAt.get(to)!];
      const p = primary.id - 1;
      const standbys = (x: MemberStages[]) => x.filter((_, i) => i !== p);
      return {
        primary: stagesBetween([a[p]], [b[p]]),
        standbys: stagesBetween(standbys(a), standbys(b)),
      };
    };
    const stages = {
      open: await breakdown('open', 'open-batch'),
      batch: await breakdown('open-batch', 'end'),
    };
    const summary = summarise(loads, size);
    const batchCommands = loads.batch.reduce((sum, r) => sum + r.done, 0);
    const stillPrimary = (await findPrimary(file)) === primary.id;
    if (!stillPrimary) printRoleChanges(dir, members.length);
    // The transport's counters, once the load is over (not on its path): before the members stop.
    const counts = await Promise.all(file.members.map((m) => scrapeTransport(m.host, m.port)));
    const transport = transportFigures(
      counts[primary.id - 1],
      counts.filter((_, i) => i !== primary.id - 1),
    );
    const pids = new Map([...children].map(([id, c]) => [id, c.pid as number]));
    await stopAll(children); // each member writes its rows as it exits
    const rows = readStageRows(dir, pids);
    const standbyRows = new Map([...rows].filter(([id]) => id !== primary.id));
    const tails = loads.open.flatMap((r) => (r.tail === undefined ? [] : [r.tail]));
    const tail = replicatedTail(tails, rows.get(primary.id) ?? [], standbyRows);
    const byRole = (from: LoadPhase, to: LoadPhase, commands: number): RoleCpu => {
      const cpu = (id: number): number =>
        ((cpuAt.get(to)!.get(id)! - cpuAt.get(from)!.get(id)!) * 1000) / commands;
      const standbys = file.members.filter((m) => m.id !== primary.id).map((m) => cpu(m.id));
      return {
        primary: cpu(primary.id),
        standby: standbys.reduce((sum, v) => sum + v, 0) / standbys.length,
      };
    };
    await report(
      summary,
      stillPrimary,
      roundTrip,
      {
        all: byRole('closed', 'end', summary.commands),
        batch: byRole('batch', 'open', batchCommands),
      },
      stages,
      tail,
      transport,
    );
  } finally {
    await stopAll(children);
    // BOURSE_BENCH_KEEP=1 keeps the members' folders and logs (to see why a run went wrong).
    if (keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** The members on ports `first`.. (client ports, then replication ports), three each. */
function portRange(first: number): ClusterFile {
  const file: ClusterFile = { members: [] };
  for (let id = 1; id <= members; id++) {
    const port = first + id - 1;
    file.members.push({ id, host: '127.0.0.1', port, replicationPort: port + members });
  }
  return file;
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

/** A phase's stage counts: the primary's, and both standbys' together. */
interface Breakdown {
  primary: MemberStages;
  standbys: MemberStages;
}

function stageJson(b: Breakdown): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [stage, role] of shownStages) {
    const f = stageFigures(b[role].get(stage));
    out[`${role === 'primary' ? '' : 'standby_'}${stage}`] = [f.mean, f.p50, f.p99];
  }
  out.datagrams_per_entry = datagramsPerEntry(b.primary, b.standbys, members - 1);
  out.commands_per_batch = commandsPerBatch(b.primary);
  return out;
}

/** Where the open loops' time went, stage by stage (one call per command; batched). */
function printStages(stages: { open: Breakdown; batch: Breakdown }, clientMeanUs: number): void {
  const rows = shownStages.map(([stage, role, what]) => {
    const [o, b] = [
      stageFigures(stages.open[role].get(stage)),
      stageFigures(stages.batch[role].get(stage)),
    ];
    return {
      measure: what,
      value: `${o.mean} / ${o.p50} / ${o.p99}   ${b.mean} / ${b.p50} / ${b.p99}`,
      unit: 'µs',
    };
  });
  // What the members do not time: the client's send to its sequencing (SDK, socket, gateway,
  // ring, engine) and the results' way back, as the client's mean less the members' part.
  const [o, b] = [stages.open, stages.batch].map((x) =>
    datagramsPerEntry(x.primary, x.standbys, members - 1).join(' / '),
  );
  rows.push({
    measure: 'datagrams a log entry: primary sent / received, a standby sent',
    value: `${o}   ${b}`,
    unit: '',
  });
  const [po, pb] = [stages.open, stages.batch].map((x) => commandsPerBatch(x.primary).join(' / '));
  rows.push({
    measure: 'commands a batch: processor / journal (primary)',
    value: `${po}   ${pb}`,
    unit: '',
  });
  const result = stageFigures(stages.open.primary.get('sequenced_to_result')).mean;
  const rest = Math.round(clientMeanUs - result);
  rows.push({
    measure: 'the rest: client -> sequenced, results -> client',
    value: `${rest}`,
    unit: 'µs',
  });
  printTable(
    "where the open loops' time goes (per batch; mean / p50 / p99: one call each   submitBatch)",
    rows,
  );
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
  stages: { open: Breakdown; batch: Breakdown },
  tail: ReplicatedTail,
  /** The members' transport counters at the end of the run (transport-counters.ts). */
  transport: Record<string, number>,
): Promise<void> {
  const round = (v: number): number => Math.round(v * 100) / 100;
  const host = await machine();
  const figures = {
    bench: 'replicated',
    cpu_steal_pct: host.cpu_steal_pct,
    size: small ? 'small' : 'large',
    mode: quorumMode(members),
    standbys: members - 1,
    datagram_payload_bytes: payloadBytes,
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
    /** Per stage of the one-call open loop: [mean, p50, p99] µs (stage-breakdown.ts). */
    stages_us: stageJson(stages.open),
    /** The one-call open loop's mean latency at the client (the stages' means add up to it). */
    mean_us: Math.round(s.histogram.mean),
    batch_stages_us: stageJson(stages.batch),
    /** The open loop's slowest commands, stage by stage (replicated-tail.ts), µs. */
    ...replicatedTailFigures(tail),
    /** Each transport counter: the primary's, and its standbys' summed (since they started). */
    ...transport,
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
    printStages(stages, s.histogram.mean);
    printTable("the replication transport's counters over the run", transportRows(transport));
    printTable(
      `the open loop's tail (≥ p99, ${tail.found} found) by stage: p50 / p90 / p99 / mean`,
      replicatedTailRows(tail),
    );
    exportHistogram(s.histogram, 'us', 'send → result durable on a majority, open loop');
    console.log(JSON.stringify(figures));
  }
}

await main();
