/**
 * `bourse member` as an operator runs it, one member at a time: the folders and secrets it
 * refuses before it starts (a copied folder, a backup, a single node's journal, a folder of
 * someone's files, no secret, a taken port), and a second stop signal. Split from
 * cluster-cli.test.ts (`bourse cluster`): none of these elects among members, loads or times a
 * takeover, so the file runs in npm test's light queue (scripts/run-tests.mjs, oneShot).
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
  statSync,
  writeFileSync,
} from 'node:fs';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { writeClusterFile } from '../harness/cluster-file.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { until } from '../harness/wait.js';
import { jsonLines } from '../harness/log-lines.js';
import { bourseMain as main, runBourseToExit, takePort } from '../harness/bourse-cli.js';
import { BourseClient } from '../../src/client/client.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { smallConfig } from '../harness/engine-driver.js';

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
    const first = await runBourseToExit(member(1, join(dir, 'member-1'), '--bootstrap'), 1_500);
    assert.equal(first.code, 0, first.out);
    cpSync(join(dir, 'member-1'), join(dir, 'member-3'), { recursive: true });
    const copied = await runBourseToExit(member(3, join(dir, 'member-3')), 15_000); // or it runs on
    assert.equal(copied.code, 65, copied.out);
    assert.match(copied.out, /holds member 1's data, not member 3's \(copied\?\): start member 3/);
    // Its own folder, or an empty one, is fine: member 1 again on its own.
    const own = await runBourseToExit(member(1, join(dir, 'member-1')), 1_500);
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
    const first = await runBourseToExit(member(own, '--bootstrap'), 1_500);
    assert.equal(first.code, 0, first.out);
    const backedUp = await runBourseToExit(['backup', '--data', own, '--to', copy]);
    assert.equal(backedUp.code, 0, backedUp.out);
    assert.match(backedUp.out, /is a backup of member 1's folder: no member or node starts on it/);
    const restored = await runBourseToExit(member(copy), 15_000); // or it runs on
    assert.equal(restored.code, 65, restored.out);
    assert.match(restored.out, /is a backup of member 1's folder: a member cannot start on it/);
    const single = await runBourseToExit(['start', '--data', copy, '--port', '0'], 15_000);
    assert.equal(single.code, 64, single.out);
    assert.match(single.out, /backup of member 1's folder: a single node cannot start on it/);
    // The tools read it, and the member's own folder starts as before.
    assert.equal((await runBourseToExit(['verify', '--data', copy])).code, 0);
    const again = await runBourseToExit(member(own), 1_500);
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
    const member = await runBourseToExit([...args, '--bootstrap'], 15_000); // or it runs on
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
    const none = await runBourseToExit(member('--bootstrap'), 10_000); // or it runs on
    assert.equal(none.code, 64, none.out);
    assert.ok(none.out.includes(`no replication secret at ${secretPath}: every member`), none.out);
    assert.equal(existsSync(join(dir, 'member-1')), false, 'nothing written');
    const made = await runBourseToExit(member('--bootstrap', '--make-secret'), 1_500);
    assert.equal(made.code, 0, made.out);
    assert.ok(made.out.includes(`made the replication secret ${secretPath}`), made.out);
    assert.equal(statSync(secretPath).mode & 0o777, 0o600);
    const other = join(dir, 'other.key');
    writeFileSync(other, 'not hex\n', { mode: 0o600 });
    const bad = await runBourseToExit(member('--secret', other), 10_000);
    assert.equal(bad.code, 64, bad.out);
    assert.match(bad.out, /replication secret \S+other\.key: 64 hex digits expected/);
    chmodSync(secretPath, 0o644);
    const exposed = await runBourseToExit(member(), 1_500);
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
    const refused = await runBourseToExit(member(home, '--bootstrap'), 10_000); // or it runs on
    assert.equal(refused.code, 78, refused.out);
    assert.match(refused.out, new RegExp(`data folder ${home} is not a bourse data folder: `));
    assert.match(refused.out, /it holds \.bashrc, notes-0\.txt, .*, and 3 more, and no journal/);
    assert.match(refused.out, /; bourse member puts a member's files in a new or empty folder/);
    assert.match(refused.out, new RegExp(`such as --data ${join(home, 'member-2')}; nothing was`));
    assert.equal(readdirSync(home).length, 8, 'nothing written there');
    assert.deepEqual(readdirSync(dir).sort(), before, 'no secret made, no folder');
    const own = join(dir, 'member-2');
    const first = await runBourseToExit(member(own, '--bootstrap'), 1_500);
    assert.equal(first.code, 0, first.out);
    writeFileSync(join(own, 'README'), 'my notes\n'); // beside bourse's own: as before
    const again = await runBourseToExit(member(own), 1_500);
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
    const refused = await runBourseToExit([...args, '--bootstrap', '--make-secret'], 10_000);
    assert.equal(refused.code, 69, refused.out);
    const taken = `cannot bind 127.0.0.1:${port} (tcp, member 2): EADDRINUSE`;
    assert.ok(refused.out.includes(`${taken}: member 2 not started, nothing written`), refused.out);
    assert.doesNotMatch(refused.out, /starting on/);
    assert.equal(existsSync(data), false, 'no folder made');
    assert.deepEqual(readdirSync(dir).sort(), before, 'no secret made');
    tcp.close();
    await new Promise<void>((resolve) => udp.bind(replicationPort, '127.0.0.1', resolve));
    const peer = await runBourseToExit([...args, '--bootstrap', '--make-secret'], 10_000);
    assert.equal(peer.code, 69, peer.out);
    assert.match(peer.out, new RegExp(`127\\.0\\.0\\.1:${replicationPort} \\(udp, member 2\\): `));
    assert.deepEqual(readdirSync(dir).sort(), before, 'no folder, no secret');
  } finally {
    tcp.close();
    udp.close();
    removeDir(dir);
  }
});
