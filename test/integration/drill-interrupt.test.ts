/**
 * A harness's members (a drill's, bench:replicated's) are its own to stop. Ctrl-C on a terminal
 * signals the whole foreground process group: the members got it too, then the drill's own stop
 * (SIGKILL), so none stopped cleanly. They now run in process groups of their own, and the
 * drill stops each cleanly. A harness killed with SIGKILL cannot stop them: each watches a pipe
 * from it (supervisor-watch.ts) and stops when it closes, even one whose start never ends.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDrillCluster } from '../../src/cli/drill-folder.js';
import { alive, awaitChildren } from '../harness/processes.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { until } from '../harness/wait.js';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const supervise = fileURLToPath(new URL('../../src/cli/cluster-supervise.js', import.meta.url));

/** This file's ports (the helpers' block 30600-30799). */
const drillBase = 30_600;
const memberPort = 30_610;
const benchPorts = 30_620; // 30620-30625
/**
 * The member's wait for its start once its supervisor is gone (spawnMember's stopMs, `bourse
 * member --stop-ms`): memberStopMs, 20 s, was waited out, 20 of this file's 27 s.
 */
const startingStopMs = 1_500;

const logOf = (dir: string, id: number): string =>
  readFileSync(join(dir, `member-${id}.log`), 'utf8');

/** A harness run in a process group of its own, as a shell runs a foreground job. */
interface Harness {
  child: ChildProcess;
  exited: Promise<number | null>;
  err: () => string;
  /** Its 3 members' pids. */
  members: number[];
}

async function runHarness(t: TestContext, args: string[], env = {}): Promise<Harness> {
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
    env: { ...process.env, ...env },
  });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  t.after(() => child.kill('SIGKILL'));
  const members = await awaitChildren(child.pid!, ' member --cluster ', 3);
  t.after(() => members.filter(alive).forEach((pid) => process.kill(pid, 'SIGKILL')));
  return { child, exited, err: () => err, members };
}

/**
 * Once every member logging in `dir` is ready (its start's last line), sends the harness's
 * group Ctrl-C as a terminal does; then each member stopped cleanly, and none is left.
 */
async function ctrlC(h: Harness, dir: string): Promise<void> {
  const ready = (id: number): boolean => / capacity /.test(logOf(dir, id));
  await until('every member ready', () => [1, 2, 3].every(ready), 30_000);
  process.kill(-h.child.pid!, 'SIGINT');
  assert.equal(await h.exited, 130, h.err());
  assert.deepEqual(h.members.filter(alive), [], 'no member outlives the harness');
  for (const id of [1, 2, 3]) {
    const log = logOf(dir, id);
    assert.match(log, /"msg":"stopped cleanly"/, `member ${id} stopped cleanly: ${log}`);
    assert.doesNotMatch(log, /SIGINT/, `member ${id} got no Ctrl-C of its own`);
  }
}

test('Ctrl-C on a drill: the drill stops each member cleanly, none is left', async (t) => {
  const dir = tempDataDir();
  t.after(() => removeDir(dir));
  const data = join(dir, 'drill'); // --data: kept, with each member's log
  const args = [main, 'drill', 'failover', '--kills', '50', '--base-port', String(drillBase)];
  const drill = await runHarness(t, [...args, '--data', data]);
  await ctrlC(drill, data); // the members all ready: before the drill's first kill
  const said = /interrupted \(SIGINT\); its members are stopped cleanly, its folder is kept/;
  assert.match(drill.err(), said);
});

/**
 * A supervisor that spawns member 1 (spawnMember, as drills, benches and `bourse cluster` do),
 * prints its pid and waits; the test kills it with SIGKILL.
 */
function supervisorScript(dir: string): string {
  const path = join(dir, 'supervisor.mjs');
  writeFileSync(
    path,
    `import { openSync } from 'node:fs';\n` +
      `import { spawnMember } from ${JSON.stringify(supervise)};\n` +
      `const [cluster, data, log] = process.argv.slice(2);\n` +
      `const output = openSync(log, 'a');\n` +
      `const stopMs = ${startingStopMs};\n` +
      `const child = spawnMember(cluster, 1, data, true, { output, stopMs });\n` +
      `process.stdout.write(child.pid + '\\n');\n` +
      `setInterval(() => {}, 1 << 30);\n`,
  );
  return path;
}

test('a harness killed with SIGKILL: its member stops, even one still starting', async (t) => {
  const dir = tempDataDir();
  t.after(() => removeDir(dir));
  // Member 2 answers member 1's start (its --bootstrap check) a byte at a time, without end:
  // member 1's start does not end while it does (a replay of hours would do the same).
  const drips: ServerResponse[] = [];
  const peer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    drips.push(res);
  });
  const drip = setInterval(() => drips.forEach((res) => res.write(' ')), 50);
  t.after(() => {
    clearInterval(drip);
    drips.forEach((res) => res.destroy());
    peer.close();
  });
  await new Promise<void>((resolve) => peer.listen(memberPort + 1, '127.0.0.1', resolve));
  const members = [1, 2].map((id) => ({
    id,
    host: '127.0.0.1',
    port: memberPort + id - 1,
    replicationPort: memberPort + 100 + id - 1,
  }));
  writeDrillCluster(dir, { members });
  const log = join(dir, 'member-1.log');
  const script = supervisorScript(dir);
  const args = [script, join(dir, 'cluster.json'), join(dir, 'member-1'), log];
  const supervisor = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => supervisor.kill('SIGKILL'));
  let out = '';
  supervisor.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await until('the member spawned', () => out.includes('\n'));
  const pid = Number.parseInt(out, 10);
  t.after(() => alive(pid) && process.kill(pid, 'SIGKILL'));
  await until("member 1's start waits on member 2", () => drips.length > 0, 30_000);
  supervisor.kill('SIGKILL');
  // It stops once started, or, its start not ended within the stop wait it was given, at once.
  await until('member 1 gone', () => !alive(pid), startingStopMs + 10_000);
  const seconds = startingStopMs / 1000;
  const said =
    `its supervisor (pid ${supervisor.pid}) is gone and the member did not start within ` +
    `${seconds} s: stopped at once`;
  assert.ok(readFileSync(log, 'utf8').includes(said), readFileSync(log, 'utf8'));
});

test('Ctrl-C on bench:replicated: the bench stops each member cleanly, none is left', async (t) => {
  const script = fileURLToPath(new URL('../../bench/macro/replicated.bench.js', import.meta.url));
  const args = [script, '--small', '--ports', String(benchPorts)];
  const keep = { BOURSE_BENCH_KEEP: '1' }; // its members' logs, to read
  const bench = await runHarness(t, args, keep);
  const cmdline = readFileSync(`/proc/${bench.members[0]}/cmdline`, 'utf8').split('\0');
  const dir = dirname(cmdline[cmdline.indexOf('--data') + 1]);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await ctrlC(bench, dir);
});
