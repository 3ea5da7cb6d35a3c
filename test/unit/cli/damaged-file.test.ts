/**
 * What a walk of a data folder's files found, from how it ended (damaged-file.ts). Ctrl-C
 * signals a terminal's whole process group, the walk that `start` runs first with it: a walk
 * stopped by SIGINT halfway through journal.mdb was told as journal.mdb damaged ("LMDB aborted
 * reading it (SIGINT)", exit 65), and an operator who pressed Ctrl-C was told to restore it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { damageOfWalk } from '../../../src/cli/damaged-file.js';
import { ExitError } from '../../../src/cli/output.js';

const walking = 'walking /data/journal.mdb\n';

test('a walk stopped by a stop signal is no damage: the stop is said, 128 + its number', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    const r = { status: null, signal, stdout: walking };
    assert.throws(
      () => damageOfWalk('/data', r),
      (error: unknown) =>
        error instanceof ExitError &&
        error.exitCode === code &&
        error.message.startsWith(`stopped (${signal}) while checking the files of /data: `) &&
        /nothing was opened or changed/.test(error.message),
    );
  }
});

test('a walk that faulted on a file names it; one that read both finds nothing', () => {
  const aborted = damageOfWalk('/data', { status: null, signal: 'SIGABRT', stdout: walking });
  assert.deepEqual(aborted, {
    path: '/data/journal.mdb',
    how: 'LMDB aborted reading it (SIGABRT)',
  });
  const said = walking + 'error MDB_CORRUPTED: Located page was wrong type\n';
  const corrupt = damageOfWalk('/data', { status: 1, signal: null, stdout: said });
  assert.equal(corrupt?.how, 'LMDB says MDB_CORRUPTED: Located page was wrong type');
  const whole = damageOfWalk('/data', { status: 0, signal: null, stdout: walking + 'walked\n' });
  assert.equal(whole, null);
});
