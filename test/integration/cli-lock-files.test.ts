/**
 * A data folder whose LMDB files or lock files are not what LMDB can open, though its journal is
 * sound: journal.mdb or snapshots.mdb a folder, journal.mdb-lock or snapshots.mdb-lock a folder
 * or a link to nothing, or a lock file another user made (a tool run as root on the folder of a
 * node that runs as its own user). Each is refused with its exit code and a message naming the
 * file, and nothing is written. Before: a storage file that was a folder failed every tool with
 * an internal error and a stack trace (exit 70); a lock file LMDB could not open killed `start`
 * with SIGSEGV and no message (exit 139), and the other tools called journal.mdb damaged and
 * said to restore it from a backup (exit 65). And a folder a reading tool may not read was said
 * to be "not writable". Runs as root (the last tests run the tools as uid 65534, as `bourse
 * drill partition` needs root).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, cpSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { runBourse, type CliRun } from '../harness/bourse-cli.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { journaledFolder } from '../harness/journaled-folder.js';

const nobody = 65_534;

function bourse(args: string[], uid?: number): CliRun {
  return runBourse(args, { uid });
}

let made: Promise<string> | null = null;

/** A folder of 600 commands and a snapshot, made by a real node once for every test here. */
function madeFolder(): Promise<string> {
  made ??= journaledFolder({ count: 600, chunk: 200, snapshotEvents: 300, pauseMs: 0 });
  return made;
}

after(async () => {
  if (made !== null) removeDir(await made);
});

/** A copy of the made folder without its lock files (as a backup or a `cp` leaves it). */
async function copy(): Promise<string> {
  const dir = tempDataDir();
  cpSync(await madeFolder(), dir, { recursive: true });
  for (const name of readdirSync(dir)) if (name.endsWith('-lock')) rmSync(join(dir, name));
  return dir;
}

/** The folder's data files (not the lock files) with their bytes: nothing may change them. */
function contents(dir: string): Map<string, Buffer> {
  const entries = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isFile());
  const names = entries.map((entry) => entry.name);
  const files = names.filter((name) => name.endsWith('.mdb') || name === 'keys.json');
  return new Map(files.map((name) => [name, readFileSync(join(dir, name))]));
}

const tools = ['start', 'replay', 'verify', 'inspect', 'backup'] as const;

function run(tool: (typeof tools)[number], dir: string, uid?: number): ReturnType<typeof bourse> {
  const args = ['--data', dir];
  if (tool === 'start') args.push('--port', '0');
  if (tool === 'backup') args.push('--to', join(dir, 'copy'));
  return bourse([tool, ...args], uid);
}

/** Runs `tools` on `dir`; each must exit `code` naming `names`, and leave the data alone. */
function expectRefusal(
  dir: string,
  which: readonly (typeof tools)[number][],
  code: number,
  names: RegExp,
  uid?: number,
): void {
  const before = contents(dir);
  for (const tool of which) {
    const r = run(tool, dir, uid);
    const seen = `${tool}: exit ${r.code}: ${r.err}`;
    assert.equal(r.code, code, seen);
    assert.match(r.err, names, seen);
    assert.doesNotMatch(r.err, /internal error|    at |is damaged/, seen);
  }
  assert.deepEqual(contents(dir), before, 'nothing written');
}

test('journal.mdb or snapshots.mdb a folder: exit 65 naming it, no stack trace', async () => {
  const journal = await copy();
  const snapshots = await copy();
  try {
    rmSync(join(journal, 'journal.mdb'));
    mkdirSync(join(journal, 'journal.mdb'));
    expectRefusal(journal, tools, 65, /journal\.mdb is a folder, not an LMDB file; .*backup/);
    rmSync(join(snapshots, 'snapshots.mdb'));
    mkdirSync(join(snapshots, 'snapshots.mdb'));
    const named = /snapshots\.mdb is a folder, not an LMDB file; snapshots are derived data/;
    expectRefusal(snapshots, ['start', 'verify', 'backup'], 65, named);
    // replay and inspect never open snapshots.mdb: the journal alone serves them.
    assert.equal(run('replay', snapshots).code, 0);
    assert.equal(run('inspect', snapshots).code, 0);
  } finally {
    removeDir(journal);
    removeDir(snapshots);
  }
});

test('a lock file that is a folder or a link to nothing: exit 73 naming it', async () => {
  for (const file of ['journal.mdb', 'snapshots.mdb']) {
    for (const kind of ['folder', 'link']) {
      const dir = await copy();
      try {
        const lock = join(dir, `${file}-lock`);
        if (kind === 'folder') mkdirSync(lock);
        else symlinkSync(join(dir, 'gone', 'x'), lock);
        const why = kind === 'folder' ? 'is a folder, not a file' : 'is a link to nothing';
        const named = new RegExp(`lock file ${lock} ${why}.*remove it`);
        // replay and inspect do not open snapshots.mdb, nor its lock file.
        const which = file === 'journal.mdb' ? tools : (['start', 'verify', 'backup'] as const);
        expectRefusal(dir, which, 73, named);
      } finally {
        removeDir(dir);
      }
    }
  }
});

test("a lock file another user made: the node's user gets exit 73 naming it", async () => {
  const dir = await copy();
  try {
    assert.equal(process.getuid?.(), 0, 'this test runs as root');
    chownSync(dir, nobody, nobody);
    for (const name of readdirSync(dir)) chownSync(join(dir, name), nobody, nobody);
    // A verify run as root first makes the lock files, root's, mode 0644 (umask 022).
    assert.equal(run('verify', dir).code, 0);
    const named = /journal\.mdb-lock is not writable by this process \(EACCES: it runs as uid/;
    expectRefusal(dir, ['start'], 73, named, nobody);
    // Read-only, LMDB goes on without a lock file it may not write.
    assert.equal(run('verify', dir, nobody).code, 0);
  } finally {
    removeDir(dir);
  }
});

test('a data folder the tool may not read: "not readable", not "not writable"', async () => {
  const dir = await copy(); // mkdtemp's: root's, mode 0700
  try {
    assert.equal(process.getuid?.(), 0, 'this test runs as root');
    for (const tool of ['replay', 'verify', 'inspect'] as const) {
      const r = run(tool, dir, nobody);
      assert.equal(r.code, 73, `${tool}: ${r.err}`);
      assert.match(r.err, /data folder \S+ is not readable \(EACCES\)/, tool);
    }
  } finally {
    removeDir(dir);
  }
});
