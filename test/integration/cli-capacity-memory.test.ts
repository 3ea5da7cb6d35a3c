/**
 * Capacities whose tables, at full size, take more of the machine's memory than
 * stateMemoryPercentMax are refused (64) before the folder keeps them. V8 allocates typed
 * arrays lazily, so such a state used to start and be kept (4M accounts and 4M orders: 121 MB
 * resident of 1.6 GB of tables), to fail only as it filled. The machine's memory is given
 * through BOURSE_TEST_MEMORY_BYTES (tests only), so the default capacities are too much.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testMemoryEnv } from '../../src/pipeline/state-memory.js';
import { StorageCode, StorageError } from '../../src/journal/journal-errors.js';
import { smallConfig } from '../harness/engine-driver.js';
import { NodeDriver, removeDir, tempDataDir } from '../harness/node-driver.js';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

test('capacities whose tables exceed the memory share: refused (64), not kept', () => {
  const dir = tempDataDir();
  try {
    const data = join(dir, 'data');
    const r = spawnSync(
      process.execPath,
      [main, 'start', '--data', data, '--port', '0', '--accounts-max', '300000'],
      {
        encoding: 'utf8',
        timeout: 20_000, // the old build started, and ran on
        env: { ...process.env, [testMemoryEnv]: String(300 * 2 ** 20) },
      },
    );
    assert.equal(r.status, 64, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        "does not fit in this machine's memory \\(--accounts-max 300000, .*\\): its tables " +
          'take [0-9.]+ GiB at full size, 3 copies .* more than 75% of 0.29 GiB \\(test\\)',
      ),
    );
    // The folder was missing: the refused start removes what it made (start-folder-undo.ts),
    // so nothing of the capacities refused is kept, not even an empty journal.
    assert.equal(existsSync(data), false, 'the capacities refused are not kept');
  } finally {
    removeDir(dir);
  }
});

test('a folder whose kept capacities exceed the memory share still starts', async () => {
  const dir = tempDataDir();
  try {
    await (await NodeDriver.start({ dataDir: dir, config: smallConfig })).stop(); // kept
    process.env[testMemoryEnv] = '1'; // workers copy the environment when they start
    try {
      // Kept before: refusing it now would strand the folder (capacities never shrink).
      await (await NodeDriver.start({ dataDir: dir, config: smallConfig })).stop();
      const raised = { ...smallConfig, accountCountMax: smallConfig.accountCountMax * 2 };
      await assert.rejects(NodeDriver.start({ dataDir: dir, config: raised }), (error) => {
        assert.ok(error instanceof StorageError);
        assert.equal(error.code, StorageCode.ConfigRefused);
        assert.match(error.message, /does not fit in this machine's memory/);
        return true;
      });
    } finally {
      delete process.env[testMemoryEnv];
    }
  } finally {
    removeDir(dir);
  }
});
