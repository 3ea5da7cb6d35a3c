/**
 * The offline tools on the folder of a member killed before its LMDB took what its standby log
 * holds: `verify`, `inspect` and `replay` read LMDB alone (they still do), and showed a journal
 * without the entries the member had acknowledged, or with a tail the log had already replaced,
 * without a word. Each now says how many records the log holds past LMDB's mark, and to start
 * the member once before relying on what it shows; with none, it says nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { closeJournalDb, openJournalDb } from '../../src/journal/journal-db.js';
import { journalTail } from '../../src/journal/journal-reader.js';
import { openStandbyLog } from '../../src/pipeline/group-commit.js';
import { ReplicaStore } from '../../src/replication/replica-store.js';
import { standbyLogFile } from '../../src/replication/standby-log.js';
import { dataWith } from '../harness/journaled-folder.js';
import { entryChain } from '../harness/log-entries.js';
import { removeDir } from '../harness/node-driver.js';
import { runBourse } from '../harness/bourse-cli.js';

/**
 * Opens `dir` as a member's start does (its standby log made, or replayed), then appends
 * `records` groups to the log that LMDB never takes: a member killed just after acknowledging
 * them. Returns the journal's last sequence (LMDB's, as the tools read it).
 */
async function acknowledgedInLogOnly(dir: string, records: number): Promise<number> {
  const db = openJournalDb(dir, { create: false, readOnly: false });
  const options = { id: 1, dataDir: dir, standbyLog: true, standbyLogBytes: 1 << 20 };
  const log = openStandbyLog(new ReplicaStore(db), options, () => {});
  assert.notEqual(log, null);
  const tail = journalTail(db);
  let prev = Buffer.from(tail.hash).toString('hex');
  for (let k = 0; k < records; k++) {
    const group = entryChain(tail.sequence + 1 + 4 * k, 2, tail.term, prev);
    await log?.append([group], 0);
    prev = group[1].hash;
  }
  log?.close();
  await closeJournalDb(db);
  return tail.sequence;
}

/** verify, inspect and replay on `dir`: each exits 0; their outputs. */
function tools(dir: string): { verify: string; inspect: string; replay: string } {
  const outs = [
    ['verify', '--data', dir],
    ['inspect', '--data', dir, '--from-seq', '1', '--count', '3'],
    ['replay', '--data', dir, '--balances'],
  ].map((args) => {
    const r = runBourse(args);
    assert.equal(r.code, 0, `${args[0]}: ${r.err}`);
    return r.out;
  });
  return { verify: outs[0], inspect: outs[1], replay: outs[2] };
}

test('verify, inspect and replay say what the standby log holds past LMDB', async () => {
  const dir = await dataWith(40);
  try {
    const end = await acknowledgedInLogOnly(dir, 0); // the log made, nothing past LMDB's mark
    const quiet = tools(dir);
    for (const [tool, out] of Object.entries(quiet)) {
      assert.doesNotMatch(out, /standby log|WARNING/, `${tool}: nothing to say`);
    }
    const log = readFileSync(join(dir, standbyLogFile));
    assert.equal(await acknowledgedInLogOnly(dir, 2), end, "LMDB's journal as it was");
    const logged = readFileSync(join(dir, standbyLogFile));
    assert.notDeepEqual(logged, log, 'two records appended');
    const said = tools(dir);
    assert.deepEqual(readFileSync(join(dir, standbyLogFile)), logged, 'the tools wrote no log');
    for (const [tool, out] of Object.entries(said)) {
      const line = out.split('\n').find((l) => l.startsWith(`${tool}: WARNING: `)) ?? '';
      assert.match(line, /the standby log in \S+ holds 2 records past this journal/, out);
      assert.match(line, /acknowledged that are not in the journal yet/);
      assert.match(line, /start the member once \(it replays them\) before relying on this/);
    }
    // What they read is as before: the same journal, the same state.
    assert.match(said.verify, new RegExp(`events through sequence ${end},`));
    assert.equal(said.verify.replace(/^verify: WARNING.*\n/m, ''), quiet.verify);
    assert.equal(said.inspect.replace(/^inspect: WARNING.*\n/m, ''), quiet.inspect);
    assert.equal(said.replay.replace(/^replay: WARNING.*\n/m, ''), quiet.replay);
    assert.match(said.inspect, /^inspect: WARNING/, 'over the events');
    // backup says it in the same line as the tools (its own line said it apart, unlike them).
    const backup = runBourse(['backup', '--data', dir, '--to', `${dir}-copy`]);
    assert.equal(backup.code, 0, backup.err);
    const line = backup.out.split('\n').find((l) => l.startsWith('backup: WARNING: ')) ?? '';
    assert.match(line, /the standby log in \S+ holds 2 records past the copy's head/, backup.out);
    assert.match(line, /acknowledged that are not in the journal yet, nor in the copy/);
    assert.match(line, /a stopped one at its next start: back up after that to hold them$/);
  } finally {
    removeDir(dir);
    removeDir(`${dir}-copy`);
  }
});

/**
 * A member's folder whose standby log is damaged: its mark in LMDB (not a record and an
 * offset), its file removed by hand, or shortened under its records. inspect and replay
 * stopped with exit 65 at the mark and showed nothing of the journal they read without the
 * log. Now each shows the journal as LMDB holds it (exit 0) and says what is damaged and what
 * to do; verify checks the journal, then calls the log CORRUPT (exit 65); backup copies.
 */
test('inspect, replay, verify and backup on a member whose standby log is damaged', async () => {
  const damages: [string, (dir: string) => Promise<void>, RegExp][] = [
    ['mark', (dir) => putMark(dir, 'x y'), /mark \(meta 'standby-log'\) is "x y"/],
    ['removed', async (dir) => rmSync(join(dir, standbyLogFile)), /is missing/],
    ['shortened', async (dir) => truncateSync(join(dir, standbyLogFile), 40), /shortened/],
  ];
  for (const [what, damage, said] of damages) {
    const dir = await dataWith(40);
    try {
      const end = await acknowledgedInLogOnly(dir, 2);
      const quiet = runBourse(['inspect', '--data', dir, '--count', '3']).out;
      await damage(dir);
      const inspect = runBourse(['inspect', '--data', dir, '--count', '3']);
      assert.equal(inspect.code, 0, `${what}: ${inspect.err}`);
      const line = damagedLine('inspect', inspect.out, said);
      assert.equal(inspect.out.replace(line, ''), quiet.replace(/^inspect: WARNING.*\n/m, ''));
      const replay = runBourse(['replay', '--data', dir, '--balances']);
      assert.equal(replay.code, 0, `${what}: ${replay.err}`);
      assert.match(replay.out, new RegExp(`^state at sequence ${end} `));
      damagedLine('replay', replay.out, said);
      const verify = runBourse(['verify', '--data', dir]);
      assert.equal(verify.code, 65, `${what}: ${verify.err}`);
      assert.match(verify.out, new RegExp(`^verify: journal ok: .* through sequence ${end},`));
      assert.match(verify.out, /^verify: CORRUPT: the standby log in /m);
      const backup = runBourse(['backup', '--data', dir, '--to', `${dir}-copy`]);
      assert.equal(backup.code, 0, `${what}: ${backup.err}`);
      assert.match(backup.out, new RegExp(`through sequence ${end} `));
      damagedLine('backup', backup.out, said);
    } finally {
      removeDir(dir);
      removeDir(`${dir}-copy`);
    }
  }
});

/** Sets the standby log's mark in `dir`'s LMDB to `text`. */
async function putMark(dir: string, text: string): Promise<void> {
  const db = openJournalDb(dir, { create: false, readOnly: false });
  db.meta.putSync('standby-log', text);
  await closeJournalDb(db);
}

/** The line of `out` where `tool` says the log is damaged (`said`) and what to do. */
function damagedLine(tool: string, out: string, said: RegExp): string {
  const line = out.split('\n').find((l) => l.startsWith(`${tool}: WARNING: `)) ?? '';
  assert.match(line, /the standby log in \S+ is damaged: /, out);
  assert.match(line, said);
  assert.match(line, /may lack entries the member acknowledged/);
  assert.match(line, /start it on an empty folder \(it catches up from the others\)/);
  return line + '\n';
}
