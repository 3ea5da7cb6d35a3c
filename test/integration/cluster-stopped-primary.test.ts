/**
 * A primary stopped (SIGSTOP) while the others elect, then resumed, must not tell anyone it is
 * a primary taking commands. Its consensus clock counts ticks, which stood still while it was
 * stopped, and the datagrams queued meanwhile are read as if just sent: /health said
 * `"role":"primary","accepting":true` and /ready 200 to the requests that waited for it (every
 * one of five, in each of three rounds here), and the SDK's primary probe (which asks /health)
 * or a load balancer (which asks /ready) sent clients to the deposed member.
 *
 * Resumed, it reads the requests that waited and the new primary's datagrams in the order its
 * event loop takes them, within a few milliseconds; a datagram of the new term deposes it, and a
 * deposed primary stops its node, gateway included, and starts a standby's (its port is closed
 * meanwhile: PROTOCOL.md, "Readiness"). A request not answered by then has its connection
 * closed, which claims nothing. The test required an answer to /ready and to one /health, and
 * failed when the demotion came between them (once in about 135 runs here: one /health
 * answered, /ready and two /health "fetch failed"). Now a request that waited is answered or its
 * connection is closed (never left hanging, nor answered other than in JSON), and no member
 * failed or exited; a round in which the demotion closed every one is run again, on the primary
 * of the moment; and the member answers again once its standby node has opened its port.
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

/** Rounds (each stops the primary of the moment) until a request that waited is answered. */
const roundsMax = 3;

interface Answer {
  path: string;
  status: number;
  body: { role?: string; accepting?: boolean; member?: number };
}

/** A GET that had no answer: why, and whether its connection was closed (reset, refused). */
interface NoAnswer {
  path: string;
  why: string;
  closed: boolean;
}

/** What undici's `fetch failed` gives as its cause's code when the connection was closed. */
const closedCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET']);

/** A member's line that says it failed (an error) or exited (its supervisor's warning). */
const faultLine = /"level":"error"|"event":"exited"/;

function answered(a: Answer | NoAnswer): a is Answer {
  return 'status' in a;
}

/** GET `path` on `port`: the answer in JSON, or why there was none (within `ms`). */
async function get(port: number, path: string, ms: number): Promise<Answer | NoAnswer> {
  let status = 0;
  let text = '';
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(ms),
    });
    status = res.status;
    text = await res.text();
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code ?? '';
    const why = `${(e as Error).name}: ${(e as Error).message} (${code || 'no code'})`;
    return { path, why, closed: closedCodes.has(code) };
  }
  try {
    return { path, status, body: JSON.parse(text) as Answer['body'] };
  } catch {
    return { path, why: `${status}, not JSON: ${text.slice(0, 80)}`, closed: false };
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
  const p = all.find((a) => answered(a) && a.body.role === 'primary' && a.body.accepting);
  return p !== undefined && answered(p) ? (p.body.member ?? null) : null;
}

/** What a resumed member gave the requests that waited for it. */
interface Round {
  member: number;
  waited: (Answer | NoAnswer)[];
}

/**
 * Stops the primary until another is elected, asks it /health three times and /ready while it
 * is stopped (the kernel takes the connections), resumes it, and asks again until it answers
 * (its port is closed while a deposed primary starts its standby node).
 */
async function stopAndResume(
  pidOf: Map<number, number>,
  port: (id: number) => number,
): Promise<Round> {
  let primary: number | null = null;
  const all = [1, 2, 3];
  const found = async (): Promise<boolean> =>
    (primary = await acceptingPrimary(all.map(port))) !== null;
  await until('a primary', found, 30_000);
  const member = primary as unknown as number;
  const others = all.filter((id) => id !== member).map(port);
  let asked: Promise<Answer | NoAnswer>[] = [];
  process.kill(pidOf.get(member)!, 'SIGSTOP');
  try {
    await until('another primary', async () => (await acceptingPrimary(others)) !== null, 20_000);
    asked = ['/health', '/health', '/health', '/ready'].map((p) => get(port(member), p, 10_000));
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    process.kill(pidOf.get(member)!, 'SIGCONT');
  }
  const waited = await Promise.all(asked);
  const again = async (): Promise<boolean> => answered(await get(port(member), '/health', 2000));
  await until(`member ${member} answers again`, again, 30_000);
  return { member, waited };
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
  const rounds: Round[] = [];
  let logged = '';
  try {
    const pidOf = idsOf(pids);
    while (rounds.length < roundsMax && !rounds.some((r) => r.waited.some(answered))) {
      rounds.push(await stopAndResume(pidOf, port));
    }
    logged = out; // what the members said before the cluster was stopped
  } finally {
    for (const pid of pids.filter(alive)) process.kill(pid, 'SIGCONT');
    child.kill('SIGINT');
    const bound = new Promise<void>((r) => setTimeout(r, 30_000).unref());
    await Promise.race([closed, bound]);
    if (child.exitCode === null) child.kill('SIGKILL');
    removeDir(dir);
  }
  const shown = JSON.stringify(rounds);
  // A closed connection is a demotion's, not a node that failed or a member that exited.
  const faults = logged.split('\n').filter((l) => faultLine.test(l));
  assert.deepEqual(faults, [], 'no member failed or exited');
  for (const round of rounds) {
    for (const a of round.waited) {
      assert.ok(answered(a) || a.closed, `a request that waited: ${shown}\n${out.slice(-2000)}`);
    }
    for (const a of round.waited.filter(answered)) {
      const claims = a.body.role === 'primary' && a.body.accepting === true;
      assert.ok(!claims, `a deposed primary claimed to take commands: ${shown}`);
      if (a.path === '/ready') assert.equal(a.status, 503, `/ready: ${shown}`);
    }
  }
  const some = rounds.some((r) => r.waited.some(answered));
  assert.ok(some, `in ${rounds.length} rounds no request that waited was answered: ${shown}`);
});
