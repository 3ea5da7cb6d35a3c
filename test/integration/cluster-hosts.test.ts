/**
 * A member's host name is looked up before anything is written: one that does not resolve is
 * refused (exit 68, EX_NOHOST), naming the host and the member, with no folder or secret made.
 * Before, `bourse member` made its folder, stored its id in it and made its secret
 * (--make-secret), then failed at the bind; `bourse cluster` said the name as a port it could
 * not bind (69, "ENOTFOUND"). A name that resolves here is checked as its address is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterFile } from '../../src/cli/cluster-file.js';
import { dataLockFileName } from '../../src/constants.js';
import { readable } from '../harness/log-lines.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** Never resolves (RFC 6761: .invalid). */
const unknown = 'no-such-host.invalid';

/** Three members on this test's ports (the helpers' block 30600-30799), member 2 on `host2`. */
function clusterIn(dir: string, host2: string): ClusterFile {
  const file: ClusterFile = { members: [] };
  for (let id = 1; id <= 3; id++) {
    const host = id === 2 ? host2 : '127.0.0.1';
    file.members.push({ id, host, port: 30_660 + id, replicationPort: 30_760 + id });
  }
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(file));
  return file;
}

function bourse(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: readable(r.stdout + r.stderr) };
}

test('bourse member: a host name that does not resolve is refused (68), nothing made', () => {
  const dir = tempDataDir();
  try {
    clusterIn(dir, unknown);
    const data = join(dir, 'member-2');
    const cluster = join(dir, 'cluster.json');
    const r = bourse('member', '--cluster', cluster, '--id', '2', '--data', data, '--make-secret');
    assert.equal(r.code, 68, r.out);
    const said = `cannot resolve host ${unknown} (member 2): ENOTFOUND: member 2 not started, `;
    assert.ok(r.out.includes(`${said}nothing written (fix its host in the cluster file`), r.out);
    assert.doesNotMatch(r.out, /starting on/);
    assert.equal(existsSync(data), false, 'no folder made');
    assert.deepEqual(readdirSync(dir), ['cluster.json'], 'no secret made');
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
    const data = join(dir, 'cluster');
    mkdirSync(data);
    clusterIn(data, unknown);
    const r = bourse('cluster', '--data', data);
    assert.equal(r.code, 68, r.out);
    const said = `cannot resolve host ${unknown} (member 2): ENOTFOUND: no member started`;
    assert.ok(r.out.includes(said), r.out);
    assert.doesNotMatch(r.out, /member 1: ws:/);
    const left = readdirSync(data).filter((name) => name !== dataLockFileName);
    assert.deepEqual(left, ['cluster.json'], 'no secret, no member folder');
  } finally {
    removeDir(dir);
  }
});
