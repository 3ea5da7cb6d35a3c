/**
 * `bourse cluster`'s supervision of one member (MemberProcess), with real member processes that
 * exit at once: their cluster file is missing, so each ends with exit code 64 (bad usage),
 * a fault of their own that a restart cannot mend when it comes right after their start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { memberRestartQuickMs } from '../../../src/constants.js';
import { MemberProcess } from '../../../src/cli/cluster-supervise.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';

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
    assert.match(first, /exit code 64: bad usage or settings\); starting it again in 1000 ms/);
    assert.doesNotMatch(first, /after its start/);
  } finally {
    await member.stop();
    t.mock.restoreAll();
    removeDir(dir);
  }
});
