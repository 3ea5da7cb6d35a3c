/**
 * The marks cancel on disconnect keeps in the state (SetCancelOnDisconnect, engine/cancel-cover.ts)
 * and the grace after a takeover, without a node: which logins and closes write a mark, that a
 * node taking over reads the marks first (a reconnect storm after a failover writes none), and
 * which marked clients lose their orders when the grace ends.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelOnDisconnect,
  type CancelFields,
} from '../../../src/gateway/cancel-on-disconnect.js';
import type { CommandSink } from '../../../src/gateway/gateway.js';
import type { StateQuery, StateReads } from '../../../src/gateway/reads.js';
import {
  cancelOnDisconnectGraceHeldMaxMs,
  cancelOnDisconnectGraceMs,
  cancelOnDisconnectHoldsIdleMax,
  loginRetryAfterMaxMs,
  sessionCountMax,
} from '../../../src/constants.js';
import { Admission } from '../../../src/gateway/admission.js';
import { LoginFailures } from '../../../src/gateway/login-failures.js';
import type { HttpRequest, HttpResponse } from '../../../src/gateway/uws.js';
import { CommandKind, CommandWord, SequencedWord } from '../../../src/protocol/command-layout.js';
import { HelloFlag } from '../../../src/protocol/frames.js';
import { readU64, RecordBuffer } from '../../../src/stdx/records.js';

/** An input ring's producer side: each command written as [kind, ref, aux]. */
class FakeSink {
  readonly records = RecordBuffer.allocate(1, SequencedWord.size * 4);
  readonly ring = { records: this.records } as unknown as CommandSink['ring'];
  readonly commands: number[][] = [];
  /** A full ring: nothing fits until it is false again. */
  full = false;
  hasRoom(): boolean {
    return !this.full;
  }
  claim(): number {
    return 0;
  }
  commit(): void {
    const u32 = this.records.u32;
    const kind = u32[CommandWord.bits] & 0xff;
    this.commands.push([kind, u32[CommandWord.ref], readU64(u32, CommandWord.aux)]);
  }
  publish(): void {}
  marks(): number[][] {
    const set = CommandKind.SetCancelOnDisconnect;
    return this.commands.filter((c) => c[0] === set).map((c) => [c[1], c[2]]);
  }
  rounds(): number[] {
    const round = CommandKind.CancelClientOrders;
    return this.commands.filter((c) => c[0] === round).map((c) => c[1]);
  }
}

/** A read model whose 'covered' answer is `marked`. */
function readsOf(marked: number[]): StateReads {
  const query = (q: StateQuery): Promise<{ sequence: number; body: unknown }> => {
    assert.equal(q.what, 'covered');
    return Promise.resolve({ sequence: 1, body: Float64Array.from(marked) });
  };
  return { query } as unknown as StateReads;
}

function setUp(graceMs?: number) {
  const sink = new FakeSink();
  const lines: string[] = [];
  const log = (line: string): void => void lines.push(line);
  const asSink = sink as unknown as CommandSink;
  const none = undefined; // seqFloor, sessions, sessionOf: their defaults
  const cancels = new CancelOnDisconnect(asSink, () => true, log, none, none, none, graceMs);
  /** Logs `client` in, with the flag or not; its session. */
  const login = (client: number, flag = true): CancelFields => {
    const helloFlags = flag ? HelloFlag.CancelOnDisconnect : 0;
    const session = { cancelOnDisconnect: false, helloFlags, readOnly: false };
    cancels.opened(session, client);
    return session;
  };
  return { sink, lines, cancels, login };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A test body run with setTimeout mocked (mock.timers), put back however the body ends. */
function withMockedTimers(body: () => Promise<void>): () => Promise<void> {
  return async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      await body();
    } finally {
      mock.timers.reset();
    }
  };
}

test('logins with the flag mark their client once; 1000 and a login without it unmark', () => {
  const { sink, cancels, login } = setUp();
  cancels.closed(login(7), 7, 1006); // a loss: the round, the mark stays
  cancels.closed(login(7), 7, 1006);
  assert.deepEqual(sink.marks(), [[7, 1]], 'marked at the first login only');
  assert.deepEqual(sink.rounds(), [7]);
  cancels.closed(login(7), 7, 1000);
  assert.deepEqual(sink.marks(), [
    [7, 1],
    [7, 0],
  ]);
  login(7);
  cancels.closed(login(7, false), 7, 1000); // the session that took its place
  assert.deepEqual(sink.marks().slice(2), [
    [7, 1],
    [7, 0],
  ]);
  const reader = { cancelOnDisconnect: false, helloFlags: HelloFlag.CancelOnDisconnect };
  cancels.opened({ ...reader, readOnly: true }, 8);
  assert.equal(sink.marks().length, 4, 'a read-only session marks nothing');
  cancels.stop();
});

test('a node taking over reads the marks: clients back with the flag write none', async () => {
  const { sink, cancels, login } = setUp();
  cancels.takeOver(readsOf([7, 8]), () => undefined);
  await settle();
  login(7);
  login(8, false); // back without the flag: its mark goes
  login(9);
  assert.deepEqual(sink.marks(), [
    [8, 0],
    [9, 1],
  ]);
  cancels.stop();
});

test(
  'at the grace end, the marked clients not back in time lose their orders',
  withMockedTimers(async () => {
    const { sink, lines, cancels, login } = setUp();
    const sessions = new Map<number, CancelFields>();
    // 7: never back. 8: back with the flag. 9: back, then lost. 10: back without the flag.
    cancels.takeOver(readsOf([7, 8, 9, 10]), (client) => sessions.get(client));
    await settle(); // the marks read
    sessions.set(8, login(8));
    cancels.closed(login(9), 9, 1006);
    sessions.set(10, login(10, false));
    assert.deepEqual(sink.rounds(), [9], 'the loss of 9 only, so far');
    mock.timers.tick(cancelOnDisconnectGraceMs);
    await settle();
    assert.deepEqual(sink.rounds(), [9, 7], 'then 7, which never came back');
    assert.deepEqual(sink.marks(), [[10, 0]], '10 unmarked when it logged in');
    assert.equal(cancels.counts.unreturned, 1);
    assert.ok(lines.some((l) => l.includes('4 clients marked, 3 back in time, 1 not')));
    assert.equal(cancels.graceRunning(), false);
    cancels.stop();
  }),
);

/** A read model whose 'covered' answer, `marked`, comes when `answer()` is called. */
function lateReadsOf(marked: number[]): { reads: StateReads; answer: () => void } {
  let answer = (): void => {};
  const query = (): Promise<{ sequence: number; body: unknown }> =>
    new Promise((resolve) => {
      answer = () => resolve({ sequence: 1, body: Float64Array.from(marked) });
    });
  return { reads: { query } as unknown as StateReads, answer: () => answer() };
}

// The marks read at a takeover may predate the marks written since: a client that logged in
// with the flag and closed with 1000 before the answer (marked, then unmarked in the state) was
// taken for marked from that stale answer, and its next session with the flag wrote no mark:
// after a later failover, its orders were not covered.
test('marks written before the takeover read answers are not undone by it', async () => {
  const { sink, cancels, login } = setUp();
  const late = lateReadsOf([7]); // read before the marks below were applied
  cancels.takeOver(late.reads, () => undefined);
  cancels.closed(login(7), 7, 1000); // marked in the state already (unknown yet), then unmarked
  cancels.closed(login(8), 8, 1000); // marked, then unmarked
  late.answer();
  await settle();
  login(7);
  login(8);
  assert.deepEqual(sink.marks(), [
    [7, 1],
    [7, 0],
    [8, 1],
    [8, 0],
    [7, 1], // marked again: the stale answer did not say it still was
    [8, 1],
  ]);
  cancels.stop();
});

// The same at the grace's end: its answer may predate the unmark of a client that came back
// with the flag and closed with 1000 (the read model applies behind the engine). Taken for
// marked from it, the client's next session with the flag wrote no mark.
test(
  "the grace end's read does not undo an unmark written since",
  withMockedTimers(async () => {
    const { sink, cancels, login } = setUp();
    cancels.takeOver(readsOf([7]), () => undefined); // both reads say 7 is marked
    await settle();
    cancels.closed(login(7), 7, 1000); // back with the flag (marked already), then unmarked
    mock.timers.tick(cancelOnDisconnectGraceMs);
    await settle(); // the read at the grace end, from before the unmark was applied
    assert.deepEqual(sink.rounds(), [], 'back in time: nothing canceled');
    login(7);
    assert.deepEqual(sink.marks(), [
      [7, 0],
      [7, 1], // marked again: the stale answer did not say it still was
    ]);
    cancels.stop();
  }),
);

// A login without the flag before that answer wrote nothing (the client was not known to be
// marked); the answer then took it for marked, and if it left before the grace ended, the state
// kept its mark: a later failover canceled the orders it had placed without asking.
test(
  'a login without the flag before the takeover read answers unmarks its client',
  withMockedTimers(async () => {
    const { sink, cancels, login } = setUp();
    const late = lateReadsOf([7]); // 7's mark, from its session on the last primary
    cancels.takeOver(late.reads, () => undefined);
    cancels.closed(login(7, false), 7, 1006); // back at once without the flag, then gone
    login(8, false); // never marked
    assert.deepEqual(sink.marks(), [], 'not known yet whether they are marked');
    late.answer();
    await settle();
    assert.deepEqual(sink.marks(), [[7, 0]], "7's mark goes: it asks no more; 8 had none");
    login(7, false);
    mock.timers.tick(cancelOnDisconnectGraceMs);
    await settle();
    assert.deepEqual(sink.marks(), [[7, 0]], 'known unmarked since: nothing more');
    assert.deepEqual(sink.rounds(), [], 'it never asked here: nothing canceled');
    cancels.stop();
  }),
);

// A takeover's read refused (a busy read model) left the marks unknown too: a client back
// without the flag wrote nothing, and the grace end, which unmarks only the clients the
// gateway knew marked, kept the state's mark of it.
test(
  'a login without the flag after a refused takeover read unmarks its client',
  withMockedTimers(async () => {
    const { sink, cancels, login } = setUp();
    let asked = 0;
    const query = (): Promise<{ sequence: number; body: unknown }> =>
      asked++ === 0
        ? Promise.reject(new Error('busy'))
        : Promise.resolve({ sequence: 1, body: Float64Array.from([7]) });
    const sessions = new Map<number, CancelFields>();
    cancels.takeOver({ query } as unknown as StateReads, (client) => sessions.get(client));
    await settle(); // refused
    sessions.set(7, login(7, false));
    mock.timers.tick(cancelOnDisconnectGraceMs);
    await settle(); // the grace end's read answers: 7 (its unmark not applied yet)
    assert.deepEqual(sink.marks(), [[7, 0]], 'its mark goes, once');
    assert.deepEqual(sink.rounds(), []);
    sessions.delete(7);
    login(7, false);
    assert.deepEqual(sink.marks(), [[7, 0]], 'known since the grace end: nothing more');
    cancels.stop();
  }),
);

test(
  'a takeover with no client marked logs nothing at the grace end',
  withMockedTimers(async () => {
    const { sink, lines, cancels } = setUp();
    cancels.takeOver(readsOf([]), () => undefined);
    await settle();
    mock.timers.tick(cancelOnDisconnectGraceMs);
    await settle();
    assert.equal(cancels.graceRunning(), false, 'the grace ended');
    assert.deepEqual(lines, [], "no '0 clients marked' line at every start");
    assert.deepEqual(sink.commands, []);
    cancels.stop();
  }),
);

/**
 * holds() wrote the waiting marks as a side effect of the check: asking whether a client's
 * commands must wait put commands into the ring. Fails on the old code: holds(7) writes the
 * mark and answers false.
 */
test('holds only checks; writeWaitingMarks writes the marks that fit', () => {
  const { sink, cancels, login } = setUp();
  sink.full = true;
  login(7); // its mark waits for room
  assert.deepEqual(sink.marks(), [], 'no room: the mark waits');
  sink.full = false;
  assert.equal(cancels.holds(7), true, "7's commands wait for its mark");
  assert.equal(cancels.holds(8), false, 'another client is not held');
  assert.deepEqual(sink.marks(), [], 'the check wrote nothing');
  cancels.writeWaitingMarks();
  assert.deepEqual(sink.marks(), [[7, 1]]);
  assert.equal(cancels.holds(7), false, 'written: no longer held');
  cancels.stop();
});

/**
 * The grace was a field the node set after constructing the gateway: a constructor argument
 * now. Fails on the old code: the grace stays 5 s, nothing is canceled at 200 ms.
 */
test(
  'the grace given to the constructor is the one a takeover waits',
  withMockedTimers(async () => {
    const { sink, lines, cancels } = setUp(200);
    cancels.takeOver(readsOf([7]), () => undefined);
    await settle();
    mock.timers.tick(200);
    await settle();
    assert.equal(cancels.graceRunning(), false, 'the grace ended at 200 ms');
    assert.deepEqual(sink.rounds(), [7], '7 never came back: its orders go');
    assert.ok(lines.some((l) => l.includes('no session within 200 ms of taking over')));
    cancels.stop();
  }),
);

/**
 * A reconnect storm: the node sheds most logins (503, come back in retryAfterMs) and its clients
 * come back after the grace. Fails on the old code: the grace ended at 5 s whatever the node
 * shed, and 7, told to wait 8 s, lost its orders though it logged in at 15 s.
 */
test(
  'a login shed during the grace holds it until the grace after twice its wait',
  withMockedTimers(async () => {
    const { sink, lines, cancels, login } = setUp();
    const sessions = new Map<number, CancelFields>();
    cancels.takeOver(readsOf([7, 8]), (client) => sessions.get(client));
    await settle();
    mock.timers.tick(1_000);
    cancels.loginShed(8_000); // 7's login, and 8's
    mock.timers.tick(cancelOnDisconnectGraceMs - 1_000 + 10_000); // 15 s from the takeover
    await settle();
    assert.equal(cancels.graceRunning(), true, 'held past 5 s by the shed logins');
    assert.deepEqual(sink.rounds(), []);
    sessions.set(7, login(7)); // back at 15 s; 8 never comes back
    mock.timers.tick(2 * 8_000 + cancelOnDisconnectGraceMs); // past every hold
    await settle();
    assert.equal(cancels.graceRunning(), false, 'ended once no login was shed for the hold');
    assert.deepEqual(sink.rounds(), [8], '7 keeps its orders, 8 loses them');
    const held = 2 * 8_000 + cancelOnDisconnectGraceMs;
    assert.ok(
      lines.some((l) => l.includes(`(${held} ms of it held by shed logins)`)),
      'said',
    );
    cancels.stop();
  }),
);

test(
  'shed logins hold the grace no longer than the SDK goes on trying',
  withMockedTimers(async () => {
    const { sink, cancels } = setUp();
    cancels.takeOver(readsOf([7]), () => undefined);
    await settle();
    for (let ms = 0; ms < 2 * cancelOnDisconnectGraceHeldMaxMs; ms += 1_000) {
      cancels.loginShed(loginRetryAfterMaxMs); // a storm that never ends (or a flood)
      mock.timers.tick(1_000);
      await settle();
      if (!cancels.graceRunning()) break;
    }
    assert.equal(cancels.graceRunning(), false, 'the grace ended');
    assert.deepEqual(sink.rounds(), [7], '7 never came back: its orders go');
    cancels.stop();
  }),
);

test(
  'a login shed outside a grace holds nothing',
  withMockedTimers(async () => {
    const { sink, cancels } = setUp();
    cancels.loginShed(loginRetryAfterMaxMs); // no takeover yet: nothing to hold
    cancels.takeOver(readsOf([7]), () => undefined);
    await settle();
    mock.timers.tick(cancelOnDisconnectGraceMs);
    await settle();
    assert.equal(cancels.graceRunning(), false, 'the grace ended on time');
    assert.deepEqual(sink.rounds(), [7]);
    cancels.stop();
  }),
);

/**
 * An upgrade refused by a node full at sessionCountMax, told to the grace as gateway.ts
 * onUpgrade tells it (loginShed when the refusal says when to come back).
 */
function refusedFull(cancels: CancelOnDisconnect): void {
  const failures = new LoginFailures(() => {}, 60_000);
  const gate = new Admission<unknown>(() => failures);
  const address = Buffer.from('10.0.0.7', 'latin1');
  const res = { getRemoteAddressAsText: () => address.buffer.slice(0) } as unknown;
  const req = { getHeader: () => '' } as unknown as HttpRequest;
  const refused = gate.upgradeRefusal(sessionCountMax, res as HttpResponse, req, { keys: null });
  assert.equal(refused?.error, 'too many sessions');
  // As the gateway passes it (gateway.ts onUpgrade).
  if (refused?.retryAfterMs !== undefined) cancels.loginShed(refused.retryAfterMs, refused.full);
  gate.stop();
}

/**
 * A node full at sessionCountMax is the venue's own limit, as a login shed in a storm is: a
 * client it turns away during the grace is not gone. Fails on the old code: the refusal said
 * no wait, held nothing, and 7, back at 7 s, had lost its orders at 5 s.
 */
test(
  'a login refused at the session cap during the grace holds it as a shed one',
  withMockedTimers(async () => {
    const { sink, cancels, login } = setUp();
    const sessions = new Map<number, CancelFields>();
    cancels.takeOver(readsOf([7, 8]), (client) => sessions.get(client));
    await settle();
    mock.timers.tick(1_000);
    refusedFull(cancels); // 7's login, and 8's: the node is full
    mock.timers.tick(cancelOnDisconnectGraceMs + 1_000); // 7 s from the takeover
    await settle();
    assert.equal(cancels.graceRunning(), true, 'held past 5 s by the refused logins');
    assert.deepEqual(sink.rounds(), []);
    sessions.set(7, login(7)); // a place freed: 7 is back; 8 never comes back
    mock.timers.tick(cancelOnDisconnectGraceHeldMaxMs); // past every hold
    await settle();
    assert.equal(cancels.graceRunning(), false, 'ended once none was refused for the hold');
    assert.deepEqual(sink.rounds(), [8], '7 keeps its orders, 8 loses them');
    cancels.stop();
  }),
);

/**
 * Sheds `cancels` a login each second (told to wait loginRetryAfterMaxMs), calling `each` with
 * the second, until the grace ends or `maxMs`; returns when it ended (ms from the takeover).
 */
async function shedUntilGraceEnds(
  cancels: CancelOnDisconnect,
  maxMs: number,
  each: (ms: number) => void = () => {},
): Promise<number> {
  for (let ms = 0; ms < maxMs; ms += 1_000) {
    if (!cancels.graceRunning()) return ms;
    each(ms);
    cancels.loginShed(loginRetryAfterMaxMs);
    mock.timers.tick(1_000);
    await settle();
  }
  return maxMs;
}

/** The longest a grace lasts while no client comes back, however many logins are shed. */
const idleHeldMaxMs =
  cancelOnDisconnectGraceMs +
  cancelOnDisconnectHoldsIdleMax * (2 * loginRetryAfterMaxMs + cancelOnDisconnectGraceMs);

/**
 * A flood of upgrades (no key needed: each is shed 503 before any Hello) held the grace for
 * cancelOnDisconnectGraceHeldMaxMs, 120 s, while 7, gone with the old primary, kept its orders
 * resting. Shed logins now hold it only while clients come back. Fails on the old code: the
 * grace ran 120 s.
 */
test(
  'a flood of shed logins with no client coming back holds the grace one hold at most',
  withMockedTimers(async () => {
    const { sink, lines, cancels } = setUp();
    cancels.takeOver(readsOf([7]), () => undefined);
    await settle();
    const endedMs = await shedUntilGraceEnds(cancels, 2 * cancelOnDisconnectGraceHeldMaxMs);
    assert.ok(endedMs <= idleHeldMaxMs + 1_000, `ended at ${endedMs} ms`);
    assert.ok(lines.some((l) => l.includes('logins shed, but no client back for 1 hold(s)')));
    assert.deepEqual(sink.rounds(), [7], '7 never came back: its orders go');
    cancels.stop();
  }),
);

/** Logins of one client again and again are one client back: no more hold than none. */
test(
  'one client logging in again and again holds the grace no longer than one login',
  withMockedTimers(async () => {
    const { sink, cancels, login } = setUp();
    cancels.takeOver(readsOf([7, 8]), () => undefined);
    await settle();
    const again = (): void => void cancels.closed(login(8), 8, 1000);
    const endedMs = await shedUntilGraceEnds(cancels, 2 * cancelOnDisconnectGraceHeldMaxMs, again);
    const oneMoreMs = 2 * loginRetryAfterMaxMs + cancelOnDisconnectGraceMs;
    assert.ok(endedMs <= idleHeldMaxMs + oneMoreMs + 1_000, `ended at ${endedMs} ms`);
    assert.deepEqual(sink.rounds(), [7], '7 never came back: its orders go');
    cancels.stop();
  }),
);

/** A storm the node works through (clients back every second) is held as before. */
test(
  'shed logins hold the grace while clients come back, up to the SDK tries',
  withMockedTimers(async () => {
    const { sink, cancels, login } = setUp();
    const sessions = new Map<number, CancelFields>();
    cancels.takeOver(readsOf([7, 8]), (client) => sessions.get(client));
    await settle();
    const storm = (ms: number): void => {
      login(1_000 + ms / 1_000); // another client of the storm is let in
      if (ms === 60_000) sessions.set(7, login(7)); // 7, shed until now, is back; 8 never
    };
    const endedMs = await shedUntilGraceEnds(cancels, 2 * cancelOnDisconnectGraceHeldMaxMs, storm);
    assert.ok(endedMs > 60_000, `held while the storm came back: ended at ${endedMs} ms`);
    assert.ok(endedMs <= cancelOnDisconnectGraceHeldMaxMs + 1_000, `ended at ${endedMs} ms`);
    assert.deepEqual(sink.rounds(), [8], '7 keeps its orders, 8 loses them');
    cancels.stop();
  }),
);

/**
 * A node full at sessionCountMax takes no login until a session leaves: no client comes back,
 * however many it turns away, and 525c3a9's rule (a hold with none back is a flood's) ended
 * the grace one hold on: 7 and 8, shed by the node itself and told their orders were kept
 * (1001), lost them at 26 s, and 7, let in at 60 s, found them gone with nothing said. A hold
 * in which the node was full of logged-in sessions now counts as clients coming back. Fails on
 * the old code: the grace ended at 26 s and both lost their orders.
 */
test(
  'a node full at the session cap holds the grace while it sheds, up to the SDK tries',
  withMockedTimers(async () => {
    const { sink, lines, cancels, login } = setUp();
    const sessions = new Map<number, CancelFields>();
    cancels.takeOver(readsOf([7, 8]), (client) => sessions.get(client));
    await settle();
    for (let ms = 0; ms < 60_000; ms += 1_000) {
      refusedFull(cancels); // 7's login, and 8's: the node is full
      mock.timers.tick(1_000);
      await settle();
    }
    assert.equal(cancels.graceRunning(), true, 'held at 60 s: the node turned them away');
    assert.deepEqual(sink.rounds(), []);
    sessions.set(7, login(7)); // a place freed: 7 is back; 8 never comes back
    const endedMs = await shedUntilGraceEnds(cancels, 2 * cancelOnDisconnectGraceHeldMaxMs);
    assert.ok(endedMs <= cancelOnDisconnectGraceHeldMaxMs, `ended ${endedMs} ms after 60 s`);
    assert.deepEqual(sink.rounds(), [8], '7 keeps its orders, 8 loses them');
    assert.ok(lines.some((l) => /clients 8: no session within \d+ ms of taking over/.test(l)));
    cancels.stop();
  }),
);
