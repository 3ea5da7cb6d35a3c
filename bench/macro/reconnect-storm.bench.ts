/**
 * bench:reconnect-storm — how long `count` SDK clients with cancel on disconnect take to log in
 * again after their node restarts, against the grace the node gives them (5 s, or
 * --cancel-on-disconnect-grace-ms): a marked client not back within it has its orders canceled
 * though it was on its way back.
 *
 *   node --expose-gc dist/bench/macro/reconnect-storm.bench.js [--small] [--clients N]
 *     [--port P]
 *   (STORM_LOG=1: the node's log lines too, counted by kind)
 *
 *   2 client processes (count / 2 SDK clients each, one address) ──► node (this process)
 *   node.stop() ── restart on its folder ──► t0: taking commands, the grace begins
 *   sessions polled every 5 ms: the time to 50, 90, 99 and 100 % logged in again
 *   storm_losses: sessions the node lost meanwhile (a login the SDK gave up once welcomed)
 *
 * All clients share the loopback address: logins pending per address are capped at 64
 * (loginsPendingPerAddressMax), as for a farm of clients behind one NAT; the rest are answered
 * 503 and back off. The grace-end line says how many were back in time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BourseNode } from '../../src/pipeline/node.js';
import {
  cancelOnDisconnectGraceMs,
  engineConfigDefault,
  sessionCountMax,
} from '../../src/constants.js';
import { freePort } from '../../src/cli/ports.js';
import { machine, machineLine, printTable } from '../lib/table.js';
import { checkArgs, flag } from '../lib/flags.js';
import { removeOnExit } from '../lib/bench-exit.js';
import { readCpuTimes, stealPercentSince } from '../lib/cpu-steal.js';

// Before, it read no usage: --help, or a typo of --small, ran its large size (10,000 clients).
checkArgs({
  run: 'npm run bench:reconnect-storm --',
  switches: { '--small': 'the CI size: 1,000 clients (large: 10,000)' },
  values: {
    '--clients': `SDK clients, 2 to ${sessionCountMax} (the node's sessionCountMax)`,
    '--port': "the node's client port (default: a free one)",
  },
});
const small = process.argv.includes('--small');
const port = process.argv.includes('--port') ? flag('--port', 0, 1, 65_535) : await freePort('tcp');
/** Clients: sessionCountMax (10,000) is the node's limit of open sockets. */
const count = flag('--clients', small ? 1_000 : 10_000, 2, sessionCountMax);
const waitMs = 60_000;
const clientScript = fileURLToPath(new URL('./reconnect-storm-clients.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bourse-storm-'));
removeOnExit(dir);
const lines: string[] = [];
const url = `ws://127.0.0.1:${port}/`;

function start(): Promise<BourseNode> {
  return BourseNode.start({
    dataDir: dir,
    config: engineConfigDefault,
    gateway: { host: '127.0.0.1', port },
    log: (line) => void lines.push(line),
  });
}

/** The next message of `child`. */
function reply<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`storm clients exited (${code})`)));
  });
}

/** Milliseconds from `t0` until `done`, polled every 5 ms (null: not within waitMs). */
async function timeTo(t0: number, done: () => boolean): Promise<number | null> {
  while (!done()) {
    if (performance.now() - t0 > waitMs) return null;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Math.round(performance.now() - t0);
}

const steal = readCpuTimes();
let node = await start();
// Two processes, client ids from 1,000 on: an odd count gives the second one more.
const half = Math.floor(count / 2);
const children = [half, count - half].map((share, i) =>
  fork(clientScript, [url, String(1_000 + i * half), String(share)], { stdio: 'inherit' }),
);
const connectFrom = performance.now();
await Promise.all(children.map((c) => reply<{ open: number }>(c)));
const connectMs = Math.round(performance.now() - connectFrom);
await node.stop(); // its sessions close 1001: each SDK client reconnects on its own
const restartLine = lines.length; // the first start's grace lines are not this one's
const down = performance.now();
node = await start();
const t0 = performance.now();
const restartMs = Math.round(t0 - down);
const sessions = (): number => node.gateway?.sessionCount() ?? 0;
const curve: number[] = []; // sessions at each second after t0
const sampler = setInterval(() => curve.push(sessions()), 1_000);
/** Milliseconds from t0 until that share of the clients was logged in again (null: never). */
const at = {
  back_50pct_ms: null as number | null,
  back_90pct_ms: null as number | null,
  back_99pct_ms: null as number | null,
  back_100pct_ms: null as number | null,
};
for (const pct of [50, 90, 99, 100]) {
  at[`back_${pct}pct_ms` as keyof typeof at] = await timeTo(
    t0,
    () => sessions() >= (count * pct) / 100,
  );
}
const graceLine = (): string | undefined =>
  lines.slice(restartLine).find((l) => l.includes('grace after taking'));
await timeTo(t0, () => graceLine() !== undefined);
clearInterval(sampler);
// Sessions the node lost while the clients came back (before they are told to close): each a
// login the SDK gave up after the node had welcomed it (1006), its client's orders canceled.
const stormLosses = lines.slice(restartLine).filter((l) => l.includes('session lost')).length;
const grace = /(\d+) clients marked, (\d+) back in time, (\d+) not/.exec(graceLine() ?? '');
const back = await Promise.all(
  children.map((c) => {
    c.send('count');
    return reply<{ back: number }>(c);
  }),
);
for (const c of children) c.send('close');
await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
await node.stop();

const figures = {
  bench: 'reconnect-storm',
  clients: count,
  grace_ms: cancelOnDisconnectGraceMs,
  connect_ms: connectMs,
  restart_ms: restartMs,
  ...at,
  sdk_reconnected: back[0].back + back[1].back,
  marked: grace === null ? null : Number(grace[1]),
  back_in_time: grace === null ? null : Number(grace[2]),
  not_back: grace === null ? null : Number(grace[3]),
  storm_losses: stormLosses,
  sessions_each_s: curve.join(' '),
  cpu_steal_pct: stealPercentSince(steal),
};
if (process.env.STORM_LOG) {
  const kinds = new Map<string, number>();
  for (const l of lines) {
    const k = l.replace(/\d+/g, 'N').slice(0, 110);
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  for (const [l, n] of kinds) process.stdout.write(`${n} x ${l}\n`);
}
const title = `bench:reconnect-storm (${small ? 'small' : 'large'})`;
printTable(`${title} on ${machineLine(await machine())}`, rowsOf(figures));
process.stdout.write(`${graceLine() ?? 'no grace line'}\n`);
process.stdout.write(`${JSON.stringify(figures)}\n`);
process.exit(0);

/** The figures for people: one row each, its unit apart ('-': not within waitMs). */
function rowsOf(f: typeof figures): Array<Record<string, string | number>> {
  const ms = (value: number | null): string | number => value ?? '-';
  return [
    { measure: 'SDK clients (cancel on disconnect, 2 processes)', value: f.clients, unit: '' },
    { measure: 'all connected at first in', value: f.connect_ms, unit: 'ms' },
    { measure: 'node stopped, then taking commands again in', value: f.restart_ms, unit: 'ms' },
    { measure: 'logged in again: 50%', value: ms(f.back_50pct_ms), unit: 'ms' },
    { measure: '  90%', value: ms(f.back_90pct_ms), unit: 'ms' },
    { measure: '  99%', value: ms(f.back_99pct_ms), unit: 'ms' },
    { measure: '  100%', value: ms(f.back_100pct_ms), unit: 'ms' },
    { measure: 'grace the node gives them', value: f.grace_ms, unit: 'ms' },
    { measure: 'marked / back in time / not', value: graceCounts(f), unit: 'clients' },
    { measure: 'sessions the node lost meanwhile', value: f.storm_losses, unit: '' },
  ];
}

function graceCounts(f: typeof figures): string {
  return f.marked === null ? 'no grace line' : `${f.marked} / ${f.back_in_time} / ${f.not_back}`;
}
