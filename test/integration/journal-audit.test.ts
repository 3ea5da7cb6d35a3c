/**
 * Damage and tampering that an auditor found the journal tools passing or misreporting: a walk
 * that a damaged LMDB page ends early, a damaged batch key, an unanchored chain's tail, the time
 * index, a snapshot's contents, the stored engine config and events that do not apply. Each is
 * made on a copy of one folder written by a real node.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { journaledFolder } from '../harness/journaled-folder.js';
import {
  closeJournalDb,
  openJournalDb,
  sequenceKey,
  type JournalDb,
} from '../../src/journal/journal-db.js';
import { readBatches } from '../../src/journal/journal-reader.js';
import { checkChain } from '../../src/journal/chain-check.js';
import { genesisHash } from '../../src/journal/journal-codec.js';
import { StorageError } from '../../src/journal/journal-errors.js';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

function bourse(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? (r.signal === null ? -1 : 128), out: r.stdout, err: r.stderr };
}

let made = '';

/** A folder with 1,200 commands in several batches and snapshots taken along the way. */
before(async () => {
  made = await journaledFolder({ count: 1_200, chunk: 100, snapshotEvents: 300, pauseMs: 30 });
});

after(() => removeDir(made));

/** A fresh copy of the folder (removed by `done`). */
function copy(): string {
  const dir = tempDataDir();
  cpSync(made, dir, { recursive: true });
  return dir;
}

/**
 * `db` as a damaged page shows it: the cursor's walk ends before the `keep`-th key. With
 * `reverseToo`, a reverse read ends there as well (a damaged branch page that lost its last
 * child); LMDB's own entry count is left as it is.
 */
function cutWalk(db: JournalDb, keep: number, reverseToo: boolean): JournalDb {
  const all = [...db.journal.getKeys()].map((k) => Buffer.from(k));
  const cut = all[keep];
  const journal = new Proxy(db.journal, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop !== 'getKeys') {
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      }
      return (o: { start?: Buffer; reverse?: boolean; limit?: number } = {}) => {
        const keys = [...target.getKeys(o)].map((k) => Buffer.from(k));
        if (o.reverse === true && !reverseToo) return keys;
        const kept = keys.filter((k) => Buffer.compare(k, cut) < 0);
        if (o.reverse === true && o.limit !== undefined) {
          return all
            .filter((k) => Buffer.compare(k, cut) < 0)
            .reverse()
            .slice(0, o.limit);
        }
        return kept;
      };
    },
  });
  return { ...db, journal };
}

function walkAll(db: JournalDb): number {
  let batches = 0;
  readBatches(db, sequenceKey(0), genesisHash, () => ++batches > 0);
  return batches;
}

test('a walk that a damaged page ends early is refused, naming the file and where', async () => {
  const db = openJournalDb(made, { create: false, readOnly: true });
  try {
    const total = walkAll(db);
    assert.ok(total > 6, `several batches (${total})`);
    const cut = cutWalk(db, 5, false);
    assert.throws(
      () => walkAll(cut),
      (e: unknown) =>
        e instanceof StorageError &&
        e.code === 'JOURNAL_CORRUPT' &&
        /journal\.mdb is damaged: reading the journal stopped after the batch at sequence/.test(
          e.message,
        ) &&
        /but its last batch is at sequence/.test(e.message),
    );
    // A lost last child: the reverse read ends there too; LMDB's entry count does not.
    assert.throws(() => walkAll(cutWalk(db, 5, true)), /LMDB counts \d+ batches, the walk saw 5/);
    const chain = await checkChain(made, cutWalk(db, 5, true), sequenceKey(0), genesisHash);
    assert.match(chain.problem?.message ?? 'passed', /the walk saw 5/);
  } finally {
    closeJournalDb(db);
  }
});

test('verify and replay pass the undamaged folder', () => {
  const dir = copy();
  try {
    const verified = bourse('verify', '--data', dir);
    assert.equal(verified.code, 0, verified.out + verified.err);
    assert.match(verified.out, /^verify: ok: /m);
    const replayed = bourse('replay', '--data', dir);
    assert.equal(replayed.code, 0, replayed.err);
  } finally {
    removeDir(dir);
  }
});
