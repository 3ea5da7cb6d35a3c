/**
 * Ctrl-C of `bourse cluster` as an operator meets it: every member stops, one that does not
 * (stopped with SIGSTOP here; hung, in practice) is killed after --member-stop-ms, a second
 * Ctrl-C meanwhile is told to wait, and the last line says where the cluster's data is. Before,
 * the supervisor waited for the stopped member for ever and said nothing.
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
/**
 * The member stopped with SIGSTOP is killed this long after Ctrl-C (memberStopMs, 20 s, was
 * waited out); the two others stop cleanly well within it.
 */
const stopMs = 5_000;

async function answers(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
  } catch {
    return false;
  }
}

test('Ctrl-C of bourse cluster: a member that does not stop is killed, and said', async () => {
  const dir = tempDataDir();
  const file = await writeClusterFile(dir);
  const args = [main, 'cluster', '--data', dir, '--member-stop-ms', String(stopMs)];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const members = await awaitChildren(child.pid!, ' member --cluster ', 3);
  let code: number | null | 'hung' = 'hung';
  try {
    // Each member is given the same wait for its start, should this process go (--stop-ms).
    for (const pid of members) {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      assert.equal(args[args.indexOf('--stop-ms') + 1], String(stopMs), args.join(' '));
    }
    const ports = file.members.map((m) => m.port);
    await until(
      'every member answers',
      async () => (await Promise.all(ports.map(answers))).every(Boolean),
      20_000,
    );
    process.kill(members[1], 'SIGSTOP');
    child.kill('SIGINT');
    await until('told', () => /SIGINT: stopping every member/.test(out));
    child.kill('SIGINT'); // an impatient operator
    const bound = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 3 * stopMs).unref());
    code = await Promise.race([exited, bound]);
  } finally {
    for (const pid of members.filter(alive)) {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    }
    if (code === 'hung') child.kill('SIGKILL');
    removeDir(dir);
  }
  assert.equal(code, 0, out.slice(-3000));
  assert.ok(!members.some(alive), 'every member process is gone');
  const seconds = stopMs / 1000;
  const killed = `(pid ${members[1]}) did not stop within ${seconds} s: killed (SIGKILL)`;
  assert.ok(out.includes(killed), out.slice(-3000));
  assert.ok(out.includes(`stopping every member (one still running after ${seconds} s is`), out);
  assert.match(out, /stopping already: stopping every member/);
  assert.ok(out.includes(`stopped; ${dir} keeps cluster.json and every member's folder`), out);
  assert.equal(out.match(/"stopped cleanly"/g)?.length, 2, 'the two others stopped cleanly');
});
