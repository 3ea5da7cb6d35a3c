/**
 * A member's host name is looked up before anything is written: one that does not resolve is
 * refused (exit 68, EX_NOHOST), naming the host and the member, with no folder or secret made.
 * Before, `bourse member` made its folder, stored its id in it and made its secret
 * (--make-secret), then failed at the bind; `bourse cluster` said the name as a port it could
 * not bind (69, "ENOTFOUND"). A name that resolves here is checked as its address is.
 *
 * A host not this machine's is refused (69) as such, naming the member, the host and its
 * address, with nothing made or started: an address (an address given was refused by the port
 * check instead, as ports to free), and a name that resolves to one. That name is resolved from
 * a hosts file of this test's own: bourse runs in a mount namespace (unshare, as root) with the
 * file bound over /etc/hosts there, the machine's own left as it is.
 *
 * A host no one can send to (0.0.0.0, broadcast, multicast) is refused as the cluster file's
 * other faults are (64), with nothing made or started: 0.0.0.0 was taken, and each peer sent to
 * its own machine. `--listen 0.0.0.0` (docker/compose.yml) binds all of a member's addresses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterFile } from '../../src/cli/cluster-file.js';
import { dataLockFileName } from '../../src/constants.js';
import { readable } from '../harness/log-lines.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { until } from '../harness/wait.js';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** Never resolves (RFC 6761: .invalid). */
const unknown = 'no-such-host.invalid';

/** Not this machine's address (RFC 5737: TEST-NET-1). */
const foreign = '192.0.2.1';

/** A name (RFC 6761: .invalid, not in DNS) that only the hosts file of bourseWithHosts makes. */
const foreignName = 'foreign-host.invalid';

/**
 * Three members on this test's ports (the helpers' blocks 30600-30799 and, from `base` 30060,
 * 30000-30299), member 2 on `host2`.
 */
function clusterIn(dir: string, host2: string, base = 30_660): ClusterFile {
  const file: ClusterFile = { members: [] };
  for (let id = 1; id <= 3; id++) {
    const host = id === 2 ? host2 : '127.0.0.1';
    file.members.push({ id, host, port: base + id, replicationPort: base + 100 + id });
  }
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(file));
  return file;
}

function bourse(...args: string[]): { code: number | null; out: string } {
  return run(process.execPath, [main, ...args]);
}

function run(command: string, args: string[]): { code: number | null; out: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: readable(r.stdout + r.stderr) };
}

/**
 * `bourse` with `hosts` (lines of /etc/hosts) as its hosts file: in a mount namespace of its own
 * (unshare -m: private, gone when it exits), the file bound over /etc/hosts there.
 */
function bourseWithHosts(dir: string, hosts: string, ...args: string[]): ReturnType<typeof run> {
  const file = join(dir, 'hosts');
  writeFileSync(file, `127.0.0.1 localhost\n${hosts}\n`);
  try {
    const bound = 'mount --bind "$0" /etc/hosts && exec "$@"';
    return run('unshare', ['-m', 'sh', '-c', bound, file, process.execPath, main, ...args]);
  } finally {
    rmSync(file);
  }
}

/** How a refusal says member 2 on `host2` (foreign, or foreignName for it): with its address. */
function foreignHost(host2: string): string {
  return host2 === foreign ? `${foreign} (member 2)` : `${host2} (member 2) is ${foreign},`;
}

/**
 * `bourse member` for member 2 of a cluster in `dir` on `host2` (foreign, or foreignName from
 * a hosts file), refused as not this machine's (69), with nothing made or started.
 */
function assertForeignMember(dir: string, host2: string): void {
  clusterIn(dir, host2, 30_060);
  const data = join(dir, 'member-2');
  const args = ['member', '--cluster', join(dir, 'cluster.json'), '--id', '2', '--data', data];
  args.push('--make-secret');
  const hosts = `${foreign} ${foreignName}`;
  const r = host2 === foreign ? bourse(...args) : bourseWithHosts(dir, hosts, ...args);
  assert.equal(r.code, 69, r.out);
  const said = `host ${foreignHost(host2)} not an address of this machine: member 2 not started, `;
  assert.ok(r.out.includes(`${said}nothing written (fix its host in the cluster file`), r.out);
  assert.doesNotMatch(r.out, /starting on|cannot bind/);
  assert.equal(existsSync(data), false, 'no folder made');
  assert.deepEqual(readdirSync(dir), ['cluster.json'], 'no secret made');
}

/** `bourse cluster` in `dir`, member 2 on `host2` (as assertForeignMember): none started. */
function assertForeignCluster(dir: string, host2: string): void {
  const data = join(dir, 'cluster');
  mkdirSync(data);
  clusterIn(data, host2, 30_060);
  const hosts = `${foreign} ${foreignName}`;
  const args = ['cluster', '--data', data];
  const r = host2 === foreign ? bourse(...args) : bourseWithHosts(dir, hosts, ...args);
  assert.equal(r.code, 69, r.out);
  const said = `host ${foreignHost(host2)} not an address of this machine: no member started`;
  assert.ok(r.out.includes(`${said} (every member runs here`), r.out);
  assert.doesNotMatch(r.out, /member \d: ws:|cannot bind/);
  const left = readdirSync(data).filter((name) => name !== dataLockFileName);
  assert.deepEqual(left, ['cluster.json'], 'no secret, no member folder');
}

/** `bourse member` for member 2 of a cluster in `dir` on `host2`: not started, nothing made. */
function refusedMember(dir: string, host2: string, base?: number): ReturnType<typeof run> {
  clusterIn(dir, host2, base);
  const data = join(dir, 'member-2');
  const cluster = join(dir, 'cluster.json');
  const r = bourse('member', '--cluster', cluster, '--id', '2', '--data', data, '--make-secret');
  assert.doesNotMatch(r.out, /starting on/);
  assert.deepEqual(readdirSync(dir), ['cluster.json'], 'no folder, no secret made');
  return r;
}

/** `bourse cluster` in `data` (made), member 2 on `host2`: none started, nothing made. */
function refusedCluster(data: string, host2: string, base?: number): ReturnType<typeof run> {
  mkdirSync(data);
  clusterIn(data, host2, base);
  const r = bourse('cluster', '--data', data);
  assert.doesNotMatch(r.out, /member \d: ws:|starting on/);
  const left = readdirSync(data).filter((name) => name !== dataLockFileName);
  assert.deepEqual(left, ['cluster.json'], 'no secret, no member folder');
  return r;
}

test('bourse member: a host name that does not resolve is refused (68), nothing made', () => {
  const dir = tempDataDir();
  try {
    const r = refusedMember(dir, unknown);
    assert.equal(r.code, 68, r.out);
    const said = `cannot resolve host ${unknown} (member 2): ENOTFOUND: member 2 not started, `;
    assert.ok(r.out.includes(`${said}nothing written (fix its host in the cluster file`), r.out);
  } finally {
    removeDir(dir);
  }
});

test('bourse member: a name that resolves here has its ports checked on its address', async () => {
  const dir = tempDataDir();
  const tcp: Server = createServer();
  try {
    const file = clusterIn(dir, 'localhost');
    const { port } = file.members[1];
    await new Promise<void>((done) => tcp.listen(port, '127.0.0.1', done));
    const data = join(dir, 'member-2');
    const cluster = join(dir, 'cluster.json');
    const r = bourse('member', '--cluster', cluster, '--id', '2', '--data', data, '--make-secret');
    assert.equal(r.code, 69, r.out);
    assert.match(r.out, new RegExp(`cannot bind 127\\.0\\.0\\.1:${port} \\(tcp, member 2\\): `));
    assert.deepEqual(readdirSync(dir), ['cluster.json'], 'no folder, no secret');
  } finally {
    tcp.close();
    removeDir(dir);
  }
});

test('bourse cluster: a member host that does not resolve is refused (68), none started', () => {
  const dir = tempDataDir();
  try {
    const r = refusedCluster(join(dir, 'cluster'), unknown);
    assert.equal(r.code, 68, r.out);
    const said = `cannot resolve host ${unknown} (member 2): ENOTFOUND: no member started`;
    assert.ok(r.out.includes(said), r.out);
  } finally {
    removeDir(dir);
  }
});

test("bourse member: an address not this machine's is refused (69), nothing made", () => {
  const dir = tempDataDir();
  try {
    assertForeignMember(dir, foreign);
  } finally {
    removeDir(dir);
  }
});

test("bourse member: a name for an address not this machine's is refused (69)", () => {
  const dir = tempDataDir();
  try {
    assertForeignMember(dir, foreignName);
  } finally {
    removeDir(dir);
  }
});

test("bourse cluster: a member address not this machine's is refused (69), none started", () => {
  const dir = tempDataDir();
  try {
    assertForeignCluster(dir, foreign);
  } finally {
    removeDir(dir);
  }
});

test("bourse cluster: a member name for an address not this machine's is refused (69)", () => {
  const dir = tempDataDir();
  try {
    assertForeignCluster(dir, foreignName);
  } finally {
    removeDir(dir);
  }
});

test('bourse member: an IPv6 address is refused (69) as one, nothing made', () => {
  const dir = tempDataDir();
  try {
    clusterIn(dir, '::1', 30_060);
    const data = join(dir, 'member-2');
    const cluster = join(dir, 'cluster.json');
    const r = bourse('member', '--cluster', cluster, '--id', '2', '--data', data, '--make-secret');
    assert.equal(r.code, 69, r.out);
    const said = "host ::1 (member 2) is an IPv6 address: a member's replication is IPv4 (udp4): ";
    assert.ok(r.out.includes(`${said}member 2 not started, nothing written`), r.out);
    assert.doesNotMatch(r.out, /starting on|cannot bind/);
    assert.deepEqual(readdirSync(dir), ['cluster.json'], 'no folder, no secret');
  } finally {
    removeDir(dir);
  }
});

/** How the cluster file in `dir` refuses member 2 on 0.0.0.0 (64, as its other faults). */
function unspecified(dir: string): string {
  const said = `cluster file ${join(dir, 'cluster.json')}: member 2: host 0.0.0.0 is `;
  return `${said}the unspecified address: a peer sending to it reaches its own machine`;
}

test('bourse member: a host of 0.0.0.0 in the cluster file is refused (64), nothing made', () => {
  const dir = tempDataDir();
  try {
    const r = refusedMember(dir, '0.0.0.0', 30_900);
    assert.equal(r.code, 64, r.out);
    assert.ok(r.out.includes(unspecified(dir)), r.out);
  } finally {
    removeDir(dir);
  }
});

test('bourse cluster: a member host of 0.0.0.0 is refused (64), none started', () => {
  const dir = tempDataDir();
  try {
    const r = refusedCluster(join(dir, 'cluster'), '0.0.0.0', 30_900);
    assert.equal(r.code, 64, r.out);
    assert.ok(r.out.includes(unspecified(join(dir, 'cluster'))), r.out);
  } finally {
    removeDir(dir);
  }
});

// The host in the file is where others send; --listen 0.0.0.0 binds every address (compose).
test('bourse member --listen 0.0.0.0 starts, on every address of the machine', async () => {
  const dir = tempDataDir();
  const file = clusterIn(dir, '127.0.0.1', 30_900);
  const args = ['member', '--cluster', join(dir, 'cluster.json'), '--id', '1'];
  args.push('--data', join(dir, 'member-1'), '--listen', '0.0.0.0', '--make-secret');
  const child = spawn(process.execPath, [main, ...args, '--bootstrap'], { stdio: 'pipe' });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', done));
  try {
    await until('member 1 starts', () => /member 1: capacity/.test(out), 20_000);
    // 127.0.0.2 is this machine's (127/8) but not the host: only a bind of all answers there.
    const health = await fetch(`http://127.0.0.2:${file.members[0].port}/health`);
    assert.ok(health.status === 200 || health.status === 503, String(health.status));
    await health.arrayBuffer();
    child.kill('SIGTERM');
    assert.equal(await exited, 0, readable(out));
    assert.match(readable(out), /stopped cleanly/);
  } finally {
    child.kill('SIGKILL');
    removeDir(dir);
  }
});
