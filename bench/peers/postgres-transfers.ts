/**
 * bench:peer-postgres — durable transfers under the no-overdraft rule: PostgreSQL and bourse
 * side by side, the same seeded transfer stream through each, and the rule checked on each at
 * the end (balances conserved, none negative).
 *
 *   npm run bench:peer-postgres              default size (~2.5 min of PostgreSQL)
 *   npm run bench:peer-postgres -- --small   CI size (a few seconds)
 *   # experiments: --connections C (PostgreSQL) --lanes P --window W --batch B (bourse)
 *   #   --transfers N --seed S   (--batch 0: one SDK call, one promise, per transfer)
 *
 *   bench ──pg, C connections─────► PostgreSQL (scripts/postgres.sh: 127.0.0.1, fsync on)
 *   lanes ──SDK, a WebSocket each─► bourse node (child process: `bourse start`, own data dir)
 *   (bourse-lane.ts: client processes, each a share of the stream, as e2e's load processes)
 *
 * The rule: a transfer that would take its source below zero is rejected and changes nothing.
 * PostgreSQL enforces it in one stored function per transfer (one statement, one transaction):
 * lock both rows in id order (no deadlocks), debit `WHERE balance >= amount`, credit only if
 * the debit took; a CHECK (balance >= 0) backs it. bourse enforces it in its ledger
 * (LedgerInsufficientFunds). A transfer counts once its durable answer arrives: PostgreSQL's
 * commit returns after its WAL is fsynced (synchronous_commit=on), a bourse result after its
 * journal batch is fsynced. Both servers run in their own processes; PostgreSQL's client runs
 * here, bourse's in `lanes` processes (an SDK connection is one JavaScript thread).
 * Only the stream is timed: not start-up, seeding, bourse's warm-up, or the checks.
 *
 * PostgreSQL takes minutes over the stream, bourse about a second and a half, in which a
 * neighbour on a shared machine can take a core for a while. So bourse runs the stream
 * `--bourse-runs` times (3), each on a fresh node from the same balances, and the run with the
 * median rate is compared; every run is shown and every run's checks must hold.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { BourseClient } from '../../src/client/client.js';
import { clientV8Flags } from '../../src/constants.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { Status } from '../../src/protocol/status.js';
import { machine, machineLine, printTable } from '../lib/table.js';
import { processCpuMs } from '../lib/process-cpu.js';
import { closedLoop, makeStream, type Stream } from './transfer-stream.js';
import { checkArgs, flag } from '../lib/flags.js';

checkArgs({
  run: 'npm run bench:peer-postgres --',
  switches: { '--small': 'the CI size: 5,000 transfers (1M)' },
  values: {
    '--seed': 'seed of the transfer stream',
    '--transfers': 'transfers in the stream',
    '--connections': 'PostgreSQL connections (32; small 16; at most 96)',
    '--lanes': 'bourse client processes (3; small 2)',
    '--window': 'bourse transfers in flight, all lanes (12,000; small 1,000)',
    '--bourse-runs': "fresh-node runs of bourse's side, the median compared (3; small 1)",
    '--batch': 'transfers a submitBatch call (250; 0: one call a transfer)',
  },
});
const small = process.argv.includes('--small');
/** scripts/postgres.sh sets max_connections = 100; this leaves a few for psql. */
const connectionsMax = 96;
const size = {
  seed: flag('--seed', 20_261_201),
  accounts: small ? 1_000 : 10_000,
  // bourse takes the stream in about a second and a half: long enough that its first and last
  // round trips (a few ms each) weigh little. PostgreSQL takes minutes over the same stream.
  transfers: flag('--transfers', small ? 5_000 : 1_000_000),
  /** Each account's opening deposit, in minor units. */
  deposit: 10_000,
  /** Amounts are uniform in 1..amountMax: large enough beside the deposit to overdraw. */
  amountMax: 4_000,
  /** PostgreSQL connections, each one transfer at a time. */
  connections: flag('--connections', small ? 16 : 32, 1, connectionsMax),
  /** bourse client processes (one SDK connection each), and commands in flight in all. */
  lanes: flag('--lanes', small ? 2 : 3),
  window: flag('--window', small ? 1_000 : 12_000),
  /** Fresh-node runs of the stream on bourse's side; the median one is compared. */
  bourseRuns: flag('--bourse-runs', small ? 1 : 3),
  /** Transfers per submitBatch call (0: one `transfer` call, one promise, per transfer). */
  batch: flag('--batch', 250, 0),
  /**
   * Untimed transfers of 1 to and fro between two extra accounts before bourse's stream, so
   * that V8 has compiled the node's and the SDK's paths (PostgreSQL's C needs no warm-up).
   */
  warmup: small ? 5_000 : 200_000,
};
const asset = 1;
const root = fileURLToPath(new URL('../../../', import.meta.url));
const postgresScript = join(root, 'scripts', 'postgres.sh');
const bourseMain = join(root, 'dist', 'src', 'main.js');
const startTimeoutMs = 30_000;
const stopTimeoutMs = 30_000;
const readLanes = 64;
const laneScript = fileURLToPath(new URL('./bourse-lane.js', import.meta.url));

/** What each side did, and whether its end state holds the rule. */
interface SideResult {
  transfersPerS: number;
  elapsedMs: number;
  /** Transfers refused because they would overdraw (the rule at work). */
  rejected: number;
  /** Transfers that failed otherwise (errors, other statuses): a correct run has none. */
  failed: number;
  conserved: boolean;
  noNegative: boolean;
  total: number;
  lowest: number;
  label: string;
  /** bourse: CPU µs per transfer over the stream, the node's process and its clients'. */
  cpuUs?: { node: number; clients: number };
}

/**
 * Undo for what the bench started (servers, folders), run on a signal too: a Ctrl-C must not
 * leave PostgreSQL running (pg_ctl detaches it from the terminal, so it would not hear one).
 */
const cleanups = new Set<() => void>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const undo of cleanups) undo();
    process.exit(130);
  });
}

// --- PostgreSQL ------------------------------------------------------------------------------

const schemaSql = `
CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
INSERT INTO accounts SELECT g, ${size.deposit} FROM generate_series(1, ${size.accounts}) g;
CREATE FUNCTION transfer(source bigint, target bigint, amount bigint) RETURNS boolean AS $$
BEGIN
  -- Both rows locked in id order: two transfers between the same pair cannot deadlock.
  PERFORM 1 FROM accounts WHERE id IN (source, target) ORDER BY id FOR UPDATE;
  UPDATE accounts SET balance = balance - amount WHERE id = source AND balance >= amount;
  IF NOT FOUND THEN
    RETURN false; -- would overdraw: rejected, nothing changed
  END IF;
  UPDATE accounts SET balance = balance + amount WHERE id = target;
  RETURN true;
END $$ LANGUAGE plpgsql;
`;

function stopPostgres(dir: string): void {
  try {
    execFileSync(postgresScript, ['stop', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runPostgres(stream: Stream): Promise<SideResult & { version: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-peer-postgres-'));
  const undo = (): void => stopPostgres(dir);
  cleanups.add(undo);
  try {
    let url: string;
    try {
      url = execFileSync(postgresScript, ['start', dir], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: 10 * 60_000, // a first run may install PostgreSQL
      }).trim();
    } catch (error) {
      throw new Error(`PostgreSQL could not be installed or started (${postgresScript})`, {
        cause: error,
      });
    }
    return await drivePostgres(url, stream);
  } finally {
    cleanups.delete(undo);
    stopPostgres(dir);
    // PostgreSQL's last checkpoint and removed files leave the disk busy writing back for a
    // while: wait for it, so that bourse's fsyncs do not pay for PostgreSQL's.
    execFileSync('sync');
  }
}

async function drivePostgres(
  url: string,
  stream: Stream,
): Promise<SideResult & { version: string }> {
  const clients = Array.from({ length: size.connections }, () => new pg.Client(url));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    await clients[0].query(schemaSql);
    await clients[0].query('VACUUM ANALYZE accounts'); // not inside the schema's transaction
    const version = (await clients[0].query('SHOW server_version')).rows[0].server_version;
    let rejected = 0;
    let failed = 0;
    // One lane per connection: a connection carries one transaction at a time.
    const send = async (i: number, lane: number): Promise<void> => {
      const values = [stream.from[i], stream.to[i], stream.amount[i]];
      try {
        const r = await clients[lane].query({ name: 'transfer', text: transferSql, values });
        if (r.rows[0].moved !== true) rejected++;
      } catch (error) {
        if (failed++ === 0) console.error(`PostgreSQL: a transfer failed: ${String(error)}`);
      }
    };
    const elapsedMs = await closedLoop(size.transfers, size.connections, send);
    const end = await clients[0].query(
      'SELECT sum(balance)::text AS total, min(balance)::text AS lowest, count(*)::int AS n ' +
        'FROM accounts',
    );
    const { total, lowest, n } = end.rows[0] as { total: string; lowest: string; n: number };
    const sum = BigInt(total); // bigint sums come back as numeric text
    return {
      ...rates(elapsedMs, rejected, failed),
      conserved: n === size.accounts && sum === BigInt(size.accounts * size.deposit),
      noNegative: BigInt(lowest) >= 0n,
      total: Number(sum),
      lowest: Number(lowest),
      label: `PostgreSQL ${version}`,
      version,
    };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}

const transferSql = 'SELECT transfer($1, $2, $3) AS moved';

function rates(elapsedMs: number, rejected: number, failed: number) {
  return {
    transfersPerS: Math.round(size.transfers / (elapsedMs / 1000)),
    elapsedMs,
    rejected,
    failed,
  };
}

// --- bourse ----------------------------------------------------------------------------------

/** Starts `bourse start` on `dir` and resolves with its client address once it is ready. */
function startNode(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const args = [bourseMain, 'start', '--data', dir, '--port', '0'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bourse did not start within ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      const port = /clients:\s+ws:\/\/[^:]+:(\d+)\//.exec(out)?.[1];
      if (port === undefined || !out.includes('ready')) return;
      clearTimeout(timer);
      resolve({ child, port: Number(port) });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bourse exited with ${code} while starting`));
    });
  });
}

/** SIGTERM (bourse stops cleanly: everything accepted is journaled), SIGKILL if it hangs. */
async function stopNode(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
  await exited;
  clearTimeout(timer);
}

async function runBourse(stream: Stream): Promise<SideResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-peer-node-'));
  let child: ChildProcess | null = null;
  const undo = (): void => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.add(undo);
  try {
    const node = await startNode(dir);
    child = node.child;
    return await driveBourse(node.port, node.child.pid as number, stream);
  } finally {
    cleanups.delete(undo);
    if (child !== null) await stopNode(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One asset and `accounts` accounts, each with the deposit; throws unless all went through. */
async function fund(url: string, accounts: number): Promise<void> {
  const admin = await BourseClient.connect(url, { clientId: 1 });
  const all = [admin.submit(CommandKind.AddAsset, { ref: asset, aux: 2 })];
  for (let a = 1; a <= accounts; a++) {
    all.push(admin.submit(CommandKind.CreateAccount, { account: a }));
  }
  for (let a = 1; a <= accounts; a++) {
    all.push(admin.submit(CommandKind.Deposit, { account: a, ref: asset, quantity: size.deposit }));
  }
  const answers = await Promise.all(all);
  await admin.close();
  if (answers.some((events) => events[0].status !== Status.Ok)) {
    throw new Error('bourse refused a command while funding the accounts');
  }
}

async function driveBourse(port: number, pid: number, stream: Stream): Promise<SideResult> {
  const url = `ws://127.0.0.1:${port}/`;
  const accounts = size.accounts + 2; // the stream's, and the warm-up's pair
  await fund(url, accounts);
  const lanes = Array.from({ length: size.lanes }, (_, lane) => startLane(url, lane, stream));
  await Promise.all(lanes.map((l) => l.ready));
  const t0 = performance.now();
  const nodeCpuMs = processCpuMs(pid);
  for (const l of lanes) l.child.send('go');
  const results = await Promise.all(lanes.map((l) => l.done));
  const elapsedMs = performance.now() - t0;
  const sum = (f: (r: LaneResult) => number): number => results.reduce((t, r) => t + f(r), 0);
  const perTransferUs = (ms: number): number =>
    Math.round((ms * 1000 * 100) / size.transfers) / 100;
  const cpuUs = {
    node: perTransferUs(processCpuMs(pid) - nodeCpuMs),
    clients: perTransferUs(sum((r) => r.cpuMs)),
  };
  const failed = sum((r) => r.failed);
  if (failed > 0) console.error(`bourse: ${failed} transfers failed (not Ok, not overdrawn)`);
  const sequenceMax = Math.max(...results.map((r) => r.sequenceMax));
  const end = await readBalances(port, accounts, sequenceMax);
  return {
    ...rates(
      elapsedMs,
      sum((r) => r.rejected),
      failed,
    ),
    conserved: end.found === accounts && end.total === accounts * size.deposit,
    noNegative: end.lowest >= 0,
    total: end.total,
    lowest: end.lowest,
    label: 'bourse',
    cpuUs,
  };
}

interface LaneResult {
  rejected: number;
  /** CPU the lane process used over the stream (ms). */
  cpuMs: number;
  failed: number;
  sequenceMax: number;
}

/** Forks a bourse client process (bourse-lane.ts) for items lane, lane + lanes, ... */
function startLane(url: string, lane: number, stream: Stream) {
  const shape = [size.seed, size.transfers, size.accounts, size.amountMax];
  const window = Math.max(1, Math.floor(size.window / size.lanes));
  const args = [url, 2 + lane, lane, size.lanes, window, size.warmup, ...shape].map(String);
  const child = fork(laneScript, [...args, stream.checksum, String(size.batch)], {
    stdio: 'inherit',
    execArgv: [...clientV8Flags], // as the README recommends for streaming SDK processes
  });
  cleanups.add(() => child.kill('SIGKILL'));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`bourse lane ${lane} exited with ${code}`))),
  );
  exited.catch(() => {}); // after 'done', an exit is expected
  const message = (kind: string) =>
    Promise.race([
      new Promise<LaneResult>((resolve) => {
        const on = (m: { kind: string } & LaneResult): void => {
          if (m.kind !== kind) return;
          child.off('message', on);
          resolve(m);
        };
        child.on('message', on);
      }),
      exited,
    ]);
  return { child, ready: message('ready'), done: message('done') };
}

interface BalancesAnswer {
  sequence: number;
  balances: { asset: number; available: number; held: number }[];
}

/**
 * Every account's balance of the asset, from the node's HTTP reads (GET /balances), once its
 * read model has applied everything up to `sequence` (it follows the journal, a little behind).
 */
async function readBalances(port: number, accounts: number, sequence: number) {
  const read = async (account: number): Promise<BalancesAnswer | null> => {
    const response = await fetch(`http://127.0.0.1:${port}/balances?account=${account}`);
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`GET /balances: ${response.status}`);
    return (await response.json()) as BalancesAnswer;
  };
  const triesMax = 500; // 10 s at 20 ms
  for (let tries = 0; ((await read(1))?.sequence ?? 0) < sequence; tries++) {
    if (tries === triesMax) throw new Error(`the read model did not reach ${sequence}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  let found = 0;
  let total = 0;
  let lowest = Infinity;
  await closedLoop(accounts, readLanes, async (i) => {
    const answer = await read(i + 1);
    if (answer === null) return;
    if (answer.sequence < sequence) throw new Error('a read went back in time');
    found++;
    let balance = 0;
    for (const row of answer.balances) {
      if (row.asset !== asset) continue;
      balance += row.available + row.held;
      lowest = Math.min(lowest, row.available, row.held);
    }
    total += balance;
    lowest = Math.min(lowest, balance);
  });
  return { found, total, lowest };
}

// --- report ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const stream = makeStream(size);
  const postgres = await runPostgres(stream);
  const runs: SideResult[] = [];
  for (let r = 0; r < size.bourseRuns; r++) runs.push(await runBourse(stream));
  const byRate = [...runs].sort((a, b) => a.transfersPerS - b.transfersPerS);
  // The median run's rate; the checks of every run.
  const bourse: SideResult = {
    ...byRate[(byRate.length - 1) >> 1],
    failed: runs.reduce((sum, r) => sum + r.failed, 0),
    conserved: runs.every((r) => r.conserved),
    noNegative: runs.every((r) => r.noNegative),
  };
  const ratio = Math.round((bourse.transfersPerS / postgres.transfersPerS) * 100) / 100;
  const host = await machine();
  const yes = (held: boolean): string => (held ? 'yes' : 'NO');
  const sides = (f: (s: SideResult) => string | number) => ({
    postgres: f(postgres),
    bourse: f(bourse),
  });
  printTable(
    `bench:peer-postgres (${small ? 'small' : 'default'}): ${size.transfers} transfers ` +
      `between ${size.accounts} accounts of ${size.deposit}, amounts 1..${size.amountMax}, ` +
      `seed ${size.seed}, stream ${stream.checksum}; ${machineLine(host)}`,
    [
      { measure: 'server', ...sides((s) => s.label) },
      {
        measure: 'a transfer is answered once',
        postgres: 'its WAL is fsynced (synchronous_commit=on)',
        bourse: 'its journal batch is fsynced',
      },
      { measure: 'replication', postgres: 'none: one server', bourse: 'none: one node' },
      { measure: 'durable transfers/s', ...sides((s) => s.transfersPerS) },
      {
        measure: `bourse runs (median compared)`,
        postgres: '',
        bourse: runs.map((r) => r.transfersPerS.toLocaleString('en-US')).join(' / '),
      },
      { measure: 'elapsed s', ...sides((s) => s.elapsedMs / 1000) },
      {
        measure: 'CPU µs per transfer: node / clients',
        postgres: '',
        bourse: `${bourse.cpuUs?.node} / ${bourse.cpuUs?.clients}`,
      },
      {
        measure: 'concurrency',
        postgres: `${size.connections} connections`,
        bourse:
          `${size.lanes} processes, ${size.window} in flight` +
          (size.batch > 0 ? `, submitBatch of ${size.batch}` : ', one call per transfer'),
      },
      { measure: 'rejected: would overdraw', ...sides((s) => s.rejected) },
      { measure: 'failed otherwise (must be 0)', ...sides((s) => s.failed) },
      { measure: 'sum of balances = deposits', ...sides((s) => yes(s.conserved)) },
      { measure: 'no negative balance', ...sides((s) => yes(s.noNegative)) },
      { measure: 'bourse / PostgreSQL (goal ≥ 100×)', postgres: '', bourse: `${ratio}×` },
    ],
  );
  const held = [postgres, bourse].every((s) => s.conserved && s.noNegative && s.failed === 0);
  console.log(
    JSON.stringify({
      bench: 'peer-postgres',
      size: small ? 'small' : 'default',
      mode: 'one server each: durable on its disk before each answer, no replication',
      cpu_steal_pct: host.cpu_steal_pct,
      postgres_transfers_per_s: postgres.transfersPerS,
      bourse_transfers_per_s: bourse.transfersPerS,
      bourse_runs_transfers_per_s: runs.map((r) => r.transfersPerS),
      bourse_cpu_us_per_transfer_node: bourse.cpuUs?.node,
      bourse_cpu_us_per_transfer_clients: bourse.cpuUs?.clients,
      ratio,
      postgres_conserved: postgres.conserved,
      postgres_no_negative: postgres.noNegative,
      postgres_rejected: postgres.rejected,
      postgres_failed: postgres.failed,
      bourse_conserved: bourse.conserved,
      bourse_no_negative: bourse.noNegative,
      bourse_rejected: bourse.rejected,
      bourse_failed: bourse.failed,
      transfers: size.transfers,
      accounts: size.accounts,
      deposit: size.deposit,
      amount_max: size.amountMax,
      seed: size.seed,
      stream_checksum: stream.checksum,
      postgres_version: postgres.version,
      postgres_connections: size.connections,
      bourse_in_flight: size.window,
      bourse_client_processes: size.lanes,
      bourse_batch: size.batch,
      bourse_warmup_transfers: size.warmup,
      machine: host,
    }),
  );
  if (!held) {
    console.error('bench:peer-postgres: a check did not hold (see the table)');
    process.exitCode = 1;
  }
}

try {
  await main();
} catch (error) {
  console.error(`bench:peer-postgres failed: ${(error as Error).message}`);
  console.error(error);
  process.exitCode = 1;
}
