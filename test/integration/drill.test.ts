/**
 * The drills with real processes (bourse drill failover, partition): three member processes,
 * the primary SIGKILLed twice under load and restarted, the second time on an empty folder (a
 * lost disk: it catches up from the others), or stopped cleanly, or cut off; nothing
 * acknowledged is lost or applied twice, and every replica ends with the same chain and state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drill, type HistoryFigures } from '../../src/cli/drill.js';
import { drillPartition } from '../../src/cli/drill-partition.js';
import { alive, awaitChildren } from '../harness/processes.js';
import { mountSmallDisk } from '../harness/small-disk.js';

/** A small failover drill: two kills (or clean stops) of the primary, a light load. */
const twoKills = { kills: 2, nodes: 3, accounts: 50, window: 32 };

/** The load went on, and the history is whole: nothing lost or twice, replicas alike. */
function assertHistory(r: HistoryFigures): void {
  assert.ok(r.acked > 100, `load went on: ${r.acked} acknowledged`);
  assert.equal(r.lost, 0, 'no acknowledged command lost');
  assert.equal(r.duplicated, 0, 'no command applied twice');
  assert.equal(r.replicas_identical, true, 'same chain and state checksum on every replica');
  assert.equal(r.conserved, true, 'the assets are conserved');
}

test('drill: two SIGKILLs of the primary under load, one with its disk lost', async () => {
  const r = await drill({ ...twoKills, seed: 11, loseDiskEvery: 2 });
  assert.equal(r.kills, 2);
  assert.equal(r.disks_lost, 1, 'the second killed member restarted on an empty folder');
  assert.equal(r.handed_over, 0, 'a killed primary hands nothing over');
  assertHistory(r);
  const max = r.takeover_ms_max ?? 0;
  assert.ok(max > 0 && max < 30_000, 'each takeover was timed');
});

/**
 * Standbys killed instead: the primary goes on committing with the other standby, the same
 * member throughout, and the second victim comes back on an empty folder and catches up
 * under it (the primary must take the word of a standby that lost what it had matched).
 */
test('drill: two SIGKILLs of a standby under load, one with its disk lost', async () => {
  const r = await drill({ ...twoKills, seed: 13, loseDiskEvery: 2, victim: 'standby' });
  assert.equal(r.victim, 'standby');
  assert.equal(r.kills, 2);
  assert.equal(r.standby_kills, 2);
  assert.equal(r.primary_kept, 2, 'a standby lost does not depose the primary');
  assert.equal(r.disks_lost, 1);
  assert.equal(r.takeover_ms_max, null, 'no primary was killed: no takeover (JSON null, not 0)');
  assert.ok(r.standby_stall_ms_max > 0, 'the wait around each kill was timed');
  assertHistory(r);
});

/**
 * A rolling restart's clean stops (SIGTERM): each time the primary answers what it took in and
 * hands over to a standby that holds its whole log, which stands at once.
 */
test('drill: two clean stops (SIGTERM) of the primary under load, each handed over', async () => {
  const r = await drill({ ...twoKills, seed: 12, signal: 'SIGTERM' });
  assert.equal(r.signal, 'SIGTERM');
  assert.equal(r.kills, 2);
  assert.equal(r.handed_over, 2, 'each stopped primary handed over');
  assertHistory(r);
});

/**
 * The partition drill (bourse drill partition): each member in a network namespace of its
 * own; the primary cut off the network, then off the other members only (its clients still
 * reach it), then deaf to them (one way), then a standby cut off, each for 1-3 s under load.
 * The cut-off primaries come back as standbys, and the history is whole, once each.
 */
test('drill: real partitions (network namespaces) of the primary and of a standby', async () => {
  const r = await drillPartition({ cuts: 4, nodes: 3, seed: 7, accounts: 50, window: 32 });
  const kinds = [r.primary_off, r.primary_members, r.primary_deaf, r.standby_off];
  assert.deepEqual(kinds, [1, 1, 1, 1], 'one cut of each kind');
  assert.equal(r.fenced, true, 'each cut-off primary came back a standby');
  assertHistory(r);
  const max = r.takeover_ms_max ?? 0;
  assert.ok(max > 0 && max < 30_000, 'each takeover was timed');
  assert.equal(namespacesLeft(), '', 'every namespace it made is gone');
});

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/**
 * A drill stopped by SIGTERM (a supervisor, \`timeout\`) or by Ctrl-C from outside a terminal
 * skips its \`finally\`: it must still stop its members and remove its folder, not leave three
 * processes running on a cluster no one watches.
 */
test('drill: SIGTERM to a running drill stops its members and removes its folder', async (t) => {
  const drillProcess = spawn(process.execPath, [main, 'drill', 'failover', '--kills', '50'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  drillProcess.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => drillProcess.once('exit', resolve));
  t.after(() => drillProcess.kill('SIGKILL')); // a failed check must not leave it running
  const members = await awaitChildren(drillProcess.pid!, ' member --cluster ', 3);
  t.after(() => members.filter(alive).forEach((pid) => process.kill(pid, 'SIGKILL')));
  const args = readFileSync(`/proc/${members[0]}/cmdline`, 'utf8').split('\0');
  const dir = dirname(args[args.indexOf('--data') + 1]);
  assert.ok(existsSync(dir), `the drill's folder: ${dir}`);
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // under load by now
  drillProcess.kill('SIGTERM');
  assert.equal(await exited, 143, `the drill exits 128 + SIGTERM: ${stderr}`);
  assert.match(stderr, /interrupted \(SIGTERM\); its members are stopped/);
  assert.deepEqual(members.filter(alive), [], 'no member outlives the drill');
  assert.equal(existsSync(dir), false, 'its folder is removed');
});

function namespacesLeft(): string {
  const list = execFileSync('ip', ['netns', 'list']).toString();
  return list
    .split('\n')
    .filter((l) => /^bourse-bp\d{4}-/.test(l))
    .join('\n');
}

/** Runs `bourse drill failover` with `env` added, to its exit (at most `ms`). */
function runDrill(
  env: Record<string, string>,
  ms: number,
): Promise<{ code: unknown; err: string }> {
  const args = [main, 'drill', 'failover', '--kills', '2'];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const bound = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(bound);
      resolve({ code: code ?? signal, err });
    }),
  );
}

/**
 * A drill whose members cannot run (their disk too small): it ends at once with the member's
 * exit code, its reason and the end of its log, its other members stopped. Before, it waited
 * some 20 s and ended in 'internal error: no member took the session' (exit 70), the reason
 * only in the member's log. A folder it cannot make is named (it was an internal error too).
 */
test('drill: a member that exits by itself ends the drill with its reason', async () => {
  const disk = mountSmallDisk(8); // a node needs 8 MB free to start: cluster.json takes some
  try {
    const r = await runDrill({ TMPDIR: disk.dir }, 60_000);
    assert.equal(r.code, 74, r.err);
    assert.match(r.err, /member \d exited by itself \(exit code 74: disk full or failing\)/);
    // The member's last line, in its log file: JSON (log-format.ts), at level fatal.
    assert.match(
      r.err,
      /"level":"fatal".*"msg":"no space left on the disk of \S+member-\d: \d+ byte/,
    );
    assert.ok(r.err.includes(`their logs are in ${disk.dir}/bourse-drill-`), r.err);
    const left = execFileSync('ps', ['-eo', 'args']).toString();
    assert.ok(!left.includes(`${disk.dir}/`), 'no member process left');
  } finally {
    disk.release();
  }
  const noTmp = await runDrill({ TMPDIR: '/proc/no-such-tmp' }, 60_000);
  assert.equal(noTmp.code, 73, noTmp.err);
  assert.match(noTmp.err, /cannot make the drill's folder in \/proc\/no-such-tmp \(TMPDIR\)/);
});

/** Run from the CLI, a drill ends with its JSON on stdout, then its verdict on stderr. */
test('drill: the CLI ends with its JSON, a verdict, and exit 0 when every rule held', async () => {
  const args = [main, 'drill', 'failover', '--kills', '1', '--accounts', '20', '--window', '16'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const bound = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise((resolve) => child.once('exit', resolve));
  clearTimeout(bound);
  assert.equal(code, 0, err);
  const report = JSON.parse(out.trimEnd().split('\n').at(-1)!) as HistoryFigures;
  assertHistory(report);
  const last = err.trimEnd().split('\n').at(-1);
  const acked = report.acked.toLocaleString('en-US');
  assert.equal(last, `drill: passed: every rule held (${acked} acknowledged, none lost or twice)`);
});
