/**
 * An LMDB file that ends before its last page: sound when the missing pages are ones LMDB never
 * wrote (a node killed after a transaction that freed pages left files 1 to 4 pages short),
 * refused when its B-trees reach a missing page (mapping it killed readers and writers with
 * SIGBUS, or SIGABRT for a partial page). The refusals are checked against what LMDB itself
 * does with the same file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkLmdbFile, fillShortLmdbFile } from '../../../src/journal/lmdb-meta.js';
import { openEnv } from '../../../src/journal/journal-db.js';
import { closeStorage, openStorage } from '../../../src/pipeline/node.js';
import { journalPageSizeBytes as pageSize } from '../../../src/constants.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';

const journalDbModule = fileURLToPath(
  new URL('../../../src/journal/journal-db.js', import.meta.url),
);
const valueBytes = 1_000_000; // an overflow run of 62 pages

/** A file of 200 small entries, then one 1 MB value in a transaction of its own. */
function makeFile(dir: string): string {
  const path = join(dir, 'journal.mdb');
  const root = openEnv(path, false, pageSize);
  const db = root.openDB<Buffer, Buffer>('journal', { keyEncoding: 'binary', encoding: 'binary' });
  db.transactionSync(() => {
    for (let i = 0; i < 200; i++) db.putSync(Buffer.from(`k${1000 + i}`), Buffer.alloc(300, i));
  });
  db.transactionSync(() => db.putSync(Buffer.from('z'), Buffer.alloc(valueBytes, 7)));
  root.close();
  return path;
}

/** Reads every entry, then writes one, in a process of its own: how it ended. */
function useWithLmdb(path: string): { status: number | null; signal: string | null } {
  const script =
    `const { openEnv } = await import(${JSON.stringify(journalDbModule)});` +
    `const root = openEnv(${JSON.stringify(path)}, false, ${pageSize});` +
    `const db = root.openDB('journal', { keyEncoding: 'binary', encoding: 'binary' });` +
    `let n = 0; for (const { value } of db.getRange({})) n += value.length;` +
    `db.transactionSync(() => db.putSync(Buffer.from('y'), Buffer.alloc(50000)));` +
    `root.close();`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script]);
  return { status: child.status, signal: child.signal };
}

/** The newest meta page's byte offset (the one with the higher txnid). */
function newestMeta(fd: number): number {
  const txn = (at: number): bigint => {
    const bytes = Buffer.alloc(8);
    readSync(fd, bytes, 0, 8, at + 152);
    return bytes.readBigUInt64LE(0);
  };
  return txn(pageSize) > txn(0) ? pageSize : 0;
}

/** The first page of the file's overflow run of `valueBytes`. */
function overflowStart(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(24);
    for (let pgno = 2; pgno * pageSize < statSync(path).size; pgno++) {
      readSync(fd, header, 0, 24, pgno * pageSize);
      const run = header.readUInt32LE(20);
      if ((header.readUInt16LE(18) & 0x04) !== 0 && run * pageSize >= valueBytes) return pgno;
    }
  } finally {
    closeSync(fd);
  }
  throw new Error('no overflow run');
}

function verdict(path: string): string {
  try {
    return checkLmdbFile(path, 'JOURNAL_CORRUPT', 'restore it');
  } catch (error) {
    return (error as Error).message;
  }
}

test('a file whose meta names 4 pages it never wrote is sound, and LMDB uses it', () => {
  const dir = tempDataDir();
  try {
    const path = makeFile(dir);
    // What a kill after a transaction that freed pages leaves: the newest meta's last page is
    // past the end of the file, and nothing reaches the pages between.
    const fd = openSync(path, 'r+');
    const at = newestMeta(fd) + 144;
    const last = Buffer.alloc(8);
    readSync(fd, last, 0, 8, at);
    last.writeBigUInt64LE(last.readBigUInt64LE(0) + 4n);
    writeSync(fd, last, 0, 8, at);
    closeSync(fd);
    assert.equal(verdict(path), 'sound'); // was refused: "cut short", more than 2 pages
    const copy = join(dir, 'copy.mdb');
    spawnSync('cp', [path, copy]);
    assert.deepEqual(useWithLmdb(path), { status: 0, signal: null });
    // The node's start fills such a file out to its last page: later checks need no walk.
    const short = statSync(copy).size;
    assert.equal(fillShortLmdbFile(copy), 4 * pageSize);
    assert.equal(statSync(copy).size, short + 4 * pageSize);
    assert.equal(fillShortLmdbFile(copy), 0, 'whole now');
    assert.equal(verdict(copy), 'sound');
    assert.deepEqual(useWithLmdb(copy), { status: 0, signal: null });
  } finally {
    removeDir(dir);
  }
});

test('a file cut by a page or inside a value: refused naming the page; LMDB died of it', () => {
  const dir = tempDataDir();
  try {
    const path = makeFile(dir);
    const size = statSync(path).size;
    const start = overflowStart(path);
    const cuts: [number, RegExp][] = [
      [size - pageSize, /, and page \d+, which its B-tree reaches, is past its end\)/],
      [size - 100, /, and page \d+, which its B-tree reaches, is past its end\)/],
      [(start + 10) * pageSize, new RegExp(`overflow pages ${start} to ${start + 61}, `)],
    ];
    for (const [cut, why] of cuts) {
      const copy = join(dir, `cut-${cut}.mdb`);
      spawnSync('cp', [path, copy]);
      truncateSync(copy, cut);
      assert.equal(fillShortLmdbFile(copy), 0, `cut to ${cut}: not filled out`);
      assert.equal(statSync(copy).size, cut);
      const said = verdict(copy);
      assert.match(said, /is damaged: it is cut short \(/, `cut to ${cut}`);
      assert.match(said, why, `cut to ${cut}`);
      const died = useWithLmdb(copy).signal ?? 'no signal';
      assert.match(died, /^SIG(BUS|ABRT)$/, `cut to ${cut}: what the check prevents`);
    }
  } finally {
    removeDir(dir);
  }
});

/**
 * Commits to `path` in a process of its own until killed: values of one to three overflow pages
 * (the file grows at each commit), and every few commits the oldest deleted (pages freed, then
 * reused). Resolves once it has committed.
 */
async function liveWriter(path: string): Promise<ChildProcess> {
  const script =
    `const { openEnv } = await import(${JSON.stringify(journalDbModule)});` +
    `const root = openEnv(${JSON.stringify(path)}, false, ${pageSize});` +
    `const db = root.openDB('journal', { keyEncoding: 'binary', encoding: 'binary' });` +
    `const key = (i) => { const k = Buffer.alloc(8); k.writeUInt32BE(i, 4); return k; };` +
    `for (let i = 0; ; i++) {` +
    `  db.transactionSync(() => {` +
    `    db.putSync(key(i), Buffer.alloc(20000 + (i % 3) * 16000, i));` +
    `    if (i % 4 === 3 && i >= 40) db.removeSync(key(i - 40));` +
    `  });` +
    `  if (i === 50) process.stdout.write('up\\n');` +
    `}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`the writer exited (${String(code)}) before it committed`);
  });
  await Promise.race([once(child.stdout!, 'data'), exited]);
  return child;
}

test('a file another process commits to is never refused while it is written', async () => {
  const dir = tempDataDir();
  const path = join(dir, 'journal.mdb');
  const writer = await liveWriter(path);
  try {
    // A member's workers and snapshot tasks open the journal while it is written: a commit
    // between the check's size and its meta read refused it as "cut short" (77 of 256,000
    // checks in 3 s, one member of a failover drill left down).
    const refusals: string[] = [];
    let checks = 0;
    const end = performance.now() + 2_000;
    while (performance.now() < end) {
      const said = verdict(path);
      checks++;
      if (said !== 'sound') refusals.push(said);
    }
    assert.ok(checks > 1_000, `${checks} checks`);
    assert.deepEqual(refusals.slice(0, 3), [], `${refusals.length} of ${checks} refused`);
  } finally {
    writer.kill('SIGKILL');
    await once(writer, 'exit');
    removeDir(dir);
  }
});

test("a node's start fills out its short but sound journal.mdb (its lock held)", async () => {
  const dir = tempDataDir();
  try {
    const first = openStorage(dir);
    await closeStorage(first.db, first.lock);
    const path = join(dir, 'journal.mdb');
    const fd = openSync(path, 'r+');
    const at = newestMeta(fd) + 144;
    const last = Buffer.alloc(8);
    readSync(fd, last, 0, 8, at);
    last.writeBigUInt64LE(last.readBigUInt64LE(0) + 2n); // 2 pages never written
    writeSync(fd, last, 0, 8, at);
    closeSync(fd);
    const size = statSync(path).size;
    const again = openStorage(dir);
    await closeStorage(again.db, again.lock);
    assert.ok(statSync(path).size >= size + 2 * pageSize, 'filled out to its last page');
  } finally {
    removeDir(dir);
  }
});
