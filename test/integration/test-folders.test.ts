/**
 * The harness's temporary data folders (node-driver.ts tempDataDir) do not outlive a test file
 * that failed: ~50 bourse-test-* folders piled up in /tmp, each from a test that failed before
 * its `finally` (a node that did not start, a set-up step that threw) or that had none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { TestCluster } from '../harness/cluster-driver.js';

const harness = new URL('../harness/node-driver.js', import.meta.url).href;

/** The bourse-test-* folders under `tmp`. */
function made(tmp: string): string[] {
  return readdirSync(tmp).filter((name) => name.startsWith('bourse-test-'));
}

/** Runs `source` (an ES module) with `tmp` for its temporary folder; its exit code. */
function run(source: string, tmp: string): Promise<number | null> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TMPDIR: tmp },
  });
  return new Promise((resolve) => child.once('exit', resolve));
}

/** Fails on the old code: both folders stay. */
test('folders made by a failed test are removed when its process exits', async () => {
  const tmp = tempDataDir();
  try {
    const failing = [
      `import { test } from 'node:test';`,
      `import { tempDataDir, removeDir } from '${harness}';`,
      `test('a set-up step throws before the try', () => {`,
      `  const dir = tempDataDir();`,
      `  throw new Error('a node did not start');`,
      `  try {} finally { removeDir(dir); }`,
      `});`,
      `test('an assertion fails in a test with no finally', () => {`,
      `  tempDataDir();`,
      `  throw new Error('an assertion failed');`,
      `});`,
    ].join('\n');
    assert.equal(await run(failing, tmp), 1, 'the tests failed');
    assert.deepEqual(made(tmp), [], 'and their folders went');
    const thrown = `import { tempDataDir } from '${harness}'; tempDataDir(); throw new Error('x');`;
    assert.equal(await run(thrown, tmp), 1);
    assert.deepEqual(made(tmp), [], 'an uncaught error too');
  } finally {
    removeDir(tmp);
  }
});

/**
 * A cluster that did not start: its members that came up kept running (the file never ended),
 * and the folders it made stayed. Fails on the old code: the folders stay. Member 3's data
 * folder is a file: it cannot start.
 */
test('a cluster that cannot start stops the members up, and removes its folders', async () => {
  const tmp = tempDataDir();
  const notFolder = join(tmp, 'a-file');
  writeFileSync(notFolder, '');
  const dirs: string[] = [];
  dirs[2] = notFolder; // members 1 and 2: folders the cluster makes
  const env = process.env.TMPDIR;
  process.env.TMPDIR = tmp; // the cluster's folders, where this test can count them
  try {
    await assert.rejects(TestCluster.start(3, undefined, dirs));
    assert.deepEqual(made(tmp), [], "the cluster's folders went");
    assert.ok(existsSync(notFolder), 'the one given is left to its owner');
  } finally {
    if (env === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = env;
    removeDir(tmp);
  }
});
