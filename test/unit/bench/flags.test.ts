/**
 * The benches' `--name N` flags: a bad value stops the bench with a message that names the flag
 * and what it takes, instead of running with NaN (bench:pipeline did, before it used flags.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseFlag as flag } from '../../../bench/lib/flags.js';

function withArgv<T>(args: string[], body: () => T): T {
  const saved = process.argv;
  process.argv = ['node', 'bench.js', ...args];
  try {
    return body();
  } finally {
    process.argv = saved;
  }
}

test('bench flags: the value given, the fallback when absent, an error when not a count', () => {
  assert.equal(
    withArgv(['--rate', '40000'], () => flag('--rate', 5)),
    40000,
  );
  assert.equal(
    withArgv(['--small'], () => flag('--rate', 5)),
    5,
  );
  assert.equal(
    withArgv(['--seconds', '0'], () => flag('--seconds', 5, 0)),
    0,
  );
  for (const bad of ['abc', '1.5', '-3', '0', '']) {
    assert.throws(
      () => withArgv(['--rate', bad], () => flag('--rate', 5)),
      new RegExp(`--rate takes a whole number from 1, not ${bad}`),
    );
  }
  assert.throws(() => withArgv(['--rate'], () => flag('--rate', 5)), /--rate takes/);
});

test('a bench given a bad flag says so and exits 64, without a stack trace', () => {
  const script = new URL('../../../bench/macro/pipeline.bench.js', import.meta.url).pathname;
  const run = spawnSync(process.execPath, [script, '--small', '--rate', '0'], { encoding: 'utf8' });
  assert.equal(run.status, 64);
  assert.equal(run.stderr.trim(), 'bench: --rate takes a whole number from 1, not 0');
});
