/**
 * `bourse backup` of a node that runs under load: the copy passes `bourse verify`, its head is
 * a batch the source's journal holds (at or before the source's end), replay gives the same
 * balances at that sequence in both, a node starts on it at that head, and keys.json comes
 * with its mode. A target with files in it is refused (73).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProgressSlot } from '../../src/journal/journal-progress.js';
import { smallConfig } from '../harness/engine-driver.js';
import { NodeDriver, removeDir, tempDataDir } from '../harness/node-driver.js';
import { workload } from '../harness/workload.js';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

function bourse(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
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
