/**
 * Damaged storage files in a data folder made by a real node: journal.mdb or snapshots.mdb cut
 * short or overwritten, journal.mdb lost beside its snapshots. Each is refused with its exit
 * code and a message naming the file (LMDB mapped past the end of a cut file: SIGBUS, exit 135;
 * garbage over a meta page: SIGSEGV, 139), and nothing is written.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, readFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import { truncateSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { open } from 'lmdb';
import { runBourse, type CliRun } from '../harness/bourse-cli.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { journaledFolder } from '../harness/journaled-folder.js';
import { smallConfig } from '../harness/engine-driver.js';
import {
  closeJournalDb,
  dataFile,
  openEnv,
  openJournalDb,
  snapshotFile,
  storeConfig,
} from '../../src/journal/journal-db.js';
import { listSnapshots } from '../../src/journal/snapshot-store.js';
import { journalPageSizeBytes, schemaVersion, snapshotPageSizeBytes } from '../../src/constants.js';

function bourse(...args: string[]): CliRun {
  return runBourse(args);
}

let made: Promise<string> | null = null;

/**
 * A folder with 3,000 commands journaled and at least one snapshot taken, made by a real node
 * once for every test here (a node run each took seconds): each test damages a copy of it.
 */
function madeFolder(): Promise<string> {
  made ??= journaledFolder({ count: 3_000, chunk: 500, snapshotEvents: 1_000, pauseMs: 0 });
  return made;
}

after(async () => {
  if (made !== null) removeDir(await made);
});

/** Every file of `dir` with its bytes, to show that nothing was written. */
function contents(dir: string): Map<string, Buffer> {
  const files = readdirSync(dir).filter((name) => !name.endsWith('-lock'));
  return new Map(files.map((name) => [name, readFileSync(join(dir, name))]));
}

const tools = ['start', 'replay', 'verify', 'inspect'] as const;

function run(tool: (typeof tools)[number], dir: string): { code: number; err: string } {
  return tool === 'start'
    ? bourse(tool, '--data', dir, '--port', '0')
    : bourse(tool, '--data', dir);
}

test('a journal.mdb cut short or overwritten: exit 65 naming it, for every tool', async () => {
  const made = await madeFolder();
  const dir = tempDataDir();
  try {
    const size = statSync(dataFile(made)).size;
    const damages: [string, (file: string) => void, RegExp][] = [
      ['cut to 64 KB', (f) => truncateSync(f, 65_536), /cut short \(65536 bytes; its last page/],
      ['cut to half', (f) => truncateSync(f, Math.floor(size / 2)), /cut short/],
      ['random bytes over its first 32 KB', overwrite(0), /first meta page has no LMDB magic/],
      ['random bytes over its second meta page', overwrite(16_384), /second meta page/],
    ];
    for (const [what, damage, why] of damages) {
      removeDir(dir);
      cpSync(made, dir, { recursive: true });
      damage(dataFile(dir));
      const before = contents(dir);
      for (const tool of tools) {
        const r = run(tool, dir);
        assert.equal(r.code, 65, `${what}, ${tool}: exit ${r.code} ${r.err}`);
        assert.match(r.err, new RegExp(`${dataFile(dir)} is damaged: `), `${what}, ${tool}`);
        assert.match(r.err, why, `${what}, ${tool}`);
        assert.match(r.err, /restore journal\.mdb from a backup/);
      }
      assert.deepEqual(contents(dir), before, `${what}: nothing written`);
    }
  } finally {
    removeDir(dir);
  }
});

/** Writes 16 KB of random bytes at `offset` of a file. */
function overwrite(offset: number): (file: string) => void {
  return (file) => {
    const bytes = readFileSync(file);
    randomBytes(offset === 0 ? 32_768 : 16_384).copy(bytes, offset);
    writeFileSync(file, bytes);
  };
}

test('a damaged snapshots.mdb: start refuses it (65); replay, inspect never open it', async () => {
  const made = await madeFolder();
  const dir = tempDataDir();
  try {
    for (const [what, damage] of [
      ['cut short', (f: string) => truncateSync(f, 131_072)],
      ['random bytes over its meta pages', overwrite(0)],
    ] as const) {
      removeDir(dir);
      cpSync(made, dir, { recursive: true });
      damage(snapshotFile(dir));
      const before = contents(dir);
      for (const tool of ['start', 'verify'] as const) {
        const r = run(tool, dir);
        assert.equal(r.code, 65, `${what}, ${tool}: exit ${r.code} ${r.err}`);
        assert.match(r.err, new RegExp(`${snapshotFile(dir)} is damaged: `));
        assert.match(r.err, /move snapshots\.mdb away and the node starts from the journal/);
      }
      const replay = bourse('replay', '--data', dir, '--to-seq', '100');
      assert.equal(replay.code, 0, `${what}, replay: exit ${replay.code} ${replay.err}`);
      assert.match(replay.out, /state at sequence 100 /);
      const inspect = bourse('inspect', '--data', dir, '--from-seq', '5', '--count', '2');
      assert.equal(inspect.code, 0, `${what}, inspect: exit ${inspect.code} ${inspect.err}`);
      assert.match(inspect.out, /^ {2}#5 /m);
      assert.deepEqual(contents(dir), before, `${what}: nothing written`);
    }
    // As the message says: moved away, the node starts from the journal alone.
    renameSync(snapshotFile(dir), join(dir, 'snapshots.mdb.damaged'));
    const verified = bourse('verify', '--data', dir);
    assert.equal(verified.code, 0, verified.err); // no snapshots.mdb: nothing to check (was 66)
  } finally {
    removeDir(dir);
  }
});

test('a journal lost beside its snapshots: start, replay and inspect refuse (65)', async () => {
  const made = await madeFolder();
  const dir = tempDataDir();
  try {
    const newest = newestSnapshot(made);
    assert.ok(newest > 0, 'the node took a snapshot');
    const losses: [string, (d: string) => void, string][] = [
      ['missing', (d) => removeDir(dataFile(d)), 'is missing'],
      ['an empty file', (d) => writeFileSync(dataFile(d), ''), 'is empty'],
      ['a new journal', (d) => newJournal(d), 'holds no batch'],
    ];
    for (const [what, lose, how] of losses) {
      removeDir(dir);
      cpSync(made, dir, { recursive: true });
      lose(dir);
      const before = contents(dir);
      for (const tool of ['start', 'replay', 'inspect'] as const) {
        const r = run(tool, dir);
        assert.equal(r.code, 65, `${what}, ${tool}: exit ${r.code} ${r.err}`);
        assert.match(
          r.err,
          new RegExp(
            `data folder ${dir} holds snapshots up to sequence ${newest}, but its journal ` +
              `\\(journal\\.mdb\\) ${how}`,
          ),
          `${what}, ${tool}`,
        );
        if (tool === 'start') assert.match(r.err, /would begin a new, empty exchange/);
      }
      assert.deepEqual(contents(dir), before, `${what}: nothing written`);
    }
  } finally {
    removeDir(dir);
  }
});

/** The sequence of the newest snapshot in `dir`. */
function newestSnapshot(dir: string): number {
  const db = openJournalDb(dir, { create: false, readOnly: true });
  try {
    return listSnapshots(db)[0]?.sequence ?? -1;
  } finally {
    closeJournalDb(db);
  }
}

/**
 * Replaces the folder's journal.mdb with a new journal that holds no batch, as a node started
 * on the folder after journal.mdb was lost left it.
 */
function newJournal(dir: string): void {
  removeDir(dataFile(dir));
  removeDir(`${dataFile(dir)}-lock`);
  const root = openEnv(dataFile(dir), false, journalPageSizeBytes);
  const binary = { keyEncoding: 'binary', encoding: 'binary' } as const;
  root.openDB('journal', binary);
  root.openDB('time-index', binary);
  const meta = root.openDB<string, string>('meta', { encoding: 'string' });
  meta.putSync('schema-version', String(schemaVersion));
  meta.putSync('engine-config', JSON.stringify(smallConfig));
  root.close();
}

/**
 * The page numbers of `file`'s leaf pages (LMDB page header, lmdb-meta.ts: u16 flags at byte
 * 18; P_LEAF is 0x02). Its bit 0 flipped (P_BRANCH) makes LMDB fail on the page: an error
 * (MDB_CORRUPTED, MDB_PAGE_NOTFOUND) or an assertion that aborts the process, by the page.
 */
function leafPages(file: string, pageSizeBytes: number): number[] {
  const bytes = readFileSync(file);
  const pages: number[] = [];
  for (let page = 2; (page + 1) * pageSizeBytes <= bytes.length; page++) {
    if (bytes.readUInt16LE(page * pageSizeBytes + 18) === 0x02) pages.push(page);
  }
  return pages;
}

function flipPageType(file: string, page: number, pageSizeBytes: number): void {
  const bytes = readFileSync(file);
  bytes[page * pageSizeBytes + 18] ^= 1;
  writeFileSync(file, bytes);
}

test('a damaged B-tree page: exit 65 naming the file, never a stack trace or abort', async () => {
  const made = await madeFolder();
  const dir = tempDataDir();
  try {
    const files: [string, number, readonly (typeof tools)[number][]][] = [
      [dataFile(made), journalPageSizeBytes, tools],
      [snapshotFile(made), snapshotPageSizeBytes, ['start', 'verify']], // replay never opens it
    ];
    const seen = new Set<string>();
    for (const [file, pageSize, used] of files) {
      const pages = leafPages(file, pageSize);
      assert.ok(pages.length > 0, `${file} has leaf pages`);
      for (const page of pages.slice(0, 8)) {
        removeDir(dir);
        cpSync(made, dir, { recursive: true });
        const damaged = join(dir, basename(file));
        flipPageType(damaged, page, pageSize);
        // A leaf page no tree reaches any more (freed, kept for reuse) damages nothing.
        if (run('verify', dir).code === 0) continue;
        for (const tool of used) {
          const r = run(tool, dir);
          const what = `${basename(file)} page ${page}, ${tool}: exit ${r.code} ${r.err}`;
          // Only verify reads every page, values too. replay and inspect read the batches
          // (a page of the time index is nothing to them), and start walks the trees' keys
          // and replays from its snapshot on (a batch's value page before it is read only
          // when asked for: README, 'a damaged page first read while the node runs'). They
          // may succeed; what they must never do is die with a stack trace or an abort.
          if (r.code === 0 && tool !== 'verify') continue;
          assert.equal(r.code, 65, what);
          assert.match(r.err, new RegExp(`bourse: ${damaged} is damaged: LMDB `), what);
          assert.doesNotMatch(r.err, /bourse: internal error|\n {4}at /, what);
          seen.add(/aborted reading it \(SIGABRT\)/.test(r.err) ? 'abort' : 'error');
        }
      }
    }
    assert.deepEqual([...seen].sort(), ['abort', 'error'], 'both kinds of failure were met');
  } finally {
    removeDir(dir);
  }
});

/** An LMDB file another program wrote: plain keys in its main database, no tables. */
async function foreignLmdb(file: string): Promise<void> {
  const root = open({ path: file }); // lmdb-js's defaults: string keys, msgpack values
  root.putSync('settings', { theirs: true });
  await root.close();
}

test("another program's LMDB file: every tool refuses it (65); none adds to it", async () => {
  const made = await madeFolder();
  const dir = tempDataDir();
  try {
    await foreignLmdb(dataFile(dir));
    const before = contents(dir);
    for (const tool of tools) {
      const r = run(tool, dir);
      assert.equal(r.code, 65, `${tool}: exit ${r.code} ${r.err}`); // the readers' was 70
      assert.doesNotMatch(r.err, /internal error|TypeError/, tool);
      assert.match(r.err, new RegExp(`${dataFile(dir)} is not a bourse file`), tool);
      assert.match(r.err, /its main database holds the keys "settings"/, tool);
    }
    assert.deepEqual(contents(dir), before, 'nothing written, no table added');
    // Beside a real journal: verify refuses it (it counted no snapshots and passed).
    removeDir(dir);
    cpSync(made, dir, { recursive: true });
    removeDir(snapshotFile(dir));
    removeDir(`${snapshotFile(dir)}-lock`);
    await foreignLmdb(snapshotFile(dir));
    const verified = run('verify', dir);
    assert.equal(verified.code, 65, verified.err);
    assert.match(verified.err, new RegExp(`${snapshotFile(dir)} is not a bourse file`));
    assert.match(verified.err, /move snapshots\.mdb away/);
    assert.equal(run('replay', dir).code, 0, 'replay never reads snapshots.mdb');
  } finally {
    removeDir(dir);
  }
});

test('a stored engine config too small for its journal: replay and verify name it', async () => {
  const dir = tempDataDir();
  try {
    cpSync(await madeFolder(), dir, { recursive: true });
    // As a member smaller than its primary keeps it, or an edit with its SHA-256 redone.
    const db = openJournalDb(dir, { create: false, readOnly: false });
    storeConfig(db, { ...smallConfig, accountCountMax: 2 });
    await closeJournalDb(db);
    const replayed = bourse('replay', '--data', dir);
    const verified = bourse('verify', '--data', dir);
    for (const [tool, r, text] of [
      ['replay', replayed, replayed.err],
      ['verify', verified, verified.out],
    ] as const) {
      assert.equal(r.code, 65, `${tool}: exit ${r.code} ${r.err}`); // was 70, a stack trace
      assert.doesNotMatch(r.err, /internal error/, tool);
      assert.match(text, /the events at sequence \d+ need larger capacities than the folder's/);
      assert.match(text, /stored engine config \(accounts: table full\)/, tool);
    }
  } finally {
    removeDir(dir);
  }
});
