/**
 * `bourse backup` of a node that runs under load: the copy passes `bourse verify`, its head is
 * a batch the source's journal holds (at or before the source's end), replay gives the same
 * balances at that sequence in both, a node starts on it at that head, and keys.json comes
 * with its mode. A target with files in it is refused (73), and so is a keys.json the backup
 * cannot read (73, before anything is copied; the last test runs as root, to back up as uid
 * 65534).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import fs, { writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { dirname, join } from 'node:path';
import { bourseMain as main, runBourse, type CliRun } from '../harness/bourse-cli.js';
import { ProgressSlot } from '../../src/journal/journal-progress.js';
import { smallConfig } from '../harness/engine-driver.js';
import { NodeDriver, removeDir, tempDataDir } from '../harness/node-driver.js';
import { workload } from '../harness/workload.js';
import { dataWith, journaledFolder } from '../harness/journaled-folder.js';
import { dataFile } from '../../src/journal/journal-db.js';
import { open } from 'lmdb';
import { mountSmallDisk } from '../harness/small-disk.js';
import { backup } from '../../src/cli/backup.js';

function bourse(...args: string[]): CliRun {
  return runBourse(args);
}

/** Runs `bourse backup` in a child (the caller goes on meanwhile): its exit and output. */
function backupWhile(from: string, to: string): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, [main, 'backup', '--data', from, '--to', to]);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, out })));
}

test('backup of a running node: verify passes, its head is in the source, keys come', async () => {
  const dir = tempDataDir();
  const copy = join(tempDataDir(), 'copy');
  try {
    assert.equal(
      bourse('keys', 'create', '--data', dir, '--client', '7', '--accounts', '1').code,
      0,
    );
    const options = { dataDir: dir, config: smallConfig, snapshotIntervalEvents: 300 };
    const driver = await NodeDriver.start({
      ...options,
      snapshotIntervalMs: 50,
      snapshotTimeSequencesMin: 1,
    });
    const commands = workload(1, 20_000);
    let at = 0;
    const submitChunk = async (): Promise<void> => {
      const chunk = commands.slice(at, at + 100);
      await driver.submit(chunk);
      at += chunk.length;
      await driver.untilDurable(at);
    };
    while (at < 1_000) await submitChunk();
    let done = false;
    const copied = backupWhile(dir, copy).finally(() => (done = true));
    while (!done && at < commands.length) await submitChunk(); // light load meanwhile
    const backup = await copied;
    for (let i = 0; i < 3; i++) await submitChunk(); // the source goes on past the copy
    await driver.stop();
    assert.equal(backup.code, 0, backup.out);

    const verified = bourse('verify', '--data', copy);
    assert.equal(verified.code, 0, verified.out + verified.err);
    const head = /^verify: head (\d+):([0-9a-f]{64})$/m.exec(verified.out);
    assert.ok(head !== null, verified.out);
    assert.match(backup.out, new RegExp(`^backup: head ${head[1]}:${head[2]}$`, 'm'));
    const sequence = Number(head[1]);
    assert.ok(sequence >= 1_000 && sequence < at, `${sequence} of ${at}`);
    const held = bourse('verify', '--data', dir, '--head', `${head[1]}:${head[2]}`);
    assert.equal(held.code, 0, `the source holds the copy's head: ${held.out}`);
    const balances = (d: string): string => {
      const r = bourse('replay', '--data', d, '--to-seq', head[1], '--balances');
      assert.equal(r.code, 0, r.err);
      return r.out;
    };
    assert.equal(balances(copy), balances(dir));
    const keys = join(copy, 'keys.json');
    assert.equal(readFileSync(keys, 'utf8'), readFileSync(join(dir, 'keys.json'), 'utf8'));
    assert.equal(statSync(keys).mode & 0o777, 0o600);

    const started = await NodeDriver.start({ dataDir: copy, config: smallConfig });
    const durable = started.node.progress.get(ProgressSlot.sequenceDurable);
    await started.stop();
    assert.equal(durable, sequence, 'a node starts on the copy at its head');
  } finally {
    removeDir(dir);
    removeDir(join(copy, '..'));
  }
});

// It said "with snapshots" of a snapshots.mdb that held none: now what was copied.
test('backup says how many snapshots it copied, none too', async () => {
  const none = tempDataDir();
  const some = await journaledFolder({ count: 200, chunk: 100, snapshotEvents: 100, pauseMs: 0 });
  const targets = tempDataDir();
  try {
    const options = { snapshotIntervalEvents: 1e9, snapshotIntervalMs: 1e9 };
    const driver = await NodeDriver.start({ dataDir: none, config: smallConfig, ...options });
    await driver.submit(workload(1, 10, 1));
    await driver.untilDurable(10);
    await driver.stop();
    assert.ok(existsSync(join(none, 'snapshots.mdb')), 'a snapshots.mdb, with none in it');
    const empty = bourse('backup', '--data', none, '--to', join(targets, 'none'));
    assert.equal(empty.code, 0, empty.err);
    assert.match(
      empty.out,
      /^backup: \S+ holds the journal through sequence \d+ with no snapshots$/m,
    );
    const full = bourse('backup', '--data', some, '--to', join(targets, 'some'));
    assert.equal(full.code, 0, full.err);
    // As many as verify finds in the copy: each snapshot's header and chunks were counted.
    const checked = bourse('verify', '--data', join(targets, 'some'));
    assert.equal(checked.code, 0, checked.err);
    const count = Number(/, (\d+) snapshots/.exec(checked.out)?.[1]);
    assert.ok(count >= 1, checked.out);
    const said = count === 1 ? '1 snapshot' : `${count} snapshots`;
    assert.match(full.out, new RegExp(`through sequence \\d+ with ${said}$`, 'm'));
  } finally {
    for (const dir of [none, some, targets]) removeDir(dir);
  }
});

/**
 * A folder of another schema version: backup said only what a start says ("run one that reads
 * schema version 99"). It now says, in its own terms, the version the folder holds, the one
 * this build reads, and what to do: back up with a build that reads it, or copy the stopped
 * folder; no migration. Nothing is copied, and the folder is unchanged.
 */
test('backup of another schema version: both versions and what to do, exit 65', async () => {
  const dir = await dataWith(20);
  const to = join(tempDataDir(), 'copy');
  try {
    const cases: [string, RegExp[]][] = [
      [
        '99',
        [
          /holds schema version 99, and this build \(bourse [\d.]+\) reads schema version 1 /,
          /only \(a newer build wrote it; bourse does not migrate folders\)/,
          /Back it up with a build that reads schema version 99, such as the one its node runs/,
          /or stop its node and copy the folder whole \(cp -a\)/,
        ],
      ],
      ['x', [/says its schema version is 'x', which is no version \(its meta record is damaged/]],
    ];
    for (const [stored, said] of cases) {
      await putSchema(dir, stored);
      const before = readFileSync(dataFile(dir));
      const r = bourse('backup', '--data', dir, '--to', to);
      assert.equal(r.code, 65, r.err);
      assert.match(r.err, new RegExp(`^bourse: cannot back up ${dir}: `), r.err);
      for (const line of said) assert.match(r.err, line);
      assert.match(r.err, /nothing was copied, and \S+ is unchanged \[SCHEMA_MISMATCH\]$/m);
      assert.equal(existsSync(to), false, `${stored}: no copy made`);
      assert.ok(readFileSync(dataFile(dir)).equals(before), `${stored}: the folder unchanged`);
    }
    await putSchema(dir, '1');
    assert.equal(bourse('backup', '--data', dir, '--to', to).code, 0, 'its own version: copied');
  } finally {
    removeDir(dir);
    removeDir(dirname(to));
  }
});

/** Sets the schema version `dir`'s journal says, with LMDB alone (bourse refuses another). */
async function putSchema(dir: string, stored: string): Promise<void> {
  const env = open({ path: dataFile(dir), maxDbs: 8 });
  env.openDB<string, string>('meta', { encoding: 'string' }).putSync('schema-version', stored);
  await env.close();
}

test('backup refuses a target with files in it (73), and writes nothing there', () => {
  const target = tempDataDir();
  try {
    mkdirSync(join(target, 'old'));
    writeFileSync(join(target, 'old', 'x'), 'x');
    const r = bourse('backup', '--data', target, '--to', target);
    assert.equal(r.code, 73, r.err);
    assert.match(r.err, /backup target \S+ is not empty \(1 entries\)/);
  } finally {
    removeDir(target);
  }
});

test('a keys.json the backup cannot read: 73 naming it, nothing copied', async () => {
  const dir = await journaledFolder({ count: 200, chunk: 100, snapshotEvents: 100, pauseMs: 0 });
  const targets = tempDataDir();
  try {
    assert.equal(bourse('keys', 'create', '--data', dir, '--client', '7', '--admin').code, 0);
    // The journal's files are mode 0644, keys.json 0600 (root's): a user that may read the
    // journal but not the keys. Before: both LMDB files copied, then exit 70 and a stack trace.
    assert.equal(process.getuid?.(), 0, 'this test runs as root');
    chmodSync(dir, 0o755);
    chmodSync(targets, 0o777);
    const copy = join(targets, 'by-nobody');
    const r = spawnSync(process.execPath, [main, 'backup', '--data', dir, '--to', copy], {
      encoding: 'utf8',
      timeout: 60_000,
      uid: 65_534,
      gid: 65_534,
    });
    assert.equal(r.status, 73, r.stderr);
    assert.match(r.stderr, /cannot read \S+keys\.json \(EACCES\), which a backup must hold/);
    assert.doesNotMatch(r.stderr, /internal error|    at /);
    assert.equal(existsSync(copy), false, 'nothing copied');
    // A keys.json that is a folder: the same, as root.
    rmSync(join(dir, 'keys.json'));
    mkdirSync(join(dir, 'keys.json'));
    const folder = bourse('backup', '--data', dir, '--to', join(targets, 'by-root'));
    assert.equal(folder.code, 73, folder.err);
    assert.match(folder.err, /cannot read \S+keys\.json \(EISDIR\)/);
    assert.equal(existsSync(join(targets, 'by-root')), false, 'nothing copied');
  } finally {
    removeDir(dir);
    removeDir(targets);
  }
});

// A backup wrote keys.json last: one that failed there (a full disk) or was killed before it
// left the whole journal and no keys.json, and a node restored from it ran in development mode,
// every session admin. The copy now holds a mark until it is whole, which every tool and start
// refuse (65). The keys write fails here (ENOSPC, injected), the last step before.
test('a backup that fails part way leaves a folder start and verify refuse (65)', async () => {
  const dir = await journaledFolder({ count: 200, chunk: 100, snapshotEvents: 100, pauseMs: 0 });
  const copy = join(tempDataDir(), 'copy');
  const write = fs.writeFileSync;
  try {
    assert.equal(bourse('keys', 'create', '--data', dir, '--client', '7', '--admin').code, 0);
    fs.writeFileSync = ((...args: Parameters<typeof write>) => {
      if (!String(args[0]).endsWith('keys.json')) return write(...args);
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    }) as typeof write;
    syncBuiltinESMExports();
    await assert.rejects(backup(dir, copy), /cannot write \S+keys\.json: no space left/);
    fs.writeFileSync = write;
    syncBuiltinESMExports();
    const verified = bourse('verify', '--data', copy);
    assert.equal(verified.code, 65, verified.out + verified.err);
    assert.match(verified.err, /is a backup that did not finish \(\S+backup-unfinished is there\)/);
    const started = bourse('start', '--data', copy, '--port', '0');
    assert.equal(started.code, 65, started.out + started.err);
    assert.match(started.err, /is a backup that did not finish/);
    // A backup that finishes leaves no mark.
    const whole = join(dirname(copy), 'whole');
    assert.equal(bourse('backup', '--data', dir, '--to', whole).code, 0);
    assert.equal(existsSync(join(whole, 'backup-unfinished')), false);
    assert.equal(bourse('verify', '--data', whole).code, 0);
  } finally {
    fs.writeFileSync = write;
    syncBuiltinESMExports();
    removeDir(dir);
    removeDir(dirname(copy));
  }
});

// verify and backup print a head to keep and give back as --head. Of an empty journal they
// printed `head 0:`, which --head refused (exit 64): a script anchoring a new node failed.
test('the head of an empty journal is said as none, not as a SEQ:HASH --head refuses', async () => {
  const dir = tempDataDir();
  const copy = join(tempDataDir(), 'copy');
  try {
    const driver = await NodeDriver.start({ dataDir: dir, config: smallConfig });
    await driver.stop();
    const verified = bourse('verify', '--data', dir);
    const backedUp = bourse('backup', '--data', dir, '--to', copy);
    for (const [tool, r] of [
      ['verify', verified],
      ['backup', backedUp],
    ] as const) {
      assert.equal(r.code, 0, r.err);
      const line = new RegExp(`^${tool}: head (.*)$`, 'm').exec(r.out)?.[1];
      assert.equal(line, 'none: the journal is empty (no batch to anchor)', r.out);
    }
  } finally {
    removeDir(dir);
    removeDir(dirname(copy));
  }
});

// A backup onto a disk that fills (a real one: a 1 MB tmpfs) failed with 73 "cannot copy ...:
// No space left on device", where every other full disk says 74 (DATA_FULL), and said nothing
// of the unfinished copy it left. Taken again once space was freed, it was refused "backup
// target ... is not empty (2 entries)", with no word of what the entries were or what to do.
test('a backup onto a full disk: 74, and the unfinished copy named, to remove', async () => {
  const dir = await journaledFolder({ count: 2_000, chunk: 500, snapshotEvents: 500, pauseMs: 0 });
  const disk = mountSmallDisk(1);
  try {
    const copy = join(disk.dir, 'copy');
    const first = bourse('backup', '--data', dir, '--to', copy);
    assert.equal(first.code, 74, first.out + first.err);
    assert.match(first.err, /no space left on the disk/);
    const left = /the unfinished copy in \S+copy is refused by every tool: remove it, then back up/;
    assert.match(first.err, left);
    assert.doesNotMatch(first.err, /internal error|    at /);
    const again = bourse('backup', '--data', dir, '--to', copy);
    assert.equal(again.code, 73, again.out + again.err);
    assert.match(
      again.err,
      /backup target \S+copy holds a backup that did not finish \(\S+backup-unfinished\): remove/,
    );
  } finally {
    disk.release();
    removeDir(dir);
  }
});
