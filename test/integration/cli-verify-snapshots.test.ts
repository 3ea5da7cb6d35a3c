/**
 * `bourse verify` on snapshots that `bourse start` cannot use: taken under a smaller capacity
 * than the folder's now (raised on a later start). Verify passed them as checked, with the
 * others, while start skipped them ("taken with another engine config") and replayed the
 * journal: it now names them apart, still with exit 0 (they are not damage).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { smallConfig } from '../harness/engine-driver.js';
import { journaledFolder } from '../harness/journaled-folder.js';
import { NodeDriver, removeDir } from '../harness/node-driver.js';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

test('verify names the snapshots start skips for another engine config', async () => {
  const dir = await journaledFolder({ count: 900, chunk: 100, snapshotEvents: 300, pauseMs: 30 });
  try {
    const skipped: string[] = [];
    const raised = { ...smallConfig, accountCountMax: smallConfig.accountCountMax * 2 };
    const log = (line: string): void => void skipped.push(line);
    const driver = await NodeDriver.start({ dataDir: dir, config: raised, log });
    await driver.stop();
    const said = skipped.filter((l) => /taken with another engine config/.test(l)).length;
    assert.ok(said > 0, skipped.join('\n'));

    const r = spawnSync(process.execPath, [main, 'verify', '--data', dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const line = /^verify: ok: .*$/m.exec(r.stdout)?.[0] ?? r.stdout;
    const them = said === 1 ? 'it' : 'them';
    const expected =
      `, ${said} snapshots (0 usable by start; ${said} of another engine config: ` +
      `start skips ${them} and replays from the journal)`;
    assert.ok(line.endsWith(expected), line);
  } finally {
    removeDir(dir);
  }
});
