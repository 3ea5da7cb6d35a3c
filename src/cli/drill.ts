/**
 * `bourse drill failover --kills K`: a hot-standby failover drill with real processes.
 *
 *   1. start a local cluster (one process per member) on free loopback ports (or from
 *      --base-port), in a new folder in TMPDIR (or --data's, kept: drill-folder.ts);
 *   2. put transfers and orders on it through the SDK, a window of them always in flight (an
 *      order that trades has several events under its one sequence: the quorum gate must hand
 *      them on together, and only once committed);
 *   3. K times, once every member answers and then at a random moment: SIGKILL the primary,
 *      time until the SDK gets its next result (the takeover), and restart the killed member
 *      on its data (with `--signal SIGTERM`, a clean stop instead, as a rolling restart makes:
 *      the primary hands over, and the takeover is the longest wait for a result around it;
 *      with `--victim standby` or `any`, a standby is killed instead, or any member: the
 *      primary must go on committing with the others, and the wiped standby catch up under it);
 *   4. stop the load, let every member catch up, stop them, and check the whole history:
 *      every acknowledged command is in the journal exactly once, every replica has the same
 *      hash chain and the same state checksum, and the assets are conserved.
 *
 * The last line printed is JSON: drill, kills, acked, lost, duplicated, takeover_ms_p50,
 * takeover_ms_p99, replicas_identical (and more).
 */
import type { ChildProcess } from 'node:child_process';
import { openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BourseClient, type EventRecord } from '../client/client.js';
import { healthOf } from '../client/primary-probe.js';
import { CommandFlag, CommandKind, TimeInForce } from '../protocol/command-layout.js';
import {
  clusterFileName,
  clusterMembersMax,
  engineConfigDefault,
  memberStopMs,
  sdkQueueMax,
} from '../constants.js';
import { Rng } from '../stdx/rng.js';
import { memberDataDir, type ClusterFile } from './cluster-file.js';
import { spawnMember } from './cluster-supervise.js';
import { stopMembersSync, waitExitedSync } from './member-stop.js';
import {
  drillFolder,
  drillMembers,
  leaveFolder,
  writeDrillCluster,
  type DrillPlace,
} from './drill-folder.js';
import { exitCodeMeaning, progressBar, UsageError, type Progress } from './output.js';
import { onStopSignal, signalExitCode } from './signals.js';
import { checkReplicas, type ReplicaCheck } from './drill-check.js';
import { SeqCounts } from './seq-counts.js';
import { checkLoseDisks, pickVictim, withOthers } from './drill-victims.js';
import type { DrillSignal, DrillVictim } from './choices.js';

export interface DrillOptions {
  kills: number;
  nodes: number;
  seed: number;
  /** Accounts the transfers and orders use, and commands kept in flight. */
  accounts: number;
  window: number;
  /**
   * Every this many kills (0: never), the killed member also loses its disk: it restarts on
   * an empty folder, catches up from the others, and may not vote until it has.
   */
  loseDiskEvery?: number;
  /**
   * Members killed together at each such kill, each back on an empty folder (default 1): drawn
   * by the seed beside the victim, the primary too unless `victim` is standby. At most f, the
   * faults the cluster tolerates: the others must still hold every commit.
   */
  loseDisks?: number;
  /** What the primary is sent: SIGKILL (a crash; the default) or SIGTERM (a clean stop). */
  signal?: DrillSignal;
  /** Whose process each kill stops: the primary (the default), a standby, or any member. */
  victim?: DrillVictim;
  /** Print progress lines on stderr. */
  verbose?: boolean;
  /** The drill's folder (new or empty), kept after it; none: a new one in TMPDIR. */
  data?: string;
  /** Member 1's client port (replication: +100), as `bourse cluster`; none: free ones. */
  basePort?: number;
}

/** What every drill reports of its load, its takeovers and the history it checked. */
export interface HistoryFigures {
  acked: number;
  lost: number;
  duplicated: number;
  /** From each kill or cut of the primary until the SDK got a result again. */
  /** null when no primary was taken away (only standbys): no takeover to time. */
  takeover_ms_p50: number | null;
  takeover_ms_p99: number | null;
  takeover_ms_max: number | null;
  replicas_identical: boolean;
  conserved: boolean;
  last_sequence: number;
}

export interface DrillReport extends HistoryFigures {
  drill: 'failover';
  nodes: number;
  /** What the victim was sent each time, and who the victims were. */
  signal: DrillSignal;
  victim: DrillVictim;
  kills: number;
  /**
   * Kills of a standby (the rest were of the primary, whose takeovers are timed), and of them
   * those after which the same member was primary still: a standby's loss must not depose it.
   */
  standby_kills: number;
  primary_kept: number;
  /**
   * The longest wait for a result around a standby's kill (ms): the quorum goes on without it.
   * Null when no standby was killed (it printed 0, as if a wait had been timed and was none).
   */
  standby_stall_ms_max: number | null;
  /** Members restarted on an empty folder (a lost disk), `lose_disks` at each such kill. */
  disks_lost: number;
  lose_disks: number;
  /** Clean stops (SIGTERM) after which the stopped primary logged that it handed over. */
  handed_over: number;
}

export const depositEach = 1_000_000_000;
/** One command in `orderEvery` is an order on the one instrument (asset 2 for asset 1). */
const orderEvery = 4;

export interface Load {
  /** The client seqs of the commands acknowledged. */
  acked: SeqCounts;
  inFlight: Set<Promise<unknown>>;
  lastAckAt: number;
  /** The longest time between two results since it was last set to 0 (ms). */
  longestGap: number;
  running: boolean;
  /** The first error of the load (the SDK gave up): the drill fails with it, members stopped. */
  error: Error | null;
}

/**
 * Refuses a drill that cannot run: killing the primary must leave a majority to elect a new
 * one (3 members at least), ids go up to clusterMembersMax, and the load needs commands in
 * flight and an account. @throws UsageError
 */
export function checkDrill(
  options: Pick<DrillOptions, 'nodes' | 'window' | 'accounts'>,
  /** What takes a member away in this drill. */
  fault = 'a kill',
): void {
  if (options.nodes < 3 || options.nodes > clusterMembersMax) {
    throw new UsageError(
      `--nodes: ${options.nodes}: 3 to ${clusterMembersMax} (${fault} must leave a majority)`,
    );
  }
  if (options.window < 1 || options.window > sdkQueueMax) {
    // Past the SDK's queue, its calls were refused (QueueFull) and the drill ended in exit 70.
    const most = sdkQueueMax.toLocaleString('en-US');
    throw new UsageError(`--window: 1 to ${most} transfers in flight (what the SDK queues)`);
  }
  // Members run with the default capacities: past them, the set-up was refused after minutes
  // of deposits (300,000: 'internal error: drill: set-up refused with status 202' at 1m49s).
  const most = engineConfigDefault.accountCountMax;
  if (options.accounts < 1 || options.accounts > most) {
    const said = most.toLocaleString('en-US');
    throw new UsageError(`--accounts: 1 to ${said} (the accounts capacity its members run with)`);
  }
}

export async function drill(options: DrillOptions): Promise<DrillReport> {
  checkDrill(options);
  checkLoseDisks(options);
  const rng = new Rng(options.seed);
  const file = await drillMembers(options.nodes, options.basePort);
  const place = drillFolder('bourse-drill-', options.data);
  writeDrillCluster(place.dir, file);
  const members = new Members(place.dir, file);
  const children = members.children;
  // A line per kill; on a terminal, a bar below them counts the kills. It is stopped however
  // the drill ends: left running, its redraw timer held the process after an error, for ever.
  const bar = options.verbose === true ? progressBar('drill: kills', options.kills) : null;
  const say = sayer(bar);
  const stopBar = (): void => bar?.stop();
  const stopListening = onInterrupt(place, () => children.values(), stopBar);
  members.onUnbidden = failOnMemberExit(place.dir, () => children.values(), stopBar);
  let failed = true;
  try {
    const urls = file.members.map((m) => `ws://${m.host}:${m.port}/`);
    const client = await connectWithRetry(urls);
    await setUp(client, options.accounts);
    const load = newLoad();
    const pumping = pump(client, load, options, rng);
    const rounds: Rounds = {
      takeovers: [],
      stalls: [],
      primaryKept: 0,
      disksLost: 0,
      handedOver: 0,
    };
    const run = { file, members, client, load, options, rng, say, rounds };
    for (let k = 0; k < options.kills; k++) {
      await killOnce(k, run);
      bar?.update(k + 1);
    }
    stopBar();
    load.running = false;
    await pumping;
    if (load.error !== null) throw load.error;
    await client.close();
    await converge(file);
    await stopAll(children);
    const check = checkReplicas(
      file.members.map((m) => members.dataOf(m.id)),
      load.acked,
      2 * depositEach * options.accounts, // both assets, no fees: trades move, never make
    );
    const r = report(options, load, rounds, check);
    failed = !historyPassed(r); // a failed check keeps the logs and folders
    return r;
  } finally {
    stopBar();
    stopListening();
    for (const c of children.values()) c.kill('SIGKILL');
    leaveFolder(place, failed);
  }
}

/** What the kills of a failover drill found. */
interface Rounds {
  /** Per kill of the primary: until the SDK got a result again (ms). */
  takeovers: number[];
  /** Per kill of a standby: the longest wait for a result around it (ms). */
  stalls: number[];
  primaryKept: number;
  disksLost: number;
  handedOver: number;
}

interface Run {
  file: ClusterFile;
  members: Members;
  client: BourseClient;
  load: Load;
  options: DrillOptions;
  rng: Rng;
  say: (line: string) => void;
  rounds: Rounds;
}

/**
 * One kill, of the primary (its takeover timed) or of a standby, and the victim's restart (on
 * an empty folder every `loseDiskEvery`-th, with `loseDisks - 1` more members killed with it).
 * Each finds the whole cluster up and caught up: killing while the last victim is still
 * starting (or replaying) would time that restart.
 */
async function killOnce(k: number, run: Run): Promise<void> {
  const { file, members, client, load, options, rng, say, rounds } = run;
  const signal = options.signal ?? 'SIGKILL';
  await allCaughtUp(file);
  await sleep(300 + rng.int(900));
  const primary = await findPrimary(file);
  const every = options.loseDiskEvery ?? 0;
  const loseDisk = every > 0 && (k + 1) % every === 0;
  const kind = options.victim ?? 'primary';
  const victim = pickVictim(kind, primary, file, rng);
  const count = loseDisk ? (options.loseDisks ?? 1) : 1;
  const victims = withOthers(victim, count, kind === 'standby' ? primary : 0, file, rng);
  const named = victims.join(' and ');
  if (victims.includes(primary)) {
    const handovers = members.handovers(primary);
    const stop = await stopPrimary(members.children, victims, client, load, signal);
    rounds.takeovers.push(stop.ms);
    rounds.handedOver += members.handovers(primary) - handovers;
    const wait = signal === 'SIGKILL' ? 'the next result after' : 'the longest wait for a result';
    const who =
      victims.length === 1 ? `member ${primary}` : `members ${named} (primary ${primary})`;
    say(
      `${signal} ${k + 1} at ${stop.at}: ${who}; the SDK reconnected after ` +
        `${stop.reconnectedMs.toFixed(0)} ms; ${wait} ${stop.ms.toFixed(0)} ms`,
    );
  } else {
    const stop = await stopStandby(members.children, victims, load, signal);
    rounds.stalls.push(stop.ms);
    const kept = (await findPrimary(file)) === primary;
    rounds.primaryKept += kept ? 1 : 0;
    say(
      `${signal} ${k + 1} at ${stop.at}: standby ${named}; the longest wait for a result ` +
        `${stop.ms.toFixed(0)} ms; member ${primary} ${kept ? 'still' : 'no longer'} primary`,
    );
  }
  const lost =
    victims.length === 1
      ? `member ${named} lost its disk; it restarts empty`
      : `members ${named} lost their disks at once; they restart empty`;
  if (loseDisk) say(`kill ${k + 1}: ${lost}`);
  rounds.disksLost += loseDisk ? victims.length : 0;
  for (const id of victims) members.restart(id, loseDisk);
}

/** The drill's member processes, on their folders, each logging to a file in the drill's. */
export class Members {
  readonly children = new Map<number, ChildProcess>();
  /**
   * Told of a member that exited without being sent a signal by the drill (its disk full, a
   * crash): nothing would restart it, and the drill waited for it until a timeout.
   */
  onUnbidden: (id: number, code: number | null, signal: NodeJS.Signals | null) => void = () => {};

  constructor(
    private readonly dir: string,
    file: ClusterFile,
    /** The command each member runs under (a network namespace's), by id. */
    private readonly prefix: (id: number) => string[] = () => [],
  ) {
    for (const m of file.members) this.spawn(m.id, true);
  }

  dataOf(id: number): string {
    return memberDataDir(this.dir, id);
  }

  /** Times member `id` has logged that it handed the cluster over (a clean stop as primary). */
  handovers(id: number): number {
    const log = readFileSync(join(this.dir, `member-${id}.log`), 'utf8');
    return log.split(': handed over in ').length - 1;
  }

  /** Starts a killed member again on its folder, or on an empty one when it lost its disk. */
  restart(id: number, loseDisk: boolean): void {
    if (loseDisk) rmSync(this.dataOf(id), { recursive: true, force: true });
    this.spawn(id, false);
  }

  private spawn(id: number, bootstrap: boolean): void {
    const log = openSync(join(this.dir, `member-${id}.log`), 'a');
    const path = join(this.dir, clusterFileName);
    const prefix = this.prefix(id);
    const child = spawnMember(path, id, this.dataOf(id), bootstrap, { output: log, prefix });
    this.children.set(id, child);
    // `killed`: the drill sent it a signal (a kill, a clean stop, the end), which it awaits.
    child.once('exit', (code, signal) => child.killed || this.onUnbidden(id, code, signal));
  }
}

export async function connectWithRetry(urls: string[]): Promise<BourseClient> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await BourseClient.connect(urls[0], {
        clientId: 9,
        members: urls,
        reconnectWaitMs: 60_000, // the kills come one after another
      });
    } catch (error) {
      if (attempt > 300) throw error;
      await sleep(50);
    }
  }
}

/** Two assets, every account funded with both, and an instrument trading one for the other. */
export async function setUp(client: BourseClient, accounts: number): Promise<void> {
  const ids = Array.from({ length: accounts }, (_, i) => i + 1);
  const deposits = ids.flatMap((account) =>
    [1, 2].map((ref) => ({ account, ref, quantity: depositEach })),
  );
  // Instrument 1: base asset 2, quote asset 1, tick and lot of 1, no fees.
  const instrument = { ref: 1, target: 2, aux: 1, price: 1, quantity: 1 };
  // Batches, not a call per command: --accounts 40000 would make 120,000 calls at once, past
  // the SDK's queue (queueMax). Issued in order, they are applied in order.
  const results = await Promise.all([
    client.submitBatch(
      CommandKind.AddAsset,
      [1, 2].map((ref) => ({ ref, aux: 2 })),
    ),
    client.submitBatch(
      CommandKind.CreateAccount,
      ids.map((account) => ({ account })),
    ),
    client.submitBatch(CommandKind.Deposit, deposits),
    client.submitBatch(CommandKind.AddInstrument, [instrument]),
  ]);
  for (const r of results) {
    const refused = r.status.find((status) => status !== 0);
    if (refused !== undefined) throw new Error(`drill: set-up refused with status ${refused}`);
  }
}

/** A transfer, or one time in `orderEvery` a limit order (good till cancelled or IOC). */
function nextCommand(client: BourseClient, rng: Rng, accounts: number): Promise<EventRecord[]> {
  const from = 1 + rng.int(accounts);
  if (rng.int(orderEvery) !== 0) {
    const to = 1 + ((from + rng.int(accounts - 1)) % accounts);
    return client.transfer({ account: from, target: to, ref: 1, quantity: 1 + rng.int(100) });
  }
  return client.placeOrder({
    account: from,
    ref: 1,
    price: 95 + rng.int(11),
    quantity: 1 + rng.int(10),
    flags: rng.int(2) === 0 ? CommandFlag.Sell : 0,
    tif: rng.int(2) === 0 ? TimeInForce.Ioc : TimeInForce.Gtc,
  });
}

/** Keeps `window` commands in flight until `load.running` is false, then drains. */
export async function pump(
  client: BourseClient,
  load: Load,
  o: Pick<DrillOptions, 'window' | 'accounts'>,
  rng: Rng,
): Promise<void> {
  while (load.running) {
    while (load.running && load.inFlight.size < o.window) {
      const sent = nextCommand(client, rng, o.accounts);
      const tracked = sent.then(
        ([head]) => {
          load.acked.add(head.clientSeq);
          const now = performance.now();
          load.longestGap = Math.max(load.longestGap, now - load.lastAckAt);
          load.lastAckAt = now;
        },
        (error: Error) => {
          load.error ??= error;
          load.running = false;
        },
      );
      load.inFlight.add(tracked);
      void tracked.finally(() => load.inFlight.delete(tracked));
    }
    await Promise.race([...load.inFlight, sleep(20)]);
  }
  await Promise.all(load.inFlight);
}

export function newLoad(): Load {
  const started = { lastAckAt: performance.now(), longestGap: 0 };
  return { acked: new SeqCounts(), inFlight: new Set(), ...started, running: true, error: null };
}

/**
 * Sends the primary `signal` (and the other `victims`, at once) and waits for their exit. The
 * takeover of a kill is the time until
 * the SDK got a result again; that of a clean stop, which answers what it took in and
 * hands over, the longest wait for a result from the signal until the first result after.
 */
async function stopPrimary(
  children: ReadonlyMap<number, ChildProcess>,
  victims: readonly number[],
  client: BourseClient,
  load: Load,
  signal: DrillSignal,
): Promise<{ ms: number; reconnectedMs: number; at: string }> {
  load.longestGap = 0;
  const killedAt = performance.now();
  const at = new Date().toISOString();
  const reconnected = watchReconnect(client, killedAt); // a clean stop's, before its exit
  await stopTogether(children, victims, signal);
  await sleep(20); // what the dead primary sent before it died has been read by now
  const { ms, reconnectedMs } = await timeTakeover(client, load, killedAt, reconnected);
  return { ms: signal === 'SIGKILL' ? ms : load.longestGap, reconnectedMs, at };
}

/**
 * Sends standbys `ids` `signal` and waits for their exit, then for a result: the primary commits
 * with the other members meanwhile, so the figure is the longest wait for a result around it.
 */
async function stopStandby(
  children: ReadonlyMap<number, ChildProcess>,
  ids: readonly number[],
  load: Load,
  signal: DrillSignal,
): Promise<{ ms: number; at: string }> {
  load.longestGap = 0;
  const killedAt = performance.now();
  const at = new Date().toISOString();
  await stopTogether(children, ids, signal);
  await takeover(load, killedAt, performance.now());
  return { ms: load.longestGap, at };
}

/** Sends each of `ids` `signal`, all at once, and waits until every one has exited. */
async function stopTogether(
  children: ReadonlyMap<number, ChildProcess>,
  ids: readonly number[],
  signal: DrillSignal,
): Promise<void> {
  const exits = ids.map((id) => new Promise((resolve) => children.get(id)?.once('exit', resolve)));
  for (const id of ids) children.get(id)?.kill(signal);
  await Promise.all(exits);
}

/** Milliseconds from the kill until the SDK reconnected, and until it got a result again. */
export async function timeTakeover(
  client: BourseClient,
  load: Load,
  killedAt: number,
  reconnected = watchReconnect(client, killedAt),
): Promise<{ ms: number; reconnectedMs: number }> {
  try {
    return { ms: await takeover(load, killedAt, performance.now()), reconnectedMs: reconnected() };
  } finally {
    reconnected(); // the watch ends (again, after a failure)
  }
}

/**
 * Watches for the SDK's next reconnect. The function returned ends the watch and says when it
 * came: ms since `from` (-1: none).
 */
function watchReconnect(client: BourseClient, from: number): () => number {
  const reconnects = client.reconnects;
  let ms = -1;
  const watch = setInterval(() => {
    if (ms < 0 && client.reconnects > reconnects) ms = performance.now() - from;
  }, 1);
  return () => {
    clearInterval(watch);
    return ms;
  };
}

/** Milliseconds from the kill until the SDK got a result again. */
async function takeover(load: Load, killedAt: number, after: number): Promise<number> {
  const deadline = killedAt + 60_000;
  while (load.lastAckAt <= after) {
    if (load.error !== null) throw load.error;
    if (performance.now() > deadline) throw new Error('drill: no result within 60 s of a kill');
    await sleep(5);
  }
  return load.lastAckAt - killedAt;
}

interface Health {
  role: string;
  /** True on the primary once it takes commands. */
  accepting: boolean;
  durableSequence: number;
  committedSequence: number;
  appliedSequence: number;
}

export async function health(m: { host: string; port: number }): Promise<Health | null> {
  return (await healthOf(m.host, m.port, 500)) as Health | null;
}

/** The member serving clients (its gateway's /health names the primary role). */
export async function findPrimary(file: ClusterFile): Promise<number> {
  for (let attempt = 0; attempt < 600; attempt++) {
    for (const m of file.members) {
      const h = await health(m);
      if (h?.role === 'primary' && h.accepting) return m.id;
    }
    await sleep(20);
  }
  const seen = await Promise.all(file.members.map((m) => health(m)));
  throw new Error(`drill: no primary within 12 s: ${JSON.stringify(seen)}`);
}

/**
 * Waits until every member answers /health and has applied what was committed when they all
 * first answered (a restarted member has started and caught up: its state is hot again).
 */
export async function allCaughtUp(file: ClusterFile): Promise<void> {
  let target = -1;
  for (let attempt = 0; attempt < 1500; attempt++) {
    const all = await Promise.all(file.members.map((m) => health(m)));
    if (all.every((h) => h !== null)) {
      if (target < 0) target = Math.max(...all.map((h) => h!.committedSequence));
      if (all.every((h) => h!.appliedSequence >= target)) return;
    }
    await sleep(20);
  }
  throw new Error('drill: a restarted member did not catch up within 30 s');
}

/** Waits until every member has committed (and applied) what the primary has journaled. */
export async function converge(file: ClusterFile): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const all = await Promise.all(file.members.map((m) => health(m)));
    const primary = all.find((h) => h?.role === 'primary' && h.accepting);
    const target = primary?.durableSequence ?? -1;
    // Committed everywhere, and on every disk (a standby's commit can run ahead of its disk).
    const at = (h: Health | null): boolean =>
      h?.committedSequence === target && h.durableSequence === target;
    if (primary !== undefined && all.every(at)) return;
    await sleep(20);
  }
  const seen = await Promise.all(file.members.map((m) => health(m)));
  throw new Error(`drill: the members did not converge within 10 s: ${JSON.stringify(seen)}`);
}

export async function stopAll(children: Map<number, ChildProcess>): Promise<void> {
  await Promise.all(
    [...children.entries()].map(
      ([id, c]) =>
        new Promise((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve(null);
          // A member that does not stop in time is killed, and said to be: a run must end.
          const kill = setTimeout(() => {
            console.error(`member ${id} did not stop within ${memberStopMs} ms: killed`);
            c.kill('SIGKILL');
          }, memberStopMs);
          c.once('exit', () => {
            clearTimeout(kill);
            resolve(null);
          });
          c.kill('SIGTERM');
        }),
    ),
  );
}

/** Nothing lost or applied twice, every replica the same, the assets conserved. */
export function historyPassed(r: HistoryFigures): boolean {
  return r.lost === 0 && r.duplicated === 0 && r.replicas_identical && r.conserved;
}

/**
 * A drill's last line on stderr: which of its rules failed, or that every one held (the exit
 * code is 0 only then). `more` are a drill's own rules, each with what is said when it fails.
 * Before, a run that passed ended on its JSON, with no word on whether it had.
 */
export function verdict(r: HistoryFigures, more: [holds: boolean, failed: string][] = []): string {
  const rules: [boolean, string][] = [
    [r.lost === 0, `${r.lost} acknowledged command(s) lost`],
    [r.duplicated === 0, `${r.duplicated} command(s) applied twice`],
    [r.replicas_identical, 'the replicas differ (hash chain or state)'],
    [r.conserved, 'the assets are not conserved'],
    ...more,
  ];
  const failed = rules.filter(([holds]) => !holds).map(([, said]) => said);
  if (failed.length > 0) return `drill: FAILED: ${failed.join('; ')}\n`;
  const acked = r.acked.toLocaleString('en-US');
  return `drill: passed: every rule held (${acked} acknowledged, none lost or twice)\n`;
}

/**
 * A line on stderr for each round (who was killed or cut, the takeover), when the drill is
 * `verbose` (has a `bar`); on a terminal above the bar that counts the rounds. On a terminal
 * it said nothing of them before: the operator saw a bar, and percentiles at the end.
 */
export function sayer(bar: Progress | null): (line: string) => void {
  return (line) => bar?.say(`drill: ${line}`);
}

/** The `p`th percentile of `values`, or null when there are none (JSON says none, not 0 ms). */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
}

function report(o: DrillOptions, load: Load, rounds: Rounds, check: ReplicaCheck): DrillReport {
  const { takeovers, stalls } = rounds;
  const history = historyFigures(load, takeovers, check);
  const how = { signal: o.signal ?? 'SIGKILL', victim: o.victim ?? 'primary' };
  const figures = {
    kills: takeovers.length + stalls.length,
    standby_kills: stalls.length,
    primary_kept: rounds.primaryKept,
    standby_stall_ms_max: stalls.length === 0 ? null : Math.round(Math.max(...stalls)),
    disks_lost: rounds.disksLost,
    lose_disks: o.loseDisks ?? 1,
    handed_over: rounds.handedOver,
  };
  return { drill: 'failover', nodes: o.nodes, ...how, ...figures, ...history };
}

/** A drill's load, its takeovers (ms each) and the checked history, as it reports them. */
export function historyFigures(
  load: Load,
  takeovers: readonly number[],
  check: ReplicaCheck,
): HistoryFigures {
  return {
    acked: load.acked.size,
    lost: check.lost,
    duplicated: check.duplicated,
    takeover_ms_p50: percentile(takeovers, 50),
    takeover_ms_p99: percentile(takeovers, 99),
    takeover_ms_max: takeovers.length === 0 ? null : Math.round(Math.max(...takeovers)),
    replicas_identical: check.identical,
    conserved: check.conserved,
    last_sequence: check.lastSequence,
  };
}

/**
 * Ctrl-C or SIGTERM skips a drill's `finally`: its members would outlive it and its folder stay
 * behind. Until the returned function is called, either signal stops the members cleanly and
 * waits for them to exit (member-stop.ts: one still writing would leave files in a folder
 * being removed), runs `release` (what else the drill made: network namespaces, after the
 * members in them have stopped), removes the folder (kept when given
 * with --data, or with BOURSE_DRILL_KEEP=1) and exits 130 (SIGINT) or 143 (SIGTERM). All of it
 * synchronously: the drill's own flow must not go on meanwhile into what is being torn down.
 */
export function onInterrupt(
  place: DrillPlace,
  children: () => Iterable<ChildProcess>,
  release: () => void = () => {},
): () => void {
  return onStopSignal((signal) => {
    const killed = stopMembersSync([...children()]);
    release();
    if (!place.kept) rmSync(place.dir, { recursive: true, force: true });
    const where = place.kept ? `its folder is kept: ${place.dir}` : 'its folder is removed';
    const how = killed.length === 0 ? 'stopped cleanly' : `stopped (${killedLine(killed)})`;
    process.stderr.write(`drill: interrupted (${signal}); its members are ${how}, ${where}\n`);
    process.exit(signalExitCode(signal));
  });
}

/**
 * What a member exiting on its own does to a drill: the drill ends at once, its other members
 * killed, its folder kept, with the member's exit code and reason and the end of its log (a
 * disk too small ended in 'internal error: no member took the session' after some 20 s, the
 * reason only in the member's log). Exits with the member's code (74: the disk), or 70.
 */
export function failOnMemberExit(
  dir: string,
  children: () => Iterable<ChildProcess>,
  release: () => void = () => {},
): (id: number, code: number | null, signal: NodeJS.Signals | null) => void {
  return (id, code, signal) => {
    const left = [...children()];
    for (const c of left) c.kill('SIGKILL');
    release();
    waitExitedSync(left, memberStopMs);
    const how =
      signal === null
        ? `exited by itself (exit code ${code}: ${exitCodeMeaning(code ?? 70)})`
        : `was killed from outside the drill (${signal}: by hand, the OOM killer?)`;
    const log = join(dir, `member-${id}.log`);
    const tail = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-3);
    process.stderr.write(
      `drill: member ${id} ${how}; the end of ${log}:\n` +
        tail.map((line) => `  ${line}\n`).join('') +
        `drill: failed; the members are stopped, their logs are in ${dir}\n`,
    );
    // A sysexits code (64-78) says what failed (74: the disk); anything else is internal (70).
    process.exit(code !== null && code >= 64 && code <= 78 ? code : 70);
  };
}

/** Members that did not stop cleanly in time, by pid. */
function killedLine(pids: readonly number[]): string {
  const seconds = memberStopMs / 1000;
  return `pid ${pids.join(', ')} killed: not stopped within ${seconds} s`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
