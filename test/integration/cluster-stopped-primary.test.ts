/**
 * A primary stopped (SIGSTOP) while the others elect, then resumed, must not tell anyone it is
 * a primary taking commands. Its consensus clock counts ticks, which stood still while it was
 * stopped, and the datagrams queued meanwhile are read as if just sent: /health said
 * `"role":"primary","accepting":true` and /ready 200 to the requests that waited for it (every
 * one of five, in each of three rounds here), and the SDK's primary probe (which asks /health)
 * or a load balancer (which asks /ready) sent clients to the deposed member.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeClusterFile } from '../harness/cluster-file.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { until } from '../harness/wait.js';
import { alive, awaitChildren } from '../harness/processes.js';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

interface Answer {
  status: number;
  body: { role?: string; accepting?: boolean; member?: number };
}

/** Why each GET that gave null did (a failure of the test names them). */
const failures: string[] = [];

/** GET `path` on `port` (null when it does not answer within `ms`, or not in JSON). */
async function get(port: number, path: string, ms: number): Promise<Answer | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(ms),
    });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  } catch (e) {
    failures.push(`${port}${path}: ${(e as Error).message}`);
    return null;
  }
}

/** The member id of each member process, from its command line (`member ... --id N`). */
function idsOf(pids: number[]): Map<number, number> {
  const ids = new Map<number, number>();
  for (const pid of pids) {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    ids.set(Number(args[args.indexOf('--id') + 1]), pid);
  }
  return ids;
}

/** The member that says it is a primary taking commands, among `ports`' members. */
async function acceptingPrimary(ports: number[]): Promise<number | null> {
  const all = await Promise.all(ports.map((p) => get(p, '/health', 500)));
  const p = all.find((a) => a?.body.role === 'primary' && a.body.accepting === true);
  return p?.body.member ?? null;
}

test('a primary resumed after SIGSTOP does not say it takes commands', async () => {
  const dir = tempDataDir();
  const file = await writeClusterFile(dir);
  const child = spawn(process.execPath, [main, 'cluster', '--data', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  const pids = await awaitChildren(child.pid!, ' member --cluster ', 3);
  const port = (id: number): number => file.members[id - 1].port;
  let resumed: (Answer | null)[] = [];
  try {
    const ids = idsOf(pids);
    let primary: number | null = null;
    await until(
      'a primary',
      async () => (primary = await acceptingPrimary([1, 2, 3].map(port))) !== null,
      30_000,
    );
    const stopped = primary as unknown as number;
    process.kill(ids.get(stopped)!, 'SIGSTOP');
    const others = [1, 2, 3].filter((id) => id !== stopped).map(port);
    await until('another primary', async () => (await acceptingPrimary(others)) !== null, 20_000);
    // Asked while it is stopped (the kernel takes the connections): answered once resumed.
    const asked = [0, 1, 2].map(() => get(port(stopped), '/health', 10_000));
    asked.push(get(port(stopped), '/ready', 10_000));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(ids.get(stopped)!, 'SIGCONT');
    resumed = await Promise.all(asked);
  } finally {
    for (const pid of pids.filter(alive)) process.kill(pid, 'SIGCONT');
    child.kill('SIGINT');
    const bound = new Promise<void>((r) => setTimeout(r, 30_000).unref());
    await Promise.race([closed, bound]);
    if (child.exitCode === null) child.kill('SIGKILL');
    removeDir(dir);
  }
  const health = resumed.slice(0, 3).filter((a): a is Answer => a !== null);
  const ready = resumed[3];
  const why = `${failures.join('; ')}\n${out.slice(-2000)}`;
  assert.ok(health.length > 0 && ready !== null, `it answered once resumed: ${why}`);
  for (const a of health) {
    const claims = a.body.role === 'primary' && a.body.accepting === true;
    assert.ok(!claims, `a deposed primary claimed to take commands: ${JSON.stringify(a.body)}`);
  }
  assert.equal(ready.status, 503, `/ready: ${JSON.stringify(ready.body)}`);
});
