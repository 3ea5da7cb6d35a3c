/**
 * One process per data folder: processes racing for a folder, one that a dead node left behind
 * or that names a live process which is not a node, and a lock let go.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataLock } from '../../../src/journal/data-lock.js';
import { dataLockFileName } from '../../../src/constants.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';

const lockModule = fileURLToPath(new URL('../../../src/journal/data-lock.js', import.meta.url));

/**
 * A process that tries to lock `dir` at time `at` (ms; all contenders of a round at once: the
 * race is microseconds wide) and says won or refused: `outcome`. It holds what it won until
 * `release` (its stdin ends): a winner that let go after a fixed time could be gone before a
 * contender started late on a loaded machine, and that one won too, rightly.
 */
function contender(
  dir: string,
  at = 0,
): { outcome: Promise<string>; release: () => Promise<void> } {
  const script =
    `const { DataLock } = await import(${JSON.stringify(lockModule)});` +
    `while (Date.now() < ${at});` +
    `try { DataLock.acquire(${JSON.stringify(dir)}); console.log('won'); }` +
    `catch (e) { console.log(e.code === 'DATA_LOCKED' ? 'refused' : 'error ' + e.message); }` +
    `process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
  const outcome = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('error', reject);
    child.on('exit', () => resolve(out.trim()));
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    outcome,
    release: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

/** One contender's outcome, released at once (what it won is let go when it exits). */
async function once(dir: string): Promise<string> {
  const c = contender(dir);
  const outcome = await c.outcome;
  await c.release();
  return outcome;
}

test('of processes racing for a folder a dead node left locked, exactly one wins', async () => {
  const dir = tempDataDir();
  try {
    for (let round = 0; round < 10; round++) {
      writeFileSync(join(dir, dataLockFileName), '999999999\n'); // a killed node's pid
      const at = Date.now() + 300;
      const round6 = Array.from({ length: 6 }, () => contender(dir, at));
      const outcomes = await Promise.all(round6.map((c) => c.outcome));
      await Promise.all(round6.map((c) => c.release()));
      assert.deepEqual(
        [...outcomes].sort(),
        [...Array<string>(5).fill('refused'), 'won'],
        `round ${round}`,
      );
    }
  } finally {
    removeDir(dir);
  }
});

test('a lock file naming a live process that holds no lock is taken over', async () => {
  const dir = tempDataDir();
  const sleeper = spawn('sleep', ['30']); // the pid a killed node's lock file names, reused
  try {
    writeFileSync(join(dir, dataLockFileName), `${sleeper.pid}\n`);
    const lock = DataLock.acquire(dir);
    assert.equal(readFileSync(join(dir, dataLockFileName), 'utf8'), `${process.pid}\n`);
    assert.equal(await once(dir), 'refused', 'held by this process now');
    assert.throws(() => DataLock.acquire(dir), /in use by a running node \(pid \d+/);
    lock.release();
    assert.ok(!existsSync(join(dir, dataLockFileName)), 'the lock file goes');
    assert.equal(await once(dir), 'won', 'released');
  } finally {
    sleeper.kill();
    removeDir(dir);
  }
});

/** A process that takes and lets go of the lock `cycles` times, marking + and - in `log`. */
function cycler(dir: string, log: string, cycles: number): Promise<number> {
  const script =
    `const { DataLock } = await import(${JSON.stringify(lockModule)});` +
    `const { appendFileSync } = await import('node:fs');` +
    `let won = 0; const end = Date.now() + 20000;` +
    `while (won < ${cycles} && Date.now() < end) {` +
    `  let lock; try { lock = DataLock.acquire(${JSON.stringify(dir)}); } catch { continue; }` +
    `  appendFileSync(${JSON.stringify(log)}, '+'); const until = Date.now() + 2;` +
    `  while (Date.now() < until); appendFileSync(${JSON.stringify(log)}, '-');` +
    `  lock.release(); won++; }` +
    `console.log(won);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(Number(out.trim())));
  });
}

test('processes taking and letting go of one folder never hold it together', async () => {
  const dir = tempDataDir();
  const log = join(dir, 'holders.log');
  try {
    writeFileSync(log, '');
    const won = await Promise.all(Array.from({ length: 3 }, () => cycler(dir, log, 20)));
    assert.deepEqual(won, [20, 20, 20]);
    assert.equal(readFileSync(log, 'utf8'), '+-'.repeat(60), 'one holder at a time');
  } finally {
    removeDir(dir);
  }
});
