/**
 * Journal streams and account resumes catching up from LMDB share one budget a turn of the
 * event loop (src/gateway/catch-up-turns.ts): each kind had turns of its own, and together
 * they read twice journalCatchUpEventsPerTurnMax between two looks at the sockets. The kinds
 * take chunks alternately: one kind's many readers do not keep the other's waiting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  journalCatchUpChunkEvents,
  journalCatchUpEventsPerTurnMax,
} from '../../../src/constants.js';
import { JournalStreams, journalPollMs } from '../../../src/gateway/journal-stream.js';
import { AccountResumes } from '../../../src/gateway/account-resumes.js';
import { CatchUpTurns } from '../../../src/gateway/catch-up-turns.js';
import type { SubscriptionFields } from '../../../src/gateway/session-subscriptions.js';
import type { WebSocket } from '../../../src/gateway/uws.js';
import { journalOf } from '../../harness/fake-journal.js';

/** A socket that always keeps up (nothing buffered): only the budget holds it back. */
function socket(): WebSocket<SubscriptionFields> {
  const fields = { subscriptions: 0 };
  const ws = {
    getBufferedAmount: () => 0,
    end: () => {},
    send: () => 0,
    getUserData: () => fields,
  };
  return ws as unknown as WebSocket<SubscriptionFields>;
}

interface Tick {
  streams: number;
  resumes: number;
}

/**
 * `streamCount` journal subscribers and then `resumeCount` account resumes, from sequence 1 of
 * journals of `length` events, on one gateway's turns: the events each kind read between two
 * ticks of the event loop, until both journals are read through.
 */
async function catchUp(streamCount: number, resumeCount: number, length: number): Promise<Tick[]> {
  const turns = new CatchUpTurns(journalPollMs);
  const streamed = journalOf(length);
  const resumed = journalOf(length);
  const streams = new JournalStreams(streamed, () => {}, turns);
  const resumes = new AccountResumes(
    () => resumed,
    () => {},
    turns,
  );
  const ticks: Tick[] = [];
  let seen = { streams: 0, resumes: 0 };
  const done = new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = { streams: streamed.read, resumes: resumed.read };
      ticks.push({ streams: now.streams - seen.streams, resumes: now.resumes - seen.resumes });
      seen = now;
      const through = now.streams === length * streamCount && now.resumes === length * resumeCount;
      if (through || ticks.length >= 100_000) return resolve();
      setImmediate(tick);
    };
    setImmediate(tick);
  });
  for (let i = 0; i < streamCount; i++) streams.subscribe(socket(), 1, 1);
  for (let i = 0; i < resumeCount; i++) resumes.subscribe(socket(), 7, 1, i + 1);
  await done;
  return ticks;
}

test('journal streams and account resumes read one budget a turn between them', async () => {
  const ticks = await catchUp(20, 20, 4_096);
  const most = Math.max(...ticks.map((t) => t.streams + t.resumes));
  assert.ok(most <= journalCatchUpEventsPerTurnMax, `events read between two ticks: ${most}`);
  assert.ok(ticks.every((t) => t.streams <= journalCatchUpEventsPerTurnMax));
  assert.ok(ticks.length < 100_000, 'every stream and resume read through');
  // While both kinds catch up, each takes about half of every turn (a reader's last visit,
  // which finds nothing more, reads nothing: the other kind's chunk may come sooner).
  const both = ticks.filter((t) => t.streams > 0 && t.resumes > 0);
  assert.ok(both.length > 10, `turns with both kinds: ${both.length}`);
  const least = (journalCatchUpEventsPerTurnMax * 3) / 8;
  for (const t of both.slice(0, -1)) {
    assert.ok(t.streams >= least && t.resumes >= least, `a turn: ${JSON.stringify(t)}`);
  }
});

test("one kind's many readers do not keep the other kind's reader waiting", async () => {
  // 40 subscribers first, then one resume: it reads in the first turn, and in every turn.
  const ticks = await catchUp(40, 1, 4_000);
  const first = ticks.findIndex((t) => t.streams > 0);
  assert.equal(ticks[first].resumes, journalCatchUpChunkEvents, 'the resume, in the first turn');
  const resumeTurns = ticks.filter((t) => t.resumes > 0).length;
  assert.equal(resumeTurns, Math.ceil(4_000 / journalCatchUpChunkEvents), 'a chunk every turn');
  const most = Math.max(...ticks.map((t) => t.streams + t.resumes));
  assert.ok(most <= journalCatchUpEventsPerTurnMax, `events read between two ticks: ${most}`);
});

test('a kind alone has the whole budget', async () => {
  const ticks = await catchUp(0, 30, 2_048);
  const most = Math.max(...ticks.map((t) => t.resumes));
  assert.equal(most, journalCatchUpEventsPerTurnMax);
});
