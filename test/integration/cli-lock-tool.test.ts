/**
 * Without util-linux's flock (it takes the data folder's lock) `bourse start` exits 71 with
 * what is missing. It exited 75 (DATA_LOCKED), the code that says "data folder in use by a
 * running node": a supervisor then waits for a node that does not exist (bourse cluster
 * retries 75) and an operator looks for one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { removeDir, tempDataDir } from '../harness/node-driver.js';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

test('start without flock on PATH: exit 71, the tool named, not "in use"', () => {
  const dir = tempDataDir();
  try {
    const r = spawnSync(process.execPath, [main, 'start', '--data', dir, '--port', '0'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PATH: '/nonexistent' },
    });
    assert.equal(r.status, 71, r.stderr);
    const said = /cannot lock \S+ with flock \(util-linux\): not found on PATH \(install util-/;
    assert.match(r.stderr, said);
    assert.match(r.stderr, /\[TOOL_FAILED\]/);
    assert.doesNotMatch(r.stderr, /DATA_LOCKED|in use/);
  } finally {
    removeDir(dir);
  }
});
