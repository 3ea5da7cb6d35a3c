/**
 * A hot standby's group commit through its writer thread (standby-writer.ts): a group is
 * reported stored only once its transaction, fsync included, has returned in that thread. A
 * write that fails (a full disk) or a thread that dies is reported as the group commit's
 * failure, with the cause writeFailure names, and nothing in flight or after is reported
 * stored: the member must not ack or vote (cluster-node.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeJournalDb, keySequence, openJournalDb } from '../../../src/journal/journal-db.js';
import { StorageError, writeFailure } from '../../../src/journal/journal-errors.js';
import { GroupCommit, type GroupCommitSink } from '../../../src/pipeline/group-commit.js';
import { StandbyWriter } from '../../../src/pipeline/standby-writer.js';
import type { Entry } from '../../../src/replication/messages.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';
import { mountSmallDisk } from '../../harness/small-disk.js';

function entry(first: number, bytes: number): Entry {
  const payload = Buffer.alloc(bytes, first % 251);
  return { term: 1, first, last: first, count: 1, prevHash: '', hash: `h${first}`, payload };
}

/** A group commit into `dir` through a writer thread, and what it reported. */
async function groupCommitIn(dir: string, onWriting: (writer: StandbyWriter) => void = () => {}) {
  // The member's folder exists before its writer opens it (ClusterNode: openStorage first).
  const db = openJournalDb(dir, { create: true, readOnly: false });
  await db.root.committed;
  await db.root.flushed;
  await closeJournalDb(db);
  const writer = new StandbyWriter(dir);
  await writer.ready;
  const stored: number[] = [];
  let reportFailure: (error: Error) => void = () => {};
  const failure = new Promise<Error>((resolve) => (reportFailure = resolve));
  let failures = 0;
  const sink: GroupCommitSink = {
    stored: (index) => void stored.push(index),
    failed: (error) => {
      failures++;
      reportFailure(error);
    },
    committedSequence: () => 0,
    stopped: () => false,
    writing: () => onWriting(writer),
  };
  return {
    writer,
    commit: new GroupCommit(writer, sink),
    stored,
    failure,
    failures: () => failures,
  };
}

/** The first sequences stored in `dir`, read from a fresh open. */
async function storedIn(dir: string): Promise<number[]> {
  const db = openJournalDb(dir, { create: false, readOnly: true });
  try {
    return [...db.journal.getKeys({})].map((key) => keySequence(key as Buffer));
  } finally {
    await closeJournalDb(db);
  }
}

test('each group is reported stored once it is on disk, in order', async () => {
  const dir = tempDataDir();
  try {
    const { writer, commit, stored, failures } = await groupCommitIn(dir);
    for (let i = 1; i <= 20; i++) commit.add([entry(i, 1_300)], i);
    await commit.drain();
    assert.equal(stored[stored.length - 1], 20, 'everything reported stored');
    assert.deepEqual(
      stored,
      [...stored].sort((a, b) => a - b),
      'in order',
    );
    assert.equal(failures(), 0);
    await writer.close();
    const keys = await storedIn(dir);
    assert.deepEqual(
      keys,
      Array.from({ length: 20 }, (_, i) => i + 1),
      'all of it on disk',
    );
  } finally {
    removeDir(dir);
  }
});

test('a writer thread that dies is reported; the write it had is never acknowledged', async () => {
  const dir = tempDataDir();
  try {
    let ended = false;
    const end = (writer: StandbyWriter): void => {
      if (ended) return;
      ended = true;
      void writer.thread.terminate(); // as the write is handed over
    };
    const { writer, commit, stored, failure, failures } = await groupCommitIn(dir, end);
    commit.add([entry(1, 1_300)], 1);
    const error = await failure;
    assert.match(error.message, /standby writer: exited/);
    assert.deepEqual(stored, [], 'nothing reported stored');
    assert.equal(commit.failed, true);
    commit.add([entry(2, 1_300)], 2); // a member that failed writes nothing more
    await commit.drain();
    await assert.rejects(writer.writeMany([[entry(3, 1_300)]], 0), /standby writer: exited/);
    assert.deepEqual(stored, []);
    assert.equal(failures(), 1, 'reported once');
    await writer.close();
  } finally {
    removeDir(dir);
  }
});

test('a full disk fails the write in its thread: DATA_FULL reported, nothing after', async () => {
  const disk = mountSmallDisk(4);
  try {
    const { writer, commit, stored, failure, failures } = await groupCommitIn(disk.dir);
    let index = 0;
    const feed = setInterval(() => {
      for (let k = 0; k < 4; k++) {
        index++;
        commit.add([entry(index, 64_000)], index);
      }
    }, 1);
    const error = await failure;
    clearInterval(feed);
    await commit.drain();
    const named = writeFailure(error, 'replicated batches', -1, disk.dir);
    assert.ok(named instanceof StorageError, error.message);
    assert.equal(named.code, 'DATA_FULL', named.message);
    assert.equal(failures(), 1);
    await writer.close();
    // Every index reported stored is on disk (a write reported is durable); none after.
    const last = stored.length === 0 ? 0 : stored[stored.length - 1];
    const keys = new Set(await storedIn(disk.dir));
    for (let i = 1; i <= last; i++) assert.ok(keys.has(i), `entry ${i} reported and on disk`);
    assert.ok(last < index, 'the failed write was not reported');
  } finally {
    disk.release();
  }
});
