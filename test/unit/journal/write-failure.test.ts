/**
 * A failed LMDB write becomes a StorageError that names what was written and why, with the exit
 * code an operator acts on; lmdb-js's deferred cause (commitError) is awaited, not left to end
 * the process as an unhandled rejection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { mountSmallDisk } from '../../harness/small-disk.js';
import {
  commitCause,
  exitCodeOf,
  StorageError,
  writeFailure,
} from '../../../src/journal/journal-errors.js';

function lmdbError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

test('a write that failed for the disk is named, with its sequence and exit code', () => {
  const cases: [Error, string, number, RegExp][] = [
    [lmdbError(28, 'No space left on device'), 'DATA_FULL', 74, /no space left on the disk/],
    [
      lmdbError(-30792, 'MDB_MAP_FULL: Environment mapsize limit reached'),
      'DATA_FULL',
      74,
      /no space/,
    ],
    [
      lmdbError(5, 'Input/output error'),
      'DATA_IO',
      74,
      /input\/output error \(the disk is full or failing\)/,
    ],
    [lmdbError(30, 'Read-only file system'), 'DATA_UNWRITABLE', 73, /read-only/],
  ];
  for (const [error, code, exit, message] of cases) {
    const failure = writeFailure(error, 'the journal batch at sequence 42', 42);
    assert.ok(failure instanceof StorageError, error.message);
    assert.equal(failure.code, code, error.message);
    assert.equal(failure.sequence, 42);
    assert.equal(exitCodeOf(failure.code), exit);
    assert.match(failure.message, /^cannot write the journal batch at sequence 42: /);
    assert.match(failure.message, message);
  }
  const other = new TypeError('not a disk problem');
  assert.equal(writeFailure(other, 'x'), other, 'anything else is passed on as it is');
  assert.equal(writeFailure('text', 'x').message, 'text');
});

test("lmdb-js's deferred commit error is awaited and its cause returned", async () => {
  const cause = lmdbError(5, 'Input/output error');
  const deferred = Promise.reject(cause);
  const wrapper = Object.assign(new Error('Commit failed (see commitError for details)'), {
    commitError: deferred,
  });
  assert.equal(await commitCause(wrapper), cause);
  const plain = new Error('plain');
  assert.equal(await commitCause(plain), plain);
  assert.equal(await commitCause(null), null);
});

test('an input/output error on a disk that is full is told as a full disk', () => {
  const disk = mountSmallDisk(4); // 4 MB: below what a node needs free (dataFreeBytesMin)
  try {
    const eio = lmdbError(5, 'Input/output error'); // LMDB's page spill that hit ENOSPC
    const full = writeFailure(eio, 'the journal batch at sequence 7', 7, disk.dir);
    assert.equal((full as StorageError).code, 'DATA_FULL');
    assert.match(full.message, /no space left on the disk \(\d+ bytes free in .*input\/output/);
    const roomy = writeFailure(eio, 'the journal batch at sequence 7', 7, tmpdir());
    assert.equal((roomy as StorageError).code, 'DATA_IO', 'room left: the disk is failing');
  } finally {
    disk.release();
  }
});
