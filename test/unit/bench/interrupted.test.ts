/**
 * Ctrl-C in the middle of a bench leaves no data behind. bench:fuzz's live node and
 * bench:journal's LMDB files stayed in TMPDIR (352 KB and 13 MB a run at the CI size): neither
 * removed its folder on a signal, and the journal's commits never let the event loop turn.
 * Each bench runs here with a TMPDIR of its own, so that other processes' folders do not count.
 * A bench whose load process fails removes its folder as well: bench:e2e's stayed (about 1 GB
 * at the large size) when a client exited with an error, which its `main` threw past.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../../harness/wait.js';

const dist = new URL('../../../', import.meta.url).pathname;

/** Runs `script`, waits for a folder named `prefix`… in its TMPDIR, then sends SIGINT. */
async function interrupted(script: string, args: string[], prefix: string): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'bourse-interrupt-'));
  const child = spawn(process.execPath, [join(dist, script), ...args], {
    env: { ...process.env, TMPDIR: scratch },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (code, signal) => resolve([code, signal])),
  );
  try {
    const folder = (): string | undefined =>
      readdirSync(scratch).find((name) => name.startsWith(prefix));
    await until(`${script} makes its folder`, () => folder() !== undefined, 60_000);
    // Something in it: the bench is at work on it (LMDB's files, the node's journal).
    await until(`${script} writes`, () => readdirSync(join(scratch, folder()!)).length > 0, 60_000);
    child.kill('SIGINT');
    const [code, signal] = await exited;
    assert.deepEqual([code, signal], [130, null], `exits 130 on its own: ${stderr}`);
    assert.deepEqual(readdirSync(scratch), [], 'nothing left in TMPDIR');
  } finally {
    child.kill('SIGKILL');
    rmSync(scratch, { recursive: true, force: true });
  }
}

test('bench:journal stopped by Ctrl-C removes its LMDB files and exits 130', async () => {
  await interrupted('bench/micro/journal-commit.bench.js', [], 'bourse-journal-bench-');
});

test("bench:fuzz stopped by Ctrl-C in its live phase removes the node's folder", async () => {
  await interrupted('bench/fuzz/protocol.fuzz.js', ['--small'], 'bourse-fuzz-');
});

/** Pids of the processes whose parent is `parent` and whose command line holds `script`. */
function childrenRunning(parent: number, script: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (ppid === parent && cmdline.includes(script)) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

test('bench:e2e whose client process fails exits with an error, its folder removed', async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'bourse-client-fails-'));
  const child = spawn(process.execPath, [join(dist, 'bench/macro/e2e.bench.js'), '--small'], {
    env: { ...process.env, TMPDIR: scratch },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const clients = (): number[] => childrenRunning(child.pid as number, 'e2e-client.js');
    await until('bench:e2e runs its load clients', () => clients().length > 0, 120_000);
    assert.equal(readdirSync(scratch).length, 1, 'its data folder is there meanwhile');
    process.kill(clients()[0], 'SIGKILL');
    const code = await exited;
    assert.equal(code, 1, `exits with an error: ${stderr}`);
    assert.match(stderr, /client exited/);
    assert.deepEqual(readdirSync(scratch), [], 'nothing left in TMPDIR');
  } finally {
    child.kill('SIGKILL');
    rmSync(scratch, { recursive: true, force: true });
  }
});
