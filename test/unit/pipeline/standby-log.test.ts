/**
 * A standby's log in front of LMDB (src/replication/standby-log.ts, standby-log-replay.ts,
 * group-commit.ts with a log). A group is acknowledged once the log holds it; LMDB takes it
 * afterwards. "A crash" here is a close with records the log holds and LMDB does not: a start
 * (openStandbyLog) must replay them, in order (each group's cut with it), cut a torn tail, and
 * find a record written after a wrap at offset 0. Each test fails without the replay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync, existsSync, writeSync, ftruncateSync } from 'node:fs';
import { readFileSync, rmSync, statfsSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { closeJournalDb, keySequence, openJournalDb } from '../../../src/journal/journal-db.js';
import { decodeBatch, genesisHash } from '../../../src/journal/journal-codec.js';
import { backup } from '../../../src/cli/backup.js';
import { GroupCommit, openStandbyLog } from '../../../src/pipeline/group-commit.js';
import { ReplicaStore } from '../../../src/replication/replica-store.js';
import { StandbyLog, standbyLogFile } from '../../../src/replication/standby-log.js';
import type { Entry } from '../../../src/replication/messages.js';
import { entryChain as chain } from '../../harness/log-entries.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';
import { mountSmallDisk } from '../../harness/small-disk.js';

const genesis = Buffer.from(genesisHash).toString('hex');
const options = (dir: string, bytes?: number) => ({
  id: 1,
  dataDir: dir,
  standbyLog: true,
  standbyLogBytes: bytes,
});

/** The journal as "first:term" in key order, and the stored commit, from a fresh open. */
function journal(dir: string): { batches: string[]; committed: number } {
  const db = openJournalDb(dir, { create: false, readOnly: true });
  try {
    const batches: string[] = [];
    for (const { key, value } of db.journal.getRange({})) {
      const view = decodeBatch(value, true);
      assert.notEqual(typeof view, 'string', 'every stored batch checks');
      batches.push(`${keySequence(key)}:${(view as { term: number }).term}`);
    }
    return { batches, committed: new ReplicaStore(db).loadCommitted() };
  } finally {
    void closeJournalDb(db);
  }
}

/** Opens the folder as a member's start does: the log replayed; returns what it said. */
async function start(dir: string, bytes?: number): Promise<string[]> {
  const said: string[] = [];
  const db = openJournalDb(dir, { create: true, readOnly: false });
  const store = new ReplicaStore(db);
  const log = openStandbyLog(store, options(dir, bytes), (line) => said.push(line));
  log?.close();
  await closeJournalDb(db);
  return said;
}

/** Appends each group as one record to the folder's log, as if LMDB never took them. */
async function logOnly(dir: string, records: Entry[][][], bytes?: number): Promise<StandbyLog> {
  const { db, log } = opened(dir, bytes);
  for (const writes of records) await log.append(writes, writes[0][0].first + 1);
  await closeJournalDb(db);
  return log;
}

/** A folder opened as a member's start opens it, the log replayed (what it said is dropped). */
function opened(dir: string, bytes?: number) {
  const db = openJournalDb(dir, { create: true, readOnly: false });
  const store = new ReplicaStore(db);
  const log = openStandbyLog(store, options(dir, bytes), () => {}) as StandbyLog;
  return { db, store, log };
}

/** A group commit on `log`; `stored` gets each index it acknowledges. */
function commitOn(store: ReplicaStore, log: StandbyLog, stored: number[]): GroupCommit {
  return new GroupCommit(store, log, {
    stored: (index) => stored.push(index),
    failed: (error) => assert.fail(error),
    committedSequence: () => 0,
    stopped: () => false,
    writing: () => {},
  });
}

/** Resolves once the group commit acknowledged `index`. */
async function acked(stored: number[], index: number): Promise<void> {
  while (stored.at(-1) !== index) await new Promise((resolve) => setImmediate(resolve));
}

test('a restart replays what only the log holds; a torn tail is cut, never applied', async () => {
  const dir = tempDataDir();
  try {
    const a = chain(1, 3, 1, genesis); // sequences 1-6
    const b = chain(7, 2, 1, a[2].hash); // 7-10
    const c = chain(11, 2, 1, b[1].hash); // 11-14: torn
    const log = await logOnly(dir, [[a], [b], [c]]);
    const tornAt = log.next.offset - 10;
    log.close();
    const fd = openSync(join(dir, standbyLogFile), 'r+');
    writeSync(fd, Buffer.from('torn'), 0, 4, tornAt); // the crash came during its write
    closeSync(fd);
    const said = await start(dir);
    assert.match(said.join('\n'), /2 records replayed/);
    const batches = ['1:1', '3:1', '5:1', '7:1', '9:1'];
    assert.deepEqual(journal(dir), { batches, committed: 8 });
    // The log goes on after the cut tail: a record written now is replayed by the next start.
    const d = chain(11, 1, 1, b[1].hash);
    (await logOnly(dir, [[d]])).close();
    assert.match((await start(dir)).join('\n'), /1 records replayed/);
    assert.deepEqual(journal(dir).batches, [...batches, '11:1']);
    assert.deepEqual(await start(dir), [], 'each record replayed once');
  } finally {
    removeDir(dir);
  }
});

test('a start with the log off replays a log left by a run with it on, removes it', async () => {
  const dir = tempDataDir();
  try {
    (await logOnly(dir, [[chain(1, 2, 1, genesis)]])).close();
    const db = openJournalDb(dir, { create: true, readOnly: false });
    const off = { ...options(dir), standbyLog: false };
    const said: string[] = [];
    assert.equal(
      openStandbyLog(new ReplicaStore(db), off, (line) => said.push(line)),
      null,
    );
    await closeJournalDb(db);
    assert.match(said.join('\n'), /1 records replayed/);
    assert.deepEqual(journal(dir).batches, ['1:1', '3:1']);
    assert.equal(existsSync(join(dir, standbyLogFile)), false);
  } finally {
    removeDir(dir);
  }
});

test('a log removed by hand stops the start, one a start removed does not', async () => {
  const dir = tempDataDir();
  try {
    const a = chain(1, 2, 1, genesis);
    (await logOnly(dir, [[a]])).close();
    assert.deepEqual(journal(dir).batches, [], 'only the log holds them');
    const path = join(dir, standbyLogFile);
    const kept = readFileSync(path);
    rmSync(path); // by hand: what only the log held would be gone without a word
    await assert.rejects(start(dir), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'JOURNAL_CORRUPT');
      assert.match(error.message, /is missing, and the journal says member 1 made it/);
      return true;
    });
    assert.equal(existsSync(path), false, 'no new log made in its place');
    writeFileSync(path, kept); // put back: it is replayed
    const db = openJournalDb(dir, { create: true, readOnly: false });
    const off = { ...options(dir), standbyLog: false };
    assert.equal(
      openStandbyLog(new ReplicaStore(db), off, () => {}),
      null,
    );
    await closeJournalDb(db);
    assert.equal(existsSync(path), false, 'the start with the log off removed it');
    assert.deepEqual(await start(dir), [], 'on again: a new log, no refusal');
    assert.deepEqual(journal(dir).batches, ['1:1', '3:1']);
    rmSync(path); // the new one, by hand: refused again (it may have held acknowledged groups)
    await assert.rejects(start(dir), /is missing/);
  } finally {
    removeDir(dir);
  }
});

/**
 * A damaged mark in LMDB stops the start with the folder and what to do: it said only the
 * mark's value ("... is \"x y\", not a record and an offset"), no folder and no way out.
 */
test('a damaged mark stops the start, naming the folder and what to do', async () => {
  const dir = tempDataDir();
  try {
    (await logOnly(dir, [[chain(1, 2, 1, genesis)]])).close();
    const db = openJournalDb(dir, { create: false, readOnly: false });
    db.meta.putSync('standby-log', 'x y');
    await closeJournalDb(db);
    const log = readFileSync(join(dir, standbyLogFile));
    await assert.rejects(start(dir), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'JOURNAL_CORRUPT');
      assert.match(error.message, /^the standby log's mark \(meta 'standby-log'\) is "x y", /);
      assert.match(error.message, new RegExp(`not a record and an offset, in ${dir}: `));
      assert.match(error.message, /may hold entries member 1 acknowledged/);
      assert.match(error.message, /Start member 1 on an empty folder \(it catches up from the/);
      return true;
    });
    assert.deepEqual(readFileSync(join(dir, standbyLogFile)), log, 'the log as it was');
  } finally {
    removeDir(dir);
  }
});

test('a cut in the log (a new primary replaced the tail) stays cut after a restart', async () => {
  const dir = tempDataDir();
  try {
    const { db, store, log } = opened(dir);
    const old = chain(1, 4, 1, genesis); // 1-8, term 1
    const after = await log.append([old], 0);
    await store.writeMany([old], 0, after); // LMDB took it, and its mark moved
    const cut = chain(5, 1, 2, old[1].hash); // term 2 from 5: 5-8 of term 1 are cut
    await log.append([cut], 6); // the crash comes before LMDB takes it
    log.close();
    await closeJournalDb(db);
    assert.match((await start(dir)).join('\n'), /1 records replayed/);
    assert.deepEqual(journal(dir), { batches: ['1:1', '3:1', '5:2'], committed: 6 });
    assert.deepEqual(await start(dir), []);
    assert.deepEqual(journal(dir).batches, ['1:1', '3:1', '5:2'], 'the cut entries stay gone');
  } finally {
    removeDir(dir);
  }
});

test('a record written after a wrap is found at offset 0', async () => {
  const dir = tempDataDir();
  const bytes = 4_096;
  try {
    const { db, store, log } = opened(dir, bytes);
    let prev = genesis;
    let first = 1;
    let mark = log.next;
    for (;;) {
      const e = chain(first, 1, 1, prev);
      if (!log.fits(StandbyLog.sizeOf([e]))) break;
      mark = await log.append([e], 0);
      await store.writeMany([e], 0, mark);
      [prev, first] = [e[0].hash, first + 2];
    }
    log.wrap(); // LMDB holds every record (its mark says the tail, near the file's end)
    const e = chain(first, 1, 1, prev);
    await log.append([e], 0);
    log.close();
    await closeJournalDb(db);
    assert.match((await start(dir, bytes)).join('\n'), /1 records replayed/);
    assert.equal(journal(dir).batches.at(-1), `${first}:1`);
  } finally {
    removeDir(dir);
  }
});

test('groups acknowledged from the log; drain puts all in LMDB; a restart the rest', async () => {
  const dir = tempDataDir();
  try {
    const { db, store, log } = opened(dir, 8_192);
    const stored: number[] = [];
    const commit = commitOn(store, log, stored);
    const all = chain(1, 40, 1, genesis); // ~40 records of ~1 KB: the 8 KB log wraps
    for (let k = 0; k < all.length; k++) {
      commit.add([all[k]], k + 1);
      if (k % 3 === 2) await new Promise((resolve) => setImmediate(resolve));
    }
    await commit.drain(); // as a promotion does: the workers then read LMDB
    assert.equal(stored.at(-1), 40);
    assert.equal(commit.appliedBelow, Number.POSITIVE_INFINITY);
    assert.equal(db.journal.getKeysCount(), 40);
    // LMDB stops taking writes (the crash comes before it does): the log acknowledges alone.
    Object.assign(store, { writeMany: () => new Promise(() => {}) });
    const more = chain(81, 5, 1, all[39].hash);
    for (let k = 0; k < more.length; k++) commit.add([more[k]], 41 + k);
    await acked(stored, 45);
    assert.notEqual(commit.appliedBelow, Number.POSITIVE_INFINITY, 'LMDB lacks them');
    log.close();
    log.close(); // a second stop closes nothing (the number may be another file's by then)
    await closeJournalDb(db);
    assert.match((await start(dir, 8_192)).join('\n'), /records replayed/);
    assert.equal(journal(dir).batches.length, 45);
  } finally {
    removeDir(dir);
  }
});

test('a record the disk takes part of is not acknowledged (sparse log, full disk)', async () => {
  // A log whose zeros are not all on disk (copied sparse, rsync -S, to move the folder; or a
  // copy-on-write file system): a full disk takes part of a write. pwrite then says how much
  // it wrote, with no error; the append acknowledged the whole record, torn on disk, and the
  // next start's replay stopped there: acknowledged entries gone.
  const disk = mountSmallDisk(1);
  try {
    const fd = openSync(join(disk.dir, standbyLogFile), 'w');
    ftruncateSync(fd, 256 << 10); // the log's size, its blocks not allocated
    closeSync(fd);
    const { bavail, bsize } = statfsSync(disk.dir);
    writeFileSync(join(disk.dir, 'filler'), Buffer.alloc(bavail * bsize - 8_192));
    const log = StandbyLog.open(disk.dir);
    assert.equal(log.fileBytes, 256 << 10);
    const group = chain(1, 200, 1, genesis); // ~20 KB: the disk takes 8 KB of it
    assert.ok(StandbyLog.sizeOf([group]) > 16_384);
    await assert.rejects(log.append([group], 0), /ENOSPC/);
    assert.deepEqual(log.next, { record: 1, offset: 0 }, 'the tail stays');
    log.close();
  } finally {
    disk.release();
  }
});

test('the log used again after a primary stint: records, numbers and mark go on', async () => {
  // Promoted (drain), the member journals as primary straight into LMDB, the log untouched;
  // a restart then, or a demotion (its unproposed tail cut) and more records from the log, a
  // crash before LMDB takes them: a start replays those only, the primary's batches kept, the
  // cut tail never back.
  const dir = tempDataDir();
  try {
    const a = chain(1, 3, 1, genesis); // 1-6
    const c = chain(7, 2, 2, a[2].hash); // 7-10: its own, as primary
    const d = chain(11, 2, 2, c[1].hash); // 11-14: journaled, never proposed
    let db = openJournalDb(dir, { create: true, readOnly: false });
    let store = new ReplicaStore(db);
    let log = openStandbyLog(store, options(dir), () => {}) as StandbyLog;
    const standby = commitOn(store, log, []);
    standby.add(a, 3);
    await standby.drain(); // promoted
    const mark = log.next;
    await store.writeMany([c, d], 10); // the primary's writer: LMDB alone, no mark
    log.close();
    await closeJournalDb(db); // a crash as primary
    assert.deepEqual(await start(dir), [], 'nothing to replay');
    assert.equal(journal(dir).batches.length, 7, "the primary's batches kept");
    db = openJournalDb(dir, { create: true, readOnly: false });
    store = new ReplicaStore(db);
    log = openStandbyLog(store, options(dir), () => {}) as StandbyLog;
    assert.equal(log.next.record, mark.record, 'its numbers go on');
    store.truncateAfter(10); // demoted: 11-14 never proposed
    const stored: number[] = [];
    const again = commitOn(store, log, stored);
    Object.assign(store, { writeMany: () => new Promise(() => {}) }); // LMDB stalls
    const e = chain(11, 1, 3, c[1].hash); // 11-12, the new primary's
    again.add(e, 6);
    await acked(stored, 6);
    log.close();
    await closeJournalDb(db); // the crash
    assert.match((await start(dir)).join('\n'), /1 records replayed/);
    assert.deepEqual(journal(dir).batches, ['1:1', '3:1', '5:1', '7:2', '9:2', '11:3']);
  } finally {
    removeDir(dir);
  }
});

test('a group too large for the log goes to LMDB in turn; a crash after loses none', async () => {
  const dir = tempDataDir();
  try {
    const { db, store, log } = opened(dir, 8_192);
    const stored: number[] = [];
    const commit = commitOn(store, log, stored);
    const small = chain(1, 3, 1, genesis); // 1-6: a record
    const large = chain(7, 100, 1, small[2].hash); // 7-206: ~11 KB, more than the 8 KB log
    assert.ok(StandbyLog.sizeOf([large]) > 8_192);
    const cut = chain(201, 2, 2, large[96].hash); // 201-204 of term 2: cuts 201-206
    commit.add(small, 3);
    await acked(stored, 3);
    commit.add(large, 103);
    await acked(stored, 103);
    Object.assign(store, { writeMany: () => new Promise(() => {}) }); // LMDB stalls
    commit.add(cut, 100);
    await acked(stored, 100);
    log.close();
    await closeJournalDb(db); // the crash
    assert.match((await start(dir, 8_192)).join('\n'), /1 records replayed/);
    const batches = journal(dir).batches;
    assert.equal(batches.length, 3 + 97 + 2);
    assert.deepEqual(batches.slice(-3), ['199:1', '201:2', '203:2']);
  } finally {
    removeDir(dir);
  }
});

test('a log shortened under its records (truncated) stops the start: no torn tail', async () => {
  for (const where of ['below the mark', 'inside the record after it']) {
    const dir = tempDataDir();
    try {
      const { db, store, log } = opened(dir);
      const a = chain(1, 3, 1, genesis);
      const mark = await log.append([a], 0);
      await store.writeMany([a], 0, mark); // LMDB took it
      const b = chain(7, 2, 1, a[2].hash); // acknowledged from the log alone: the crash
      const end = await log.append([b], 0);
      log.close();
      await closeJournalDb(db);
      const size = where === 'below the mark' ? mark.offset - 100 : end.offset - 10;
      truncateSync(join(dir, standbyLogFile), size);
      await assert.rejects(start(dir), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'JOURNAL_CORRUPT', where);
        assert.match(error.message, /shortened under its records/);
        return true;
      });
      assert.deepEqual(journal(dir).batches, ['1:1', '3:1', '5:1'], 'nothing cut or added');
    } finally {
      removeDir(dir);
    }
  }
});

test("an old lap's whole record at the mark (its number not in turn) is not taken", async () => {
  const dir = tempDataDir();
  try {
    // Run 1: records 1-3 of one size, LMDB took them; run 2 (a restart: the tail at 0) writes
    // record 4 of that size at 0, LMDB takes it: its mark (5, at the end of record 4) is where
    // run 1's record 2 lies, whole, its header plausible but for its number.
    const a = chain(1, 3, 1, genesis);
    for (const run of [a, []]) {
      const { db, store, log } = opened(dir);
      for (const e of run) await store.writeMany([[e]], 0, await log.append([[e]], 0));
      log.close();
      await closeJournalDb(db);
    }
    const { db, store, log } = opened(dir);
    const d = chain(7, 1, 1, a[2].hash); // the size of each of run 1's
    const mark = await log.append([d], 0);
    await store.writeMany([d], 0, mark);
    assert.equal(mark.offset, StandbyLog.sizeOf([d]), "at run 1's record 2");
    log.close();
    await closeJournalDb(db);
    assert.deepEqual(await start(dir), [], 'record 2 not taken for record 5');
    assert.deepEqual(journal(dir).batches, ['1:1', '3:1', '5:1', '7:1']);
  } finally {
    removeDir(dir);
  }
});

test("a wrap: the new lap's first record torn at 0 is not taken", async () => {
  const dir = tempDataDir();
  try {
    const { db, store, log } = opened(dir, 4_096); // filled, LMDB holds all, then a wrap
    let prev = genesis;
    let first = 1;
    for (let e = chain(first, 1, 1, prev); log.fits(StandbyLog.sizeOf([e]));) {
      await store.writeMany([e], 0, await log.append([e], 0));
      [prev, first] = [e[0].hash, first + 2];
      e = chain(first, 1, 1, prev);
    }
    log.wrap();
    await log.append([chain(first, 1, 1, prev)], 0);
    log.close();
    await closeJournalDb(db);
    const fd = openSync(join(dir, standbyLogFile), 'r+');
    writeSync(fd, Buffer.from('torn'), 0, 4, 40); // the crash during its write
    closeSync(fd);
    assert.deepEqual(await start(dir, 4_096), [], 'the torn record not taken');
    assert.equal(journal(dir).batches.at(-1), `${first - 2}:1`);
  } finally {
    removeDir(dir);
  }
});

test('bourse backup says how many records the copy lacks that the log holds', async () => {
  // The copy is LMDB's: a member killed with records LMDB had not taken holds them only in
  // its log until its next start. The backup said "through sequence 6" and nothing of them.
  const dir = tempDataDir();
  const to = join(tempDataDir(), 'copy');
  try {
    const { db, store, log } = opened(dir);
    const a = chain(1, 3, 1, genesis);
    await store.writeMany([a], 0, await log.append([a], 0));
    const b = chain(7, 2, 1, a[2].hash);
    await log.append([b], 0); // acknowledged from the log; killed before LMDB took it
    await log.append([chain(11, 1, 1, b[1].hash)], 0);
    log.close();
    await closeJournalDb(db);
    const copied = await backup(dir, to);
    assert.equal(copied.sequence, 6);
    assert.equal(copied.standbyLog.records, 2, 'the records past the copy said');
    assert.equal(StandbyLog.recordsPast(to, { record: 1, offset: 0 }), 0, 'no log in the copy');
    assert.match((await start(dir)).join('\n'), /2 records replayed/);
    assert.equal((await backup(dir, `${to}-after`)).standbyLog.records, 0);
  } finally {
    removeDir(dir);
    removeDir(dirname(to));
  }
});
