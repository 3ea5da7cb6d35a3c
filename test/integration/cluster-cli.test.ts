/**
 * `bourse cluster` as an operator runs it: a cluster whose port is taken is refused before any
 * member starts, a hand-written cluster file forms a new cluster, a member killed while the
 * cluster runs is started again and rejoins, one that then cannot start (its port taken) is
 * reported and tried again until the port is free, and Ctrl-C stops every member.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import * as constants from '../../src/constants.js';
import { writeClusterFile } from '../harness/cluster-file.js';
import type { ClusterFile } from '../../src/cli/cluster-file.js';
import { closeJournalDb, openJournalDb } from '../../src/journal/journal-db.js';
import { DataLock } from '../../src/journal/data-lock.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { until } from '../harness/wait.js';
import { jsonLines, readable } from '../harness/log-lines.js';
import { bourseMain as main, runBourseToExit, takePort } from '../harness/bourse-cli.js';
import { alive, awaitChildren } from '../harness/processes.js';

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
    const refused = await runBourseToExit(['cluster', '--data', dir], 15_000); // or it runs on
    assert.equal(refused.code, 69, refused.out);
    const taken = `cannot bind 127.0.0.1:${port} (tcp, member 3): EADDRINUSE`;
    assert.ok(refused.out.includes(`${taken}: no member started`), refused.out);
    assert.doesNotMatch(refused.out, /starting on/);
    const one = ['cluster', '--data', fresh, '--nodes', '1', '--base-port', String(port)];
    const first = await runBourseToExit(one, 15_000);
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
    const huge = await runBourseToExit(['cluster', '--data', dir, '--accounts-max', String(1e14)]);
    assert.equal(huge.code, 64, huge.out);
    assert.match(huge.out, /capacities refused: accounts x assets below 2\^31/);
    assert.equal(readFileSync(join(dir, 'cluster.json'), 'utf8'), text, 'nothing kept');
    const held = DataLock.acquire(dir); // as a running cluster holds it
    const twice = await runBourseToExit(['cluster', '--data', dir], 15_000); // or it runs on
    assert.equal(twice.code, 75, twice.out);
    assert.match(twice.out, /in use by a running node \(pid \d+/);
    held.release();
    await journalIn(single); // a node's
    const node = await runBourseToExit(['cluster', '--data', single], 15_000);
    assert.equal(node.code, 64, node.out);
    assert.match(node.out, /holds a single node's journal/);
    const file = await runBourseToExit(['cluster', '--data', join(dir, 'cluster.json')]);
    assert.equal(file.code, 66, file.out);
    // Every member's folder of another schema: each is left down, and the cluster ends so.
    for (let id = 1; id <= 3; id++) await journalIn(join(dir, `member-${id}`), '99');
    const down = await runBourseToExit(['cluster', '--data', dir], 30_000);
    assert.equal(down.code, 65, down.out.slice(-2000));
    assert.match(down.out, /every member is left down \(exit 65: data corrupt/);
    assert.ok(!existsSync(join(dir, 'bourse.lock')), 'its lock is released');
  } finally {
    removeDir(dir);
    removeDir(single);
  }
});
