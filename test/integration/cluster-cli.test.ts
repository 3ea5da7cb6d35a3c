/**
 * `bourse cluster` as an operator runs it: a cluster whose port is taken is refused before any
 * member starts, a hand-written cluster file forms a new cluster, a member killed while the
 * cluster runs is started again and rejoins, one that then cannot start (its port taken) is
 * reported and tried again until the port is free, and Ctrl-C stops every member.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as constants from '../../src/constants.js';
import { writeClusterFile } from '../harness/cluster-file.js';
import type { ClusterFile } from '../../src/cli/cluster.js';
import { closeJournalDb, openJournalDb } from '../../src/journal/journal-db.js';
import { DataLock } from '../../src/journal/data-lock.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { until } from '../harness/wait.js';
import { jsonLines, readable } from '../harness/log-lines.js';
import { BourseClient } from '../../src/client/client.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { smallConfig } from '../harness/engine-driver.js';
import { alive, awaitChildren } from '../harness/processes.js';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

async function roleOf(port: number): Promise<string | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    return ((await res.json()) as { role: string }).role;
  } catch {
    return null;
  }
}

/** An empty journal in `folder` (a single node's), of schema version `schema` if given. */
async function journalIn(folder: string, schema?: string): Promise<void> {
  const db = openJournalDb(folder, { create: true, readOnly: false });
  if (schema !== undefined) db.meta.putSync('schema-version', schema);
  await new Promise((resolve) => setTimeout(resolve, 10)); // see closeStorage (node.ts)
  closeJournalDb(db);
}

/**
 * A hand-written cluster file of three members on free loopback ports, in `dir`, and beside it
 * the replication secret when `secret` (`bourse cluster` makes one; `bourse member` needs one).
 */
/** Listens on `port` as soon as it is free (a killed member's), within `ms`. */
async function takePort(server: Server, port: number, ms = 1_000): Promise<void> {
  for (const deadline = Date.now() + ms; ;) {
    const error = await new Promise<Error | null>((resolve) => {
      server.once('error', resolve);
      server.listen(port, '127.0.0.1', () => resolve(null));
    });
    server.removeAllListeners('error');
    if (error === null) return;
    assert.ok(Date.now() < deadline, `port ${port} not freed: ${error.message}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Member 3's client port taken: the cluster is refused, nothing started (before, members 1 and
 * 2 ran on while member 3 failed, tried again every 10 s to 5 min), and a new folder keeps no
 * cluster.json of taken ports (every later run used them, whatever its --base-port).
 */
async function refusedWhilePortTaken(dir: string, file: ClusterFile): Promise<void> {
  const blocker: Server = createServer();
  const port = file.members[2].port;
  await takePort(blocker, port);
  const fresh = tempDataDir();
  try {
    const refused = await runBourse(['cluster', '--data', dir], 15_000); // or it runs on
    assert.equal(refused.code, 69, refused.out);
    const taken = `cannot bind 127.0.0.1:${port} (tcp, member 3): EADDRINUSE`;
    assert.ok(refused.out.includes(`${taken}: no member started`), refused.out);
    assert.doesNotMatch(refused.out, /starting on/);
    const one = ['cluster', '--data', fresh, '--nodes', '1', '--base-port', String(port)];
    const first = await runBourse(one, 15_000);
    assert.equal(first.code, 69, first.out);
    assert.match(first.out, /another --base-port, or free them/);
    assert.ok(!existsSync(join(fresh, 'cluster.json')), 'no cluster.json written');
  } finally {
    blocker.close();
    removeDir(fresh);
  }
}

test('bourse cluster: a killed member comes back; one that cannot start is retried', async () => {
  const dir = tempDataDir();
  const file = await writeClusterFile(dir);
  await refusedWhilePortTaken(dir, file);
  const blocker: Server = createServer();
  let blocked = false;
  // Member 3's first retry after 1 s (memberRetryDownMs, 10 s, was waited out).
  const retry = ['--member-retry-ms', '1000'];
  const args = [main, 'cluster', '--data', dir, '--accounts-max', '300000', ...retry];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': the output is all read then (its last lines could still be in the pipe).
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const pids: number[] = [];
  try {
    const ports = file.members.map((m) => m.port);
    await until(
      'a primary',
      async () => (await Promise.all(ports.map(roleOf))).includes('primary'),
      20_000,
    );
    const pidOf = (id: number): number =>
      Number(
        new RegExp(`member ${id}: ws:\\S+ +replication udp \\d+ +\\(pid (\\d+)\\)`).exec(out)?.[1],
      );
    const pid1 = pidOf(1);
    // A cluster file without a secret (written by hand, or by an earlier version): made now.
    const secretPath = join(dir, 'replication.key');
    assert.ok(out.includes(`replication secret: ${secretPath} (made now; mode 0600)`), out);
    assert.equal(statSync(secretPath).mode & 0o777, 0o600);
    assert.match(readFileSync(secretPath, 'utf8'), /^[0-9a-f]{64}\n$/);
    assert.ok(alive(pid1), 'member 1 runs');
    // glibc's mmap threshold is fixed for a member (constants.ts), unless the operator set one.
    const threshold =
      process.env.MALLOC_MMAP_THRESHOLD_ ?? String(constants.memberMallocMmapThresholdBytes);
    const environ = readFileSync(`/proc/${pid1}/environ`, 'latin1').split('\0');
    assert.ok(environ.includes(`MALLOC_MMAP_THRESHOLD_=${threshold}`), 'its malloc setting');
    pids.push(pid1);
    // Killed once it has started (said its capacities): a primary may be elected before.
    await until('member 1 started', () => out.includes('member 1: capacity'), 20_000);
    process.kill(pid1, 'SIGKILL');
    await until(
      'member 1 reported',
      () => /member 1 exited \(signal SIGKILL\); starting it again/.test(out),
      10_000,
    );
    const again = /member 1 started again \(pid (\d+)\)/;
    await until('member 1 restarted', () => again.test(out), 10_000);
    pids.push(Number(again.exec(out)?.[1]));
    await until(
      'primary and standbys',
      async () => {
        const roles = await Promise.all(ports.map(roleOf));
        return roles.includes('primary') && roles.filter((r) => r === 'standby').length === 2;
      },
      30_000,
    );
    // Member 3 killed, and its port taken before its restart: it fails at its start, and a
    // port taken may be freed: it is tried again, after 1 s (--member-retry-ms), then 2 s, ...
    process.kill(pidOf(3), 'SIGKILL');
    await takePort(blocker, file.members[2].port);
    blocked = true;
    const down = /member 3 exited \(exit code 69: address or port unavailable\) \d+ ms after/;
    await until(
      'member 3 down',
      () => down.test(out) && /after its start: down; trying it again in 1 s/.test(out),
      20_000,
    );
    // The port freed, member 3 comes back at its next try and joins as a standby.
    blocker.close();
    blocked = false;
    await until(
      'member 3 back',
      async () => (await roleOf(file.members[2].port)) === 'standby',
      45_000,
    );
    // Capacities go into the cluster file: every member, a restarted one too, runs with them.
    const kept = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as object;
    assert.deepEqual((kept as { capacities: object }).capacities, { 'accounts-max': 300_000 });
    // Member 1 twice: started, then restarted (its line comes a second or more after it
    // answers /health: with member 3 back after 1 s, not always before this check).
    const capacities = (id: number): string[] =>
      out.split('\n').filter((l) => l.includes(`member ${id}: capacity`));
    await until(
      'member 1 (started, then restarted) and member 2 say their capacities',
      () => capacities(1).length >= 2 && capacities(2).length >= 1,
      20_000,
    );
    for (const id of [1, 2]) {
      for (const line of capacities(id)) assert.match(line, /300,000 accounts, 262,144 orders/);
    }
    // The file's shape wins over the flags' defaults, and the operator is told so.
    const all = file.members.map((m) => m.port).join(', ');
    assert.ok(out.includes(`exists: its 3 members run on ports ${all} (--nodes`), out);
  } finally {
    const stopAt = out.length;
    child.kill('SIGINT');
    const code = await exited;
    if (blocked) blocker.close();
    removeDir(dir);
    assert.equal(code, 0, out.slice(-3000));
    for (const pid of pids.slice(1)) assert.ok(!alive(pid), `member pid ${pid} stopped`);
    // The whole cluster stops: no primary hands over to a standby that is stopping too (one
    // did, and it stood in a new term for nothing).
    const stopping = out.slice(stopAt);
    assert.doesNotMatch(stopping, /handed over|candidate/, stopping.slice(-3000));
    assert.equal(stopping.match(/stopped cleanly/g)?.length, 3, 'every member stopped cleanly');
  }
});

/**
 * A supervisor killed with SIGKILL (the OOM killer, kill -9) cannot stop its members: they ran
 * on, unwatched, holding their ports and folders. Each now sees its supervisor gone and stops
 * cleanly within a second or so.
 */
test('bourse cluster killed with SIGKILL: its members stop cleanly', async () => {
  const dir = tempDataDir();
  const file = await writeClusterFile(dir);
  const child = spawn(process.execPath, [main, 'cluster', '--data', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // Once the members are gone too, whose output goes to the same pipes.
  const closed = new Promise((r) => child.once('close', r));
  const members = await awaitChildren(child.pid!, ' member --cluster ', 3);
  try {
    const ports = file.members.map((m) => m.port);
    await until(
      'a primary',
      async () => (await Promise.all(ports.map(roleOf))).includes('primary'),
      20_000,
    );
    child.kill('SIGKILL');
    await until('every member stops', () => !members.some(alive), 15_000);
    await closed; // their last lines read (they were still in the pipe, at times, under load)
    const lines = out.split('\n');
    const gone = `its supervisor (pid ${child.pid}) is gone: stopping`;
    assert.equal(lines.filter((l) => l.includes(gone)).length, 3, out.slice(-3000));
    assert.equal(lines.filter((l) => l.includes('stopped cleanly')).length, 3, out.slice(-3000));
  } finally {
    for (const pid of members.filter(alive)) process.kill(pid, 'SIGKILL');
    removeDir(dir);
  }
});

/**
 * A member whose own folder is at fault is left down, not retried. Its stderr not a terminal,
 * the supervisor writes JSON lines as its members do (before, its text lines came between
 * theirs), and so does the member for the line it fails with: a collector reads one format.
 */
test('bourse cluster leaves down a member whose own folder is at fault (not retried)', async () => {
  const dir = tempDataDir();
  await writeClusterFile(dir);
  // Member 3's folder holds a journal of another schema version: retrying cannot mend it.
  await journalIn(join(dir, 'member-3'), '99');
  const child = spawn(process.execPath, [main, 'cluster', '--data', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const said = (): string => readable(err);
  try {
    const exit65 = /member 3 exited \(exit code 65: data corrupt, of another schema or another/;
    const leftDown = (): boolean =>
      exit65.test(said()) && /after its start: left down/.test(said());
    await until('member 3 left down', leftDown, 20_000);
    assert.match(said(), /schema version 99/, 'its log says why');
    assert.doesNotMatch(said(), /member 3 started again|member 3 .*trying it again/);
  } finally {
    child.kill('SIGINT');
    const code = await exited;
    removeDir(dir);
    assert.equal(code, 0, err.slice(-3000));
  }
  const lines = err.split('\n').filter((line) => line !== '');
  const parsed = jsonLines(err);
  assert.equal(parsed.length, lines.length, 'every line on stderr is JSON');
  for (const line of parsed) {
    assert.equal(typeof line.time, 'string');
    assert.equal(typeof line.pid, 'number');
    assert.equal(typeof line.msg, 'string');
  }
  const down = parsed.find((line) => line.event === 'left-down');
  const fields = { name: 'bourse cluster', level: 'error', member: 3, code: 65, signal: null };
  assert.deepEqual({ ...down, ...fields }, down, JSON.stringify(down));
  const failed = parsed.find((line) => line.member === 3 && line.level === 'fatal');
  assert.equal(failed?.exitCode, 65, err.slice(-3000));
  assert.match(String(failed?.msg), /schema version 99/);
  assert.ok(
    parsed.some((line) => line.name === 'bourse cluster' && /^stopped; /.test(String(line.msg))),
  );
});

/**
 * What `bourse cluster` refuses before it starts anything, and how it ends when no member can
 * run. Before: capacities no member could use were kept in cluster.json (every later start
 * failed), every member left down ended the process with 13 and no word, a second cluster on
 * the folder had its members retried for ever, and a single node's folder got members.
 */
test('bourse cluster: refused folders and capacities; every member down ends it', async () => {
  const dir = tempDataDir();
  const single = tempDataDir();
  try {
    await writeClusterFile(dir);
    const text = readFileSync(join(dir, 'cluster.json'), 'utf8');
    const huge = await runBourse(['cluster', '--data', dir, '--accounts-max', String(1e14)]);
    assert.equal(huge.code, 64, huge.out);
    assert.match(huge.out, /capacities refused: accounts x assets below 2\^31/);
    assert.equal(readFileSync(join(dir, 'cluster.json'), 'utf8'), text, 'nothing kept');
    const held = DataLock.acquire(dir); // as a running cluster holds it
    const twice = await runBourse(['cluster', '--data', dir], 15_000); // or it runs on
    assert.equal(twice.code, 75, twice.out);
    assert.match(twice.out, /in use by a running node \(pid \d+/);
    held.release();
    await journalIn(single); // a node's
    const node = await runBourse(['cluster', '--data', single], 15_000);
    assert.equal(node.code, 64, node.out);
    assert.match(node.out, /holds a single node's journal/);
    const file = await runBourse(['cluster', '--data', join(dir, 'cluster.json')]);
    assert.equal(file.code, 66, file.out);
    // Every member's folder of another schema: each is left down, and the cluster ends so.
    for (let id = 1; id <= 3; id++) await journalIn(join(dir, `member-${id}`), '99');
    const down = await runBourse(['cluster', '--data', dir], 30_000);
    assert.equal(down.code, 65, down.out.slice(-2000));
    assert.match(down.out, /every member is left down \(exit 65: data corrupt/);
    assert.ok(!existsSync(join(dir, 'bourse.lock')), 'its lock is released');
  } finally {
    removeDir(dir);
    removeDir(single);
  }
});

/**
 * Runs `bourse` to its exit; resolves with its code and output. With `stopAfterMs`, SIGTERM
 * that long after its first output (its handler is in place by then).
 */
function runBourse(args: string[], stopAfterMs = 0): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const heard = (d: Buffer): void => {
    if (out === '' && stopAfterMs > 0) setTimeout(() => child.kill('SIGTERM'), stopAfterMs);
    out += d.toString();
  };
  child.stdout.on('data', heard);
  child.stderr.on('data', heard);
  // A cluster's or member's failure is a JSON line when stderr is no terminal: its msg here.
  return new Promise((resolve) =>
    child.once('close', (code) => resolve({ code, out: readable(out) })),
  );
}

test('bourse member refuses a folder another member wrote (a copied folder)', async () => {
  const dir = tempDataDir();
  await writeClusterFile(dir, true);
  const cluster = join(dir, 'cluster.json');
  const member = (id: number, data: string, ...more: string[]): string[] => [
    'member',
    '--cluster',
    cluster,
    '--id',
    String(id),
    '--data',
    data,
    ...more,
  ];
  try {
    // Member 1 runs for a moment on its folder, which is then copied to seed member 3.
    const first = await runBourse(member(1, join(dir, 'member-1'), '--bootstrap'), 1_500);
    assert.equal(first.code, 0, first.out);
    cpSync(join(dir, 'member-1'), join(dir, 'member-3'), { recursive: true });
    const copied = await runBourse(member(3, join(dir, 'member-3')), 15_000); // or it runs on
    assert.equal(copied.code, 65, copied.out);
    assert.match(copied.out, /holds member 1's data, not member 3's \(copied\?\): start member 3/);
    // Its own folder, or an empty one, is fine: member 1 again on its own.
    const own = await runBourse(member(1, join(dir, 'member-1')), 1_500);
    assert.equal(own.code, 0, own.out);
  } finally {
    removeDir(dir);
  }
});

// A member restored from a backup of its own folder votes as if it still held what it
// acknowledged after the backup was taken (docs/ROLES.md); its id is its own, so the copied
// folder check passed, and it started without a word. The backup now marks the copy.
test('bourse member refuses a backup of a member’s folder, its own included (65)', async () => {
  const dir = tempDataDir();
  await writeClusterFile(dir, true);
  const own = join(dir, 'member-1');
  const copy = join(dir, 'backup-1');
  const member = (data: string, ...more: string[]): string[] => [
    ...['member', '--cluster', join(dir, 'cluster.json'), '--id', '1', '--data', data],
    ...more,
  ];
  try {
    const first = await runBourse(member(own, '--bootstrap'), 1_500);
    assert.equal(first.code, 0, first.out);
    const backedUp = await runBourse(['backup', '--data', own, '--to', copy]);
    assert.equal(backedUp.code, 0, backedUp.out);
    assert.match(backedUp.out, /is a backup of member 1's folder: no member or node starts on it/);
    const restored = await runBourse(member(copy), 15_000); // or it runs on
    assert.equal(restored.code, 65, restored.out);
    assert.match(restored.out, /is a backup of member 1's folder: a member cannot start on it/);
    const single = await runBourse(['start', '--data', copy, '--port', '0'], 15_000);
    assert.equal(single.code, 64, single.out);
    assert.match(single.out, /backup of member 1's folder: a single node cannot start on it/);
    // The tools read it, and the member's own folder starts as before.
    assert.equal((await runBourse(['verify', '--data', copy])).code, 0);
    const again = await runBourse(member(own), 1_500);
    assert.equal(again.code, 0, again.out);
  } finally {
    removeDir(dir);
  }
});

test('bourse member refuses a single node’s folder, a cluster would cut its history', async () => {
  const dir = tempDataDir();
  await writeClusterFile(dir, true);
  const single = join(dir, 'member-1');
  try {
    // A single node journals one command there (as `bourse start` would).
    const node = await BourseNode.start({
      dataDir: single,
      config: smallConfig,
      gateway: { host: '127.0.0.1', port: 0 },
    });
    const client = await BourseClient.connect(`ws://127.0.0.1:${node.gateway?.port}/`, {
      clientId: 4,
    });
    assert.equal((await client.addAsset({ asset: 1, scale: 2 }))[0].status, 0);
    await client.close();
    await node.stop();
    const args = ['member', '--cluster', join(dir, 'cluster.json'), '--id', '1', '--data', single];
    const member = await runBourse([...args, '--bootstrap'], 15_000); // or it runs on
    assert.equal(member.code, 64, member.out);
    assert.match(member.out, /holds a single node's journal \(through sequence \d+\), not a/);
  } finally {
    removeDir(dir);
  }
});

/**
 * `bourse member` and a second stop signal, while it starts and once it runs: it stops at once
 * (exit 130 or 143), and says so in a member's terms (what it acknowledged is durable, its next
 * start recovers it). Before, a member listened once for each signal: after SIGINT then
 * SIGTERM it went on with its clean stop, deaf, and a stop that hung took kill -9. A cluster of
 * one member: it stands as primary alone. Both signals are sent while it is stopped (SIGSTOP),
 * so that both come in the phase asked for, whatever the machine's load.
 */
test('bourse member: a second stop signal stops it at once, said for a member', async () => {
  const dir = tempDataDir();
  const file = await writeClusterFile(dir, true);
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ members: [file.members[0]] }));
  const data = join(dir, 'member-1');
  const args = ['member', '--cluster', join(dir, 'cluster.json'), '--id', '1', '--data', data];
  const children: ChildProcess[] = [];
  try {
    for (const [phase, said] of [
      ['starting on', /the member stopped before ready, as a crash would; what it acknow/],
      ['member 1: capacity', /the member stopped at once, the clean stop not finished \(no /],
    ] as const) {
      const child = spawn(process.execPath, [main, ...args, '--bootstrap'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(child);
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      await until(phase, () => err.includes(phase), 30_000);
      child.kill('SIGSTOP');
      child.kill('SIGINT');
      child.kill('SIGTERM');
      child.kill('SIGCONT');
      const code = await exited;
      const second = code === 143 ? 'SIGTERM' : 'SIGINT';
      assert.equal(code, second === 'SIGTERM' ? 143 : 130, err);
      const line = jsonLines(err).find((l) => String(l.msg).startsWith(`${second} again: `));
      assert.match(String(line?.msg), said, err);
      assert.match(String(line?.msg), new RegExp(`durable.*${data}|${data}.*recovers it`));
      assert.doesNotMatch(String(line?.msg), /no client was let in|the next start/, "a node's");
      assert.equal(line?.level, 'warn');
    }
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    removeDir(dir);
  }
});

/**
 * A member without the cluster's replication secret does not start, and says where it looked
 * and how to get one (it could neither be heard nor hear anyone); --make-secret makes one
 * (0600); --secret names another file; a secret others may read is warned of.
 */
test('bourse member: no replication secret, no start; --make-secret, --secret', async () => {
  const dir = tempDataDir();
  await writeClusterFile(dir);
  const cluster = join(dir, 'cluster.json');
  const member = (...more: string[]): string[] => [
    'member',
    '--cluster',
    cluster,
    '--id',
    '1',
    '--data',
    join(dir, 'member-1'),
    ...more,
  ];
  const secretPath = join(dir, 'replication.key');
  try {
    const none = await runBourse(member('--bootstrap'), 10_000); // or it runs on
    assert.equal(none.code, 64, none.out);
    assert.ok(none.out.includes(`no replication secret at ${secretPath}: every member`), none.out);
    assert.equal(existsSync(join(dir, 'member-1')), false, 'nothing written');
    const made = await runBourse(member('--bootstrap', '--make-secret'), 1_500);
    assert.equal(made.code, 0, made.out);
    assert.ok(made.out.includes(`made the replication secret ${secretPath}`), made.out);
    assert.equal(statSync(secretPath).mode & 0o777, 0o600);
    const other = join(dir, 'other.key');
    writeFileSync(other, 'not hex\n', { mode: 0o600 });
    const bad = await runBourse(member('--secret', other), 10_000);
    assert.equal(bad.code, 64, bad.out);
    assert.match(bad.out, /replication secret \S+other\.key: 64 hex digits expected/);
    chmodSync(secretPath, 0o644);
    const exposed = await runBourse(member(), 1_500);
    assert.equal(exposed.code, 0, exposed.out);
    assert.match(exposed.out, /replication\.key is mode 0644: group or others may read the repl/);
  } finally {
    removeDir(dir);
  }
});

/**
 * `bourse member --data ~` set a member up in the home folder, its files among the user's, as
 * `bourse start` did: a folder with files in it and none of bourse's is refused (exit 78)
 * before anything is written, the secret --make-secret would make included. A member's own
 * folder, with a file of the operator's beside bourse's, opens as before.
 */
test("bourse member refuses a folder of files, none of them bourse's: 78", async () => {
  const dir = tempDataDir();
  await writeClusterFile(dir);
  const member = (data: string, ...more: string[]): string[] => [
    ...['member', '--cluster', join(dir, 'cluster.json'), '--id', '2', '--data', data],
    ...['--make-secret', ...more],
  ];
  const home = join(dir, 'home');
  try {
    mkdirSync(join(home, 'src'), { recursive: true });
    writeFileSync(join(home, '.bashrc'), '# mine\n');
    for (let k = 0; k < 6; k++) writeFileSync(join(home, `notes-${k}.txt`), 'x');
    const before = readdirSync(dir).sort();
    const refused = await runBourse(member(home, '--bootstrap'), 10_000); // or it runs on
    assert.equal(refused.code, 78, refused.out);
    assert.match(refused.out, new RegExp(`data folder ${home} is not a bourse data folder: `));
    assert.match(refused.out, /it holds \.bashrc, notes-0\.txt, .*, and 3 more, and no journal/);
    assert.match(refused.out, /; bourse member puts a member's files in a new or empty folder/);
    assert.match(refused.out, new RegExp(`such as --data ${join(home, 'member-2')}; nothing was`));
    assert.equal(readdirSync(home).length, 8, 'nothing written there');
    assert.deepEqual(readdirSync(dir).sort(), before, 'no secret made, no folder');
    const own = join(dir, 'member-2');
    const first = await runBourse(member(own, '--bootstrap'), 1_500);
    assert.equal(first.code, 0, first.out);
    writeFileSync(join(own, 'README'), 'my notes\n'); // beside bourse's own: as before
    const again = await runBourse(member(own), 1_500);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /stopped cleanly/);
  } finally {
    removeDir(dir);
  }
});

/**
 * `bourse member` whose client (TCP) or peer (UDP) port is taken is refused (exit 69) before
 * anything is written, naming the port, its kind and the member, as `bourse start` refuses its
 * client port: before, it made its folder (and, with --make-secret, the secret), then failed
 * at the bind, leaving behind a folder it never used.
 */
test('bourse member: a taken port is refused (69), no folder or secret made', async () => {
  const dir = tempDataDir();
  const file = await writeClusterFile(dir);
  const data = join(dir, 'member-2');
  const args = ['member', '--cluster', join(dir, 'cluster.json'), '--id', '2', '--data', data];
  const { port, replicationPort } = file.members[1];
  const tcp: Server = createServer();
  const udp: Socket = createSocket('udp4');
  try {
    await takePort(tcp, port);
    const before = readdirSync(dir).sort();
    const refused = await runBourse([...args, '--bootstrap', '--make-secret'], 10_000);
    assert.equal(refused.code, 69, refused.out);
    const taken = `cannot bind 127.0.0.1:${port} (tcp, member 2): EADDRINUSE`;
    assert.ok(refused.out.includes(`${taken}: member 2 not started, nothing written`), refused.out);
    assert.doesNotMatch(refused.out, /starting on/);
    assert.equal(existsSync(data), false, 'no folder made');
    assert.deepEqual(readdirSync(dir).sort(), before, 'no secret made');
    tcp.close();
    await new Promise<void>((resolve) => udp.bind(replicationPort, '127.0.0.1', resolve));
    const peer = await runBourse([...args, '--bootstrap', '--make-secret'], 10_000);
    assert.equal(peer.code, 69, peer.out);
    assert.match(peer.out, new RegExp(`127\\.0\\.0\\.1:${replicationPort} \\(udp, member 2\\): `));
    assert.deepEqual(readdirSync(dir).sort(), before, 'no folder, no secret');
  } finally {
    tcp.close();
    udp.close();
    removeDir(dir);
  }
});
