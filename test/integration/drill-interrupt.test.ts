/**
 * A harness's members (a drill's, a bench's) are its own to stop. Ctrl-C on a terminal signals
 * the whole foreground process group: the members got it too, then the drill's own stop
 * (SIGKILL), so none stopped cleanly. They now run in process groups of their own, and the
 * drill stops each cleanly. A harness killed with SIGKILL cannot stop them: each watches a pipe
 * from it (supervisor-watch.ts) and ends when it closes, even one whose start never ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
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

const logOf = (dir: string, id: number): string =>
  readFileSync(join(dir, `member-${id}.log`), 'utf8');

test('Ctrl-C on a drill: the drill stops each member cleanly, none is left', async (t) => {
  const dir = tempDataDir();
  const data = join(dir, 'drill'); // --data: kept, with each member's log
  const args = [main, 'drill', 'failover', '--kills', '50', '--base-port', String(drillBase)];
  // A process group of its own, as a shell runs a foreground job.
  const drill = spawn(process.execPath, [...args, '--data', data], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let err = '';
  drill.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => drill.once('close', resolve));
  t.after(() => drill.kill('SIGKILL'));
  const members = await awaitChildren(drill.pid!, ' member --cluster ', 3);
  t.after(() => members.filter(alive).forEach((pid) => process.kill(pid, 'SIGKILL')));
  t.after(() => removeDir(dir));
  // Every member ready (its start's last line), before the drill's first kill.
  const ready = (id: number): boolean => / capacity /.test(logOf(data, id));
  await until('every member ready', () => [1, 2, 3].every(ready), 30_000);
  process.kill(-drill.pid!, 'SIGINT'); // the terminal's Ctrl-C: to the whole group
  assert.equal(await exited, 130, err);
  assert.deepEqual(members.filter(alive), [], 'no member outlives the drill');
  for (const id of [1, 2, 3]) {
    const log = logOf(data, id);
    assert.match(log, /"msg":"stopped cleanly"/, `member ${id} stopped cleanly: ${log}`);
    assert.doesNotMatch(log, /SIGINT/, `member ${id} got no Ctrl-C of its own`);
  }
  assert.match(err, /interrupted \(SIGINT\); its members are stopped cleanly, its folder is kept/);
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
      `const child = spawnMember(cluster, 1, data, true, { output: openSync(log, 'a') });\n` +
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
  await until('member 1 gone', () => !alive(pid), 10_000);
  const said = `its supervisor (pid ${supervisor.pid}) is gone before the member was ready`;
  assert.ok(readFileSync(log, 'utf8').includes(said), readFileSync(log, 'utf8'));
});
