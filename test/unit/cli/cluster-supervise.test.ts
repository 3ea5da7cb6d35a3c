/**
 * `bourse cluster`'s supervision of one member (MemberProcess), with real member processes that
 * exit at once: their cluster file is missing, so each ends with exit code 64 (bad usage),
 * a fault of their own that a restart cannot mend when it comes right after their start; or
 * they kill themselves as they start (NODE_OPTIONS), as a native crash would.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as constants from '../../../src/constants.js';
import { MemberProcess } from '../../../src/cli/cluster-supervise.js';
import { chooseLogFormat } from '../../../src/cli/log-format.js';
import { DataLock } from '../../../src/journal/data-lock.js';
import { writeClusterFile } from '../../harness/cluster-file.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';

const { memberCrashLoopCount, memberRestartDelayMsMax, memberRestartQuickMs } = constants;
const { memberUpStableMs } = constants;

/** Waits (a bounded number of turns, on real timers) until `done`; false if it never was. */
async function turnsUntil(done: () => boolean, turns = 300): Promise<boolean> {
  for (let i = 0; i < turns && !done(); i++) await new Promise((r) => setTimeout(r, 50));
  return done();
}

test('a step of the wall clock back does not make a long run a quick exit', async (t) => {
  const dir = tempDataDir();
  let said = '';
  t.mock.method(process.stderr, 'write', (text: string) => ((said += text), true));
  let wall = Date.now();
  t.mock.method(Date, 'now', () => wall);
  let mono = performance.now();
  t.mock.method(performance, 'now', () => mono);
  const member = new MemberProcess(join(dir, 'cluster.json'), 1, join(dir, 'member-1'), false);
  // Before it exits: NTP steps the wall clock an hour back; the monotonic clock goes on as
  // for a member that ran past memberRestartQuickMs.
  wall -= 3_600_000;
  mono += memberRestartQuickMs + 1;
  try {
    const restarted = await turnsUntil(() => said.includes('member 1 started again'));
    const first = said.split('\n').find((line) => line.includes('member 1 exited')) ?? '';
    assert.ok(restarted, said);
    assert.match(first, /exit code 66: data missing\); starting it again in 1 s/);
    assert.doesNotMatch(first, /after its start/);
  } finally {
    await member.stop();
    t.mock.restoreAll();
    removeDir(dir);
  }
});

/**
 * Stands in for setTimeout: a wait of a second or more (the supervisor's restart waits) is
 * noted and runs at once; shorter ones run as asked. Returns the waits noted.
 */
function fastWaits(t: TestContext): number[] {
  const real = globalThis.setTimeout;
  const waits: number[] = [];
  const fake = (fn: () => void, ms = 0): NodeJS.Timeout => {
    if (ms >= 1000) waits.push(ms);
    return real(fn, ms >= 1000 ? 0 : ms);
  };
  t.mock.method(globalThis, 'setTimeout', fake);
  return waits;
}

/** The doubling waits from 1 s, capped: what a crash loop of `runs` runs is to wait. */
function doubling(runs: number): number[] {
  return Array.from({ length: runs }, (_, i) => Math.min(1000 * 2 ** i, memberRestartDelayMsMax));
}

/**
 * A member whose runs each end a few seconds after their start (past the quick-exit window,
 * so not left down) was started again every second for ever, each exit said alike. Now the
 * wait doubles up to its cap, and the loop is said once, with the line the member failed with;
 * a run that lasted (memberUpStableMs) starts the waits afresh.
 */
test('a member failing run after run waits longer each time; its loop is said once', async (t) => {
  const dir = tempDataDir();
  let said = '';
  t.mock.method(process.stderr, 'write', (text: string) => ((said += text), true));
  let mono = performance.now();
  chooseLogFormat('json');
  let runMs = memberRestartQuickMs + 1_000; // each run, on the supervisor's monotonic clock
  t.mock.method(performance, 'now', () => (mono += runMs)); // read at a start, then its exit
  const waits = fastWaits(t);
  const runs = 8;
  const member = new MemberProcess(join(dir, 'cluster.json'), 1, join(dir, 'member-1'), false);
  try {
    assert.ok(await turnsUntil(() => waits.length >= runs), said);
    assert.deepEqual(waits.slice(0, runs), doubling(runs), said);
    runMs = memberUpStableMs + 1_000; // a run that lasted: the next failure waits 1 s again
    const after = waits.length;
    assert.ok(await turnsUntil(() => waits.length > after), said);
    runMs = memberRestartQuickMs + 1_000;
    assert.equal(waits[after], 1000, said);
  } finally {
    t.mock.restoreAll();
    await member.stop();
    removeDir(dir);
  }
  const loops = said.split('\n').filter((line) => line.includes('is crash-looping'));
  assert.equal(loops.length, 1, said);
  assert.match(loops[0], new RegExp(`member 1 is crash-looping: ${memberCrashLoopCount} runs`));
  assert.match(loops[0], /the last with exit code 66: data missing; it said: bourse: /);
  assert.match(loops[0], /cluster file \S+cluster\.json: cannot read it \(ENOENT\)/);
  assert.match(loops[0], /It is tried again in 16 s, the waits doubling up to 60 s until a run/);
  // As a JSON line (log-format.ts), the loop's facts are fields too.
  const loop = JSON.parse(loops[0]) as Record<string, unknown>;
  const facts = { name: 'bourse cluster', level: 'error', event: 'crash-loop', member: 1 };
  assert.deepEqual({ ...loop, ...facts, runs: memberCrashLoopCount, code: 66 }, loop);
  assert.match(String(loop.said), /^bourse: cluster file \S+cluster\.json: cannot read it/);
});

/**
 * A member killed by a signal as it starts (a native crash at every start: SIGABRT on a damaged
 * page, the OOM killer) is no quick exit of its own: it was started again every second for
 * ever. It waits longer each time too, and its loop is said, with the signal.
 */
test('a member killed by a signal at every start waits longer each time', async (t) => {
  const dir = tempDataDir();
  let said = '';
  t.mock.method(process.stderr, 'write', (text: string) => ((said += text), true));
  const waits = fastWaits(t);
  const options = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = '--import=data:text/javascript,process.kill(process.pid,9)';
  const runs = memberCrashLoopCount + 1;
  const member = new MemberProcess(join(dir, 'cluster.json'), 1, join(dir, 'member-1'), false);
  try {
    assert.ok(await turnsUntil(() => waits.length >= runs), said);
    assert.deepEqual(waits.slice(0, runs), doubling(runs), said);
  } finally {
    if (options === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = options;
    t.mock.restoreAll();
    await member.stop();
    removeDir(dir);
  }
  const loops = said.split('\n').filter((line) => line.includes('is crash-looping'));
  assert.equal(loops.length, 1, said);
  assert.match(loops[0], /the last with signal SIGKILL; it told no reason \(see its log above\)/);
});

/**
 * A member whose start fails at once on a cause that may clear (here its folder in use, exit
 * 75) is tried again after 10 s, 20 s, ... up to 5 min; its loop is said once too, with those
 * waits (it said "up to 60 s", the other kind of exit's).
 */
test('a start failing on a cause that may clear: its loop names those waits', async (t) => {
  const dir = tempDataDir();
  await writeClusterFile(dir, true);
  mkdirSync(join(dir, 'member-1'));
  const held = DataLock.acquire(join(dir, 'member-1')); // as another node holds it
  let said = '';
  t.mock.method(process.stderr, 'write', (text: string) => ((said += text), true));
  chooseLogFormat('text');
  const waits = fastWaits(t);
  const runs = memberCrashLoopCount;
  const member = new MemberProcess(join(dir, 'cluster.json'), 1, join(dir, 'member-1'), false);
  try {
    assert.ok(await turnsUntil(() => waits.length >= runs), said);
    const retries = [10_000, 20_000, 40_000, 80_000, 160_000];
    assert.deepEqual(waits.slice(0, runs), retries, said);
  } finally {
    t.mock.restoreAll();
    await member.stop();
    held.release();
    removeDir(dir);
  }
  const loops = said.split('\n').filter((line) => line.includes('is crash-looping'));
  assert.equal(loops.length, 1, said);
  assert.match(loops[0], /^bourse cluster: member 1 is crash-looping: 5 runs in a row ended/);
  assert.match(loops[0], /the last with exit code 75: data folder in use; it said: bourse: /);
  assert.match(loops[0], /It is tried again in 160 s, the waits doubling up to 300 s until/);
});

/**
 * A run that lasted (memberUpStableMs) is no failed run: the loop is said at the
 * memberCrashLoopCount-th failed run after it, as from a member's first start. It was counted
 * as the first of the loop: four failed runs after a member had run for an hour were said as
 * 'crash-looping: 5 runs in a row ended within 60 s of their start'.
 */
test('a run that lasted is not counted among the crash loop runs', async (t) => {
  const dir = tempDataDir();
  let said = '';
  t.mock.method(process.stderr, 'write', (text: string) => ((said += text), true));
  let mono = performance.now();
  chooseLogFormat('json');
  let reads = 0; // the first run's start and exit: a run that lasted; then runs of 6 s
  const runMs = (): number =>
    reads++ < 2 ? memberUpStableMs + 1_000 : memberRestartQuickMs + 1_000;
  t.mock.method(performance, 'now', () => (mono += runMs()));
  const waits = fastWaits(t);
  const runs = memberCrashLoopCount + 2; // the one that lasted, the loop, one more
  const member = new MemberProcess(join(dir, 'cluster.json'), 1, join(dir, 'member-1'), false);
  try {
    assert.ok(await turnsUntil(() => waits.length >= runs), said);
    assert.deepEqual(waits.slice(0, runs), [1000, ...doubling(runs).slice(1)], said);
  } finally {
    t.mock.restoreAll();
    await member.stop();
    removeDir(dir);
  }
  const lines = said.split('\n').filter((line) => line !== '');
  const loopAt = lines.findIndex((line) => line.includes('is crash-looping'));
  const loop = JSON.parse(lines[loopAt]) as Record<string, unknown>;
  assert.equal(loop.runs, memberCrashLoopCount, said);
  const exits = lines.slice(0, loopAt).filter((line) => line.includes('"event":"exited"'));
  assert.equal(exits.length, memberCrashLoopCount + 1, said); // the one that lasted, then 5
  assert.equal(loop.restartMs, 2 ** memberCrashLoopCount * 1000, said);
});
