/**
 * `bourse backup` removes its mark of an unfinished backup only once the copy is on the disk,
 * read from the system calls themselves (harness/path-log.ts: an LD_PRELOAD shim). Before,
 * nothing of the copy was fsynced (neither LMDB's copy nor writeFileSync fsyncs): a power cut
 * just after the mark's removal, fsynced, could leave an empty or short keys.json or
 * journal.mdb in a folder no longer marked unfinished, which start and the tools then take
 * for a whole backup (a node without its keys runs in development mode).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bourseMain, runBourse } from '../harness/bourse-cli.js';
import { journaledFolder } from '../harness/journaled-folder.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { buildPathShim, parsePathLog, type PathOp } from '../harness/path-log.js';
import { closeJournalDb, openJournalDb } from '../../src/journal/journal-db.js';

/** What a power cut at the mark's removal could lose, and what was never made durable. */
interface Unsynced {
  /** Files written, or names made, not fsynced when the mark was removed. */
  atUnmark: string[];
  /** Writes and names after the mark's removal not fsynced by the end (the removal's too). */
  atEnd: string[];
  unmarked: boolean;
}

/**
 * Replays the log: a file written is dirty until fsynced; a name made (a folder, a file's
 * first write) or removed dirties its folder until that is fsynced. LMDB's lock files are not
 * part of the copy (a backup never copies them).
 */
function unsynced(ops: readonly PathOp[], mark: string): Unsynced {
  const dirty = new Set<string>();
  const named = new Set<string>();
  const result: Unsynced = { atUnmark: [], atEnd: [], unmarked: false };
  for (const { op, path } of ops) {
    if (path.endsWith('-lock')) continue;
    if (op === 'S') dirty.delete(path);
    else if (op === 'M' || op === 'U' || (op === 'W' && !named.has(path))) {
      named.add(path);
      dirty.add(`${dirname(path)}/ (the name ${path})`);
    }
    if (op === 'W') dirty.add(path);
    if (op === 'S') for (const d of dirty) if (d.startsWith(`${path}/ (`)) dirty.delete(d);
    if (op === 'U' && path === mark) {
      result.atUnmark = [...dirty].filter((d) => !d.includes(`(the name ${mark})`)).sort();
      result.unmarked = true;
    }
  }
  result.atEnd = [...dirty].sort();
  return result;
}

test('backup removes its unfinished mark only once every file and name is fsynced', async () => {
  const dir = await journaledFolder({ count: 200, chunk: 100, snapshotEvents: 100, pauseMs: 0 });
  const root = tempDataDir();
  try {
    assert.equal(runBourse(['keys', 'create', '--data', dir, '--client', '7', '--admin']).code, 0);
    // A member's folder (its id stored as `bourse member` stores it): the copy's meta is
    // written after LMDB's copy, and must be on the disk before the mark goes too.
    const db = openJournalDb(dir, { create: false, readOnly: false });
    db.meta.putSync('member-id', '2');
    await closeJournalDb(db);
    const shim = buildPathShim(root);
    const log = join(root, 'path.log');
    writeFileSync(log, '');
    const copy = join(root, 'made', 'copy');
    const run = spawnSync(process.execPath, [bourseMain, 'backup', '--data', dir, '--to', copy], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, LD_PRELOAD: shim, PATH_LOG: log, PATH_LOG_UNDER: root },
    });
    assert.equal(run.status, 0, run.stderr);
    const ops = parsePathLog(readFileSync(log, 'utf8'));
    // The shim saw every file of the copy written (or this test would prove nothing).
    for (const file of ['backup-unfinished', 'keys.json', 'snapshots.mdb', 'journal.mdb']) {
      const path = join(copy, file);
      assert.ok(
        ops.some((o) => o.op === 'W' && o.path === path),
        `${file} written: ${JSON.stringify(ops.slice(0, 20))}`,
      );
    }
    const found = unsynced(ops, join(copy, 'backup-unfinished'));
    assert.equal(found.unmarked, true, 'the mark was removed');
    assert.deepEqual(found.atUnmark, [], 'on the disk before the mark was removed');
    assert.deepEqual(found.atEnd, [], 'on the disk when backup returned');
    assert.match(run.stdout, /is a backup of member 2's folder/);
  } finally {
    removeDir(dir);
    removeDir(root);
  }
});
