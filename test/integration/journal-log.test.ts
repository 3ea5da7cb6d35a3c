/**
 * The journal writer's log in front of LMDB (src/pipeline/journal-log.ts): a batch is durable
 * once the log holds it, LMDB takes it after on the applier's thread. "A crash" here is LMDB
 * put back to an earlier mark (its last transactions undone, batches and mark together, as a
 * kill before they were written leaves it) with the log as it was: a start must replay the
 * records past the mark, cut a torn tail, and LMDB's mark must say where the log's records it
 * lacks begin. Each test fails on the code before the log (no journalLog option, no replay).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeBatch } from '../../src/journal/journal-codec.js';
import { StandbyLog, standbyLogFile } from '../../src/replication/standby-log.js';
import { batches, journal, lap, rewind } from '../harness/journal-log-folder.js';
import { lastSequenceOf } from '../../src/journal/journal-reader.js';
import { backup } from '../../src/cli/backup.js';
import { untilSnapshotterCaughtUp } from '../harness/journaled-folder.js';
import { NodeDriver, removeDir, tempDataDir } from '../harness/node-driver.js';
import { smallConfig } from '../harness/engine-driver.js';
import { workload } from '../harness/workload.js';
import { ProgressSlot } from '../../src/journal/journal-progress.js';

const logBytes = 256 * 1024; // small: the runs below wrap it
const options = (dir: string) => ({
  dataDir: dir,
  config: smallConfig,
  journalLog: true,
  journalLogBytes: logBytes,
});

/**
 * Makes `count` commands of `client` durable on `driver`, 100 at a time (a batch, a record
 * each, about 13 KB: 3,000 commands wrap the log); returns the last sequence.
 */
async function load(driver: NodeDriver, client: number, count: number): Promise<number> {
  const commands = workload(client, count, client);
  let last = driver.node.progress.get(ProgressSlot.sequenceDurable);
  for (let at = 0; at < count; at += 100) {
    const chunk = commands.slice(at, at + 100);
    await driver.submit(chunk);
    last += chunk.length;
    await driver.untilDurable(last);
  }
  return last;
}

/** Starts a node on `dir`, makes `count` commands of `client` durable, stops it. */
async function run(dir: string, client: number, count: number): Promise<number> {
  const driver = await NodeDriver.start(options(dir));
  try {
    return await load(driver, client, count);
  } finally {
    await driver.stop();
  }
}

test('a clean stop leaves LMDB holding every record: its mark is the log tail', async () => {
  const dir = tempDataDir();
  try {
    const last = await run(dir, 1, 3_000);
    const { firsts, mark } = journal(dir);
    assert.ok(mark.record > 1, 'the batches went through the log');
    assert.equal(StandbyLog.recordsPast(dir, mark), 0, 'no record past the mark');
    const marks = lap(dir, mark);
    const log = StandbyLog.openToRead(dir);
    const tail = log.readAt(marks[marks.length - 1]);
    log.close();
    assert.ok(tail !== null);
    assert.deepEqual(tail.after, mark, "the mark is right after the log's last record");
    const view = decodeBatch(tail.groups[0][0], true);
    assert.ok(typeof view !== 'string');
    assert.equal(view.firstSequence, firsts[firsts.length - 1], "LMDB's last batch is the log's");
    assert.ok(firsts[firsts.length - 1] <= last);
  } finally {
    removeDir(dir);
  }
});

test('the applier takes each batch from memory: no record read back from the file', async () => {
  const dir = tempDataDir();
  try {
    // A log (and so a hand-over) of 4 MiB: the 3,000 commands' ~400 KB never fill it.
    const driver = await NodeDriver.start({ ...options(dir), journalLogBytes: 4 << 20 });
    let last = 0;
    try {
      last = await load(driver, 1, 3_000);
    } finally {
      await driver.stop(); // the writer's close waits for the applier's last run
    }
    const progress = driver.node.progress;
    const { firsts, mark } = journal(dir);
    assert.equal(progress.get(ProgressSlot.journalLogFileReads), 0, 'no record read back');
    assert.equal(progress.get(ProgressSlot.journalLogHandedOver), mark.record - 1);
    assert.equal(progress.get(ProgressSlot.sequenceCommitted), last);
    assert.equal(firsts.length, mark.record - 1, 'a batch in LMDB per record');
    assert.equal(StandbyLog.recordsPast(dir, mark), 0);
    let next = 1;
    for (const batch of batches(dir)) {
      const view = decodeBatch(batch, true); // its SHA-256 too: the bytes the log holds
      assert.ok(typeof view !== 'string', 'LMDB holds each batch as written');
      assert.equal(view.firstSequence, next, 'the batches follow on');
      next = lastSequenceOf(view) + 1;
    }
    assert.equal(next, last + 1);
  } finally {
    removeDir(dir);
  }
});

test('a start replays the batches only the log holds, then goes on', async () => {
  const dir = tempDataDir();
  try {
    const last = await run(dir, 1, 3_000);
    const whole = journal(dir).firsts;
    const { first } = rewind(dir, 5);
    assert.ok(
      journal(dir).firsts.every((f) => f < first),
      'LMDB lacks the last records',
    );
    const driver = await NodeDriver.start(options(dir));
    try {
      assert.equal(driver.node.recovery.sequence, last, 'recovered to the last durable command');
      await load(driver, 2, 500);
    } finally {
      await driver.stop();
    }
    const after = journal(dir).firsts;
    assert.deepEqual(after.slice(0, whole.length), whole, 'the same batches, replayed');
    assert.equal(StandbyLog.recordsPast(dir, journal(dir).mark), 0);
  } finally {
    removeDir(dir);
  }
});

test('a torn last record is cut: never applied, the log goes on past it', async () => {
  const dir = tempDataDir();
  try {
    await run(dir, 1, 3_000);
    const { mark, first } = rewind(dir, 1);
    const fd = openSync(join(dir, standbyLogFile), 'r+');
    writeSync(fd, Buffer.alloc(64, 0xee), 0, 64, mark.offset + 40); // its body, half written
    closeSync(fd);
    const driver = await NodeDriver.start(options(dir));
    try {
      assert.equal(driver.node.recovery.sequence, first - 1, 'up to the record before');
      await load(driver, 2, 500);
    } finally {
      await driver.stop();
    }
    const { firsts, mark: after } = journal(dir);
    assert.ok(after.record > mark.record, 'the log went on from the torn record');
    assert.equal(StandbyLog.recordsPast(dir, after), 0);
    const restarted = await NodeDriver.start(options(dir));
    try {
      assert.equal(restarted.node.recovery.sequence, first - 1 + 500, 'nothing more replayed');
    } finally {
      await restarted.stop();
    }
    assert.deepEqual(journal(dir).firsts, firsts);
  } finally {
    removeDir(dir);
  }
});

test('with the log off, a log left by a run with it on is replayed, then removed', async () => {
  const dir = tempDataDir();
  try {
    const last = await run(dir, 1, 2_000);
    rewind(dir, 3);
    const driver = await NodeDriver.start({ ...options(dir), journalLog: false });
    try {
      assert.equal(driver.node.recovery.sequence, last);
    } finally {
      await driver.stop();
    }
    assert.equal(StandbyLog.recordsPast(dir, { record: 1, offset: 0 }), 0, 'no log file left');
  } finally {
    removeDir(dir);
  }
});

test("a node starts on a backup of a logged node: LMDB's copy, a new log", async () => {
  const dir = tempDataDir();
  const copy = join(tempDataDir(), 'copy');
  try {
    await run(dir, 1, 2_000);
    const { firsts } = journal(dir);
    await backup(dir, copy);
    const driver = await NodeDriver.start(options(copy));
    try {
      await load(driver, 2, 200);
    } finally {
      await driver.stop();
    }
    assert.deepEqual(journal(copy).firsts.slice(0, firsts.length), firsts);
  } finally {
    removeDir(dir);
    removeDir(dirname(copy));
  }
});

test('the snapshot due at the last batch is taken with no command after it', async () => {
  const dir = tempDataDir();
  try {
    // Its replica reaches the batch before LMDB holds it (the applier takes it moments after):
    // the snapshot, which names the batch's hash from LMDB, was put off to the next command.
    const driver = await NodeDriver.start({ ...options(dir), snapshotIntervalEvents: 100 });
    try {
      const end = await load(driver, 1, 100);
      await untilSnapshotterCaughtUp(driver, end, true);
      assert.ok(driver.node.snapshots.taken > 0);
    } finally {
      await driver.stop();
    }
  } finally {
    removeDir(dir);
  }
});
