/**
 * The meta-page check of an LMDB file (lmdb-meta.ts) on a file that another process commits to
 * meanwhile, as a member's workers open its journal while it writes what it catches up. The
 * check read the file's size before its meta pages: a commit in between made a sound file that
 * had just grown look cut short (23 of 160,350 checks here), and the member's start failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkLmdbFile } from '../../../src/journal/lmdb-meta.js';
import { journalPageSizeBytes } from '../../../src/constants.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';

const dbModule = fileURLToPath(new URL('../../../src/journal/journal-db.js', import.meta.url));
const checkMs = 2_000;

test('a file that grows while it is checked is not taken for one cut short', async () => {
  const dir = tempDataDir();
  const path = join(dir, 'journal.mdb');
  // Commits of 200 KB each (13 pages) as fast as the disk takes them, until stdin ends.
  const script =
    `const { openEnv } = await import(${JSON.stringify(dbModule)});` +
    `const root = openEnv(${JSON.stringify(path)}, false, ${journalPageSizeBytes});` +
    `const value = Buffer.alloc(200_000, 7); let i = 0, open = true;` +
    `process.stdin.on('end', () => (open = false)).resume(); console.log('writing');` +
    `const commit = () => root.transactionSync(() => root.putSync(String(i++), value));` +
    `const run = () => { for (let k = 0; k < 20; k++) commit(); ` +
    `if (open) setImmediate(run); else root.close().then(() => process.exit(0)); }; run();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await new Promise((resolve, reject) => {
      child.stdout.once('data', resolve);
      child.once('exit', (code) => reject(new Error(`the writer exited (${code})`)));
    });
    let checks = 0;
    const refused: string[] = [];
    const until = performance.now() + checkMs;
    while (performance.now() < until) {
      try {
        assert.equal(checkLmdbFile(path, 'JOURNAL_CORRUPT', 'advice'), 'sound');
      } catch (error) {
        refused.push(String(error));
      }
      checks++;
    }
    assert.ok(checks > 1_000, 'checked many times while it grew');
    assert.deepEqual(refused.slice(0, 3), [], `refused ${refused.length} of ${checks} checks`);
  } finally {
    child.stdin.end();
    await exited;
    removeDir(dir);
  }
});
