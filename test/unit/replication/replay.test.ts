/**
 * Datagrams a member really sent, recorded and sent again from its own address and port: their
 * MAC is good (a member made them), so only the transport's memory of what it took stops them.
 * It remembered the last 1,024 messages, by a random id a run: anything older, or of an earlier
 * run, was taken again (a dead primary's heartbeats kept its standbys from electing; a NAK sent
 * again had its fragments resent each time). Now each message of a member's run is taken once
 * (within a window of 2^17 ids), and none of a run before the one heard (replay-window.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { until } from '../../harness/wait.js';
import type { Append, Entry, Message } from '../../../src/replication/messages.js';
import { UdpTransport } from '../../../src/replication/udp-transport.js';
import { secretBytes } from '../../../src/replication/datagram-mac.js';
import { Freshness, nextStart, ReplayWindows } from '../../../src/replication/replay-window.js';
import { memberTransport } from '../../../src/pipeline/member-transport.js';
import {
  renewBytes,
  RenewAsks,
  renewFloor,
  writeRenew,
} from '../../../src/replication/run-renewal.js';
import { udpRenewAskMs } from '../../../src/constants.js';

const secret = randomBytes(secretBytes);

const status: Message = {
  kind: 'status',
  cluster: 0,
  members: 0b11,
  term: 1,
  from: 1,
  ok: true,
  match: 1,
  durable: 1,
  nak: 0,
  recovering: false,
  life: 1,
};

/** A message of many datagrams from member 1. */
function largeAppend(): Append {
  const payload = new Uint8Array(60_000).map((_, i) => (i * 7) & 0xff);
  const hash = 'ab'.repeat(32);
  const entry: Entry = { term: 1, first: 1, last: 1, count: 1, prevHash: hash, hash, payload };
  const fields = { cluster: 0, members: 0b11, term: 1, from: 1, prevIndex: 0, commit: 0 };
  return { kind: 'append', ...fields, prevHash: hash, entries: [entry], life: 1 };
}

/** What `t` sends from now on (copies), and a way to send bytes from its own socket. */
function record(t: UdpTransport): {
  sent: Buffer[];
  sendFrom: (bytes: Buffer, port: number) => void;
} {
  const socket = (t as unknown as { socket: Socket }).socket;
  const sent: Buffer[] = [];
  const send = socket.send.bind(socket) as (...args: unknown[]) => void;
  socket.send = ((...args: unknown[]) => {
    if (Buffer.isBuffer(args[0]) && args[0].byteLength > 0) sent.push(Buffer.from(args[0]));
    send(...args);
  }) as typeof socket.send;
  return { sent, sendFrom: (bytes, port) => send(bytes, port, '127.0.0.1') };
}

/** Member `id` bound on loopback (`port`: 0 for any), taking messages into `received`. */
async function member(id: number, received: Message[], port = 0): Promise<UdpTransport> {
  const t = new UdpTransport(id, [], (m) => received.push(m), secret);
  await t.bind('127.0.0.1', port);
  return t;
}

function peers(a: UdpTransport, b: UdpTransport): { id: number; host: string; port: number }[] {
  return [
    { id: 1, host: '127.0.0.1', port: a.port },
    { id: 2, host: '127.0.0.1', port: b.port },
  ];
}

/** `count` statuses from `a` to member 2, a hundred at a time, each taken by `received`. */
async function sendMany(a: UdpTransport, count: number, received: Message[]): Promise<void> {
  for (let sent = 0; sent < count; sent += 100) {
    const before = received.length;
    for (let i = 0; i < 100; i++) a.send(2, status);
    await until('a hundred statuses', () => received.length === before + 100);
  }
}

async function arrival(t: UdpTransport, before: number): Promise<void> {
  await until('the datagram arrives', () => t.stats.datagramsReceived > before);
}

test('a message sent again from its sender, however much later, is taken once', async () => {
  const received: Message[] = [];
  const a = await member(1, []);
  const b = await member(2, received);
  a.setPeers(peers(a, b));
  b.setPeers(peers(a, b));
  const fromA = record(a);
  try {
    a.send(2, { ...status, term: 7 });
    await until('the first', () => received.length === 1);
    await sendMany(a, 1_100, received); // more than the 1,024 messages remembered before
    const before = b.stats.datagramsReceived;
    fromA.sendFrom(fromA.sent[0], b.port);
    await arrival(b, before);
    assert.equal(received.length, 1_101, 'not taken again');
    assert.equal(received.filter((m) => m.term === 7).length, 1);
    assert.equal(b.stats.duplicates, 1);
  } finally {
    a.close();
    b.close();
  }
});

/** Member 1 started again on `port` (its last run closed), known to `b`, its datagrams recorded. */
async function restart(
  port: number,
  b: UdpTransport,
): Promise<{ t: UdpTransport; sent: Buffer[]; sendFrom: (bytes: Buffer, port: number) => void }> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  const t = await member(1, [], port);
  t.setPeers(peers(t, b));
  return { t, ...record(t) };
}

test("datagrams of a member's earlier runs are not taken once a later run is heard", async () => {
  // The run just before the newest: dropped as its late datagrams would be; any earlier one:
  // refused and told (nothing but a replay sends it).
  const received: Message[] = [];
  const first = await member(1, []);
  const b = await member(2, received);
  first.setPeers(peers(first, b));
  b.setPeers(peers(first, b));
  const told: string[] = [];
  b.onRefused = (line) => told.push(line);
  const fromFirst = record(first);
  const port = first.port;
  first.send(2, { ...status, term: 7 });
  await until('the first run heard', () => received.length === 1);
  first.close();
  const second = await restart(port, b);
  second.t.send(2, { ...status, term: 8 });
  await until('the second run heard', () => received.length === 2);
  second.t.close();
  const third = await restart(port, b);
  try {
    await sendMany(third.t, 1_100, received);
    const before = b.stats.datagramsReceived;
    third.sendFrom(fromFirst.sent[0], b.port); // the first run's, from the member's port
    third.sendFrom(second.sent[0], b.port); // the second's
    await until('both arrive', () => b.stats.datagramsReceived >= before + 2);
    assert.equal(received.filter((m) => m.term >= 7).length, 2, 'neither taken again');
    assert.equal(b.stats.refused.stale, 1);
    assert.equal(b.stats.duplicates, 1);
    assert.equal(told.length, 1);
    assert.match(told[0], /in a run before the one heard since: sent again by someone/);
    assert.ok(first.start < second.t.start && second.t.start < third.t.start, 'starts grow');
  } finally {
    third.t.close();
    b.close();
  }
});

test('a NAK sent again resends nothing', async () => {
  const received: Message[] = [];
  const a = await member(1, []);
  const b = await member(2, received);
  a.setPeers(peers(a, b));
  b.setPeers(peers(a, b));
  const fromB = record(b);
  try {
    a.faults.drop = 0.3; // some fragments lost: b NAKs them
    a.send(2, largeAppend());
    await until('the append, repaired', () => received.length === 1);
    a.faults.drop = 0;
    const naks = fromB.sent.filter((d) => d.readUInt8(2) === 2);
    assert.ok(naks.length > 0 && a.stats.fragmentsResent > 0, 'repaired by NAKs');
    const resent = a.stats.fragmentsResent;
    const before = a.stats.datagramsReceived;
    for (const nak of naks) fromB.sendFrom(nak, a.port);
    await until('the NAKs arrive', () => a.stats.datagramsReceived >= before + naks.length);
    assert.equal(a.stats.fragmentsResent, resent, 'nothing resent');
    assert.equal(a.stats.duplicates, naks.length);
  } finally {
    a.close();
    b.close();
  }
});

test('replay windows: each id once, the window moves up, a restart begins anew', () => {
  const w = new ReplayWindows(3, 64);
  assert.equal(w.check(2, 100, 1), Freshness.Restarted, 'the first start heard');
  w.taken(2, 1);
  assert.equal(w.check(2, 100, 1), Freshness.Heard);
  assert.equal(w.check(2, 100, 3), Freshness.New, 'ids skipped are no matter');
  assert.equal(w.check(2, 100, 2), Freshness.New, 'a late one, not taken yet');
  w.taken(2, 2);
  assert.equal(w.check(2, 100, 2), Freshness.Heard);
  assert.equal(w.check(2, 100, 70), Freshness.New, 'the window moves up to 70');
  assert.equal(w.check(2, 100, 6), Freshness.Old, 'more than 64 below: too old to tell');
  assert.equal(w.check(2, 100, 7), Freshness.New, 'within 64 below');
  w.taken(2, 7);
  w.taken(2, 1); // passed while it was reassembled: nothing
  assert.equal(w.check(2, 100, 7 + 64), Freshness.New, 'its bit was cleared as the window moved');
  assert.equal(w.check(3, 100, 1), Freshness.Restarted, 'members apart');
  assert.equal(w.check(2, 200, 5), Freshness.Restarted, 'a new run');
  assert.equal(w.check(2, 200, 7), Freshness.New, 'nothing of the last run carried');
  assert.equal(w.check(2, 100, 300), Freshness.Old, 'the run before: its last datagrams');
  assert.equal(w.check(2, 50, 300), Freshness.Stale, 'a run before that one');
  assert.equal(w.check(2, Number.NaN, 300), Freshness.Stale);
});

test('replay windows: a start remembered from before a restart is taken only once passed', () => {
  const w = new ReplayWindows(3, 64);
  w.remember(2, 100);
  assert.equal(w.newest(2), 100);
  assert.equal(w.check(2, 100, 5), Freshness.Unproven, 'its ids taken before are not known');
  assert.equal(w.check(2, 100, 9_000), Freshness.Unproven, 'however high');
  assert.equal(w.check(2, 40, 1), Freshness.Unproven, 'an earlier run: the sender is asked too');
  assert.equal(w.check(2, 101, 1), Freshness.Restarted, 'a run above it');
  w.taken(2, 1);
  assert.equal(w.check(2, 101, 1), Freshness.Heard);
  assert.equal(w.check(2, 100, 5), Freshness.Old, 'the run before the newest, as ever');
  assert.equal(w.check(2, 40, 1), Freshness.Stale);
  w.remember(3, 70);
  w.remember(3, 60); // below: nothing
  assert.equal(w.newest(3), 70);
  assert.equal(w.check(1, 5, 1), Freshness.Restarted, 'a member not remembered: its first start');
});

test('renew: only an ask naming the run in use renews it, above the start named', () => {
  const ask = (seen: number, floor: number): Buffer => {
    const bytes = Buffer.alloc(renewBytes);
    writeRenew(bytes, seen, floor);
    return bytes;
  };
  assert.equal(renewFloor(ask(500, 900), 500), 900, 'a member behind the start known of it');
  assert.equal(renewFloor(ask(500, 500), 500), 500, 'a run the asker cannot vouch for');
  assert.equal(renewFloor(ask(400, 900), 500), -1, 'provoked by an older run (a replay)');
  assert.equal(renewFloor(ask(500, 300), 500), -1, 'a floor below the run: nothing to pass');
  assert.equal(renewFloor(ask(500, 900).subarray(0, renewBytes - 1), 500), -1, 'too short');
  const asks = new RenewAsks();
  assert.equal(asks.due(2, 1_000, 500, 500), true);
  assert.equal(asks.due(2, 1_000 + udpRenewAskMs - 1, 500, 500), false, 'one per udpRenewAskMs');
  assert.equal(asks.due(3, 1_000, 500, 500), true, 'members apart');
  assert.equal(asks.due(2, 1_000 + udpRenewAskMs, 500, 500), true);
  assert.equal(asks.due(2, 1_000 + udpRenewAskMs, 300, 500), true, 'another start: apart');
  assert.equal(asks.due(2, 1_000 + udpRenewAskMs + 1, 300, 500), false);
  // The newest known is no run of the sender's (a member that lost its folder knows its own):
  // the newest start refused is the run in use, an older one (a replay) asks apart.
  assert.equal(asks.due(4, 1_000, 300, 900), true, 'the first refused');
  assert.equal(asks.due(4, 1_001, 300, 900), false, 'the newest refused: in use, asked');
  assert.equal(asks.due(4, 1_000 + udpRenewAskMs, 200, 900), true, 'a replay: apart');
  assert.equal(asks.due(4, 1_000 + udpRenewAskMs, 300, 900), true, 'the run in use still asked');
  assert.equal(asks.due(4, 1_000 + udpRenewAskMs + 1, 200, 900), false, 'one per interval');
  // Right after a restart the first refused start may be a replay's: the sender's own run, newer,
  // is asked at once (that first ask charged to the replays'), not one interval later.
  const restarted = new RenewAsks();
  assert.equal(restarted.due(2, 1_000, 200, 900), true, 'the first refused: a replay');
  assert.equal(restarted.due(2, 1_001, 300, 900), true, 'the run in use: asked at once');
  assert.equal(restarted.due(2, 1_002, 300, 900), false, 'then once per interval');
  assert.equal(restarted.due(2, 1_003, 250, 900), false, 'the replays: their ask spent');
  assert.equal(restarted.due(2, 1_004, 400, 900), false, 'a newer still: both spent');
  assert.equal(restarted.due(2, 1_000 + udpRenewAskMs, 200, 900), true, 'a replay, next interval');
  assert.equal(restarted.due(2, 1_001 + udpRenewAskMs, 400, 900), true, 'the run in use, too');
  assert.equal(asks.due(5, 1_000, Number.NaN, 900), true, 'a NaN start: apart, no throw');
});

/**
 * Members 1 (`a`, its datagrams recorded) and 2 (`b`, taking into `received`, the starts it
 * hears `stored`), once `b` took a first status (term 7) of `a`.
 */
async function firstHeard(received: Message[]) {
  const a = await member(1, []);
  const b = await member(2, received);
  a.setPeers(peers(a, b));
  b.setPeers(peers(a, b));
  const stored = new Map<number, number>();
  b.onPeerStart = (id, start) => stored.set(id, start);
  const fromA = record(a);
  a.send(2, { ...status, term: 7 });
  await until('the first', () => received.length === 1);
  return { a, b, stored, fromA };
}

/** Member 2 (`b`) started again on its port, remembering the starts it `stored` of `a`. */
async function restartRemembering(
  b: UdpTransport,
  a: UdpTransport,
  received: Message[],
  stored: ReadonlyMap<number, number>,
): Promise<UdpTransport> {
  const port = b.port;
  b.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const back = await member(2, received, port);
  back.setPeers(peers(a, back));
  back.rememberStarts(stored);
  return back;
}

test('a restarted member asks a sender it remembers to renew its run, then hears it', async () => {
  const received: Message[] = [];
  const { a, b, stored, fromA } = await firstHeard(received);
  assert.deepEqual([...stored], [[1, a.start]], "a's start, stored as it was first heard");
  const back = await restartRemembering(b, a, received, stored);
  const renewed: number[] = [];
  a.onRenewed = (by, was, start) => renewed.push(by, was, start);
  try {
    const first = a.start;
    fromA.sendFrom(fromA.sent[0], back.port); // recorded before the restart: not taken
    await until('a renews', () => a.stats.runsRenewed === 1);
    assert.deepEqual(renewed, [2, first, a.start]);
    assert.ok(a.start > first);
    assert.equal(received.length, 1, 'the recorded datagram not taken');
    assert.equal(back.stats.renewsAsked, 1);
    a.send(2, { ...status, term: 8 });
    await until('the new run heard', () => received.length === 2);
    assert.equal(received[1].term, 8);
    fromA.sendFrom(fromA.sent[0], back.port); // and again, now the run before the newest
    await until('it arrives', () => back.stats.duplicates >= 2);
    assert.equal(received.length, 2);
    assert.equal(a.stats.runsRenewed, 1, 'asked no more');
  } finally {
    a.close();
    back.close();
  }
});

/**
 * Member 1's first run recorded, then a second run heard by member 2, which `rejoin` then
 * starts again on its port (restarted, or its folder lost). Each 100 ms a datagram of the
 * first run is sent again just before one of the run in use: member 1 must be asked to renew
 * the run in use, once, and be heard in its new run, none of the others taken again.
 */
async function replaysAhead(
  rejoin: (
    b: UdpTransport,
    a: UdpTransport,
    stored: ReadonlyMap<number, number>,
  ) => Promise<UdpTransport>,
): Promise<void> {
  const received: Message[] = [];
  const { a: first, b, stored, fromA: fromFirst } = await firstHeard(received);
  first.close();
  const a = await restart(first.port, b);
  a.t.send(2, { ...status, term: 8 });
  await until('the second run heard', () => received.length === 2);
  const back = await rejoin(b, a.t, stored);
  back.onMessage = (m) => received.push(m);
  try {
    for (let round = 0; round < 5 && a.t.stats.runsRenewed === 0; round++) {
      const before = back.stats.datagramsReceived;
      a.sendFrom(fromFirst.sent[0], back.port); // the first run's, sent again: asks in vain
      a.t.send(2, { ...status, term: 9 }); // the run in use, just after
      await until('both arrive', () => back.stats.datagramsReceived >= before + 2);
      await new Promise((resolve) => setTimeout(resolve, udpRenewAskMs + 20));
    }
    assert.equal(a.t.stats.runsRenewed, 1, 'the sender was asked to renew the run in use');
    a.t.send(2, { ...status, term: 10 });
    await until('the new run heard', () => received.some((m) => m.term === 10));
    assert.equal(received.filter((m) => m.term === 7 || m.term === 9).length, 1, 'none again');
  } finally {
    a.t.close();
    back.close();
  }
}

test("replays of a sender's older run do not keep a restarted member from asking it", async () => {
  // A restarted member refuses the run it remembers (Unproven) and asks its sender to renew,
  // at most once per udpRenewAskMs. A datagram of an older run sent again also makes it ask
  // (naming that run: it renews nothing). Before, both drew on one allowance a member: a
  // replay just ahead of the sender's datagrams in each interval used it up, so the member
  // never asked for the run in use and never heard the sender while the replays went on.
  await replaysAhead((b, a, stored) => restartRemembering(b, a, [], stored));
});

/**
 * Member 2 started anew on `b`'s port in run `start`, its folder lost: memberTransport, as a
 * recovering member's, taking into `received`.
 */
async function rejoinWiped(
  b: UdpTransport,
  a: UdpTransport,
  start = nextStart(0),
  received: Message[] = [],
): Promise<UdpTransport> {
  const port = b.port;
  b.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  return wipedOn(2, [a.port, port], start, received);
}

/**
 * Member `id` started in run `start` on its port of `ports` (members 1 and 2's), its folder
 * lost: memberTransport, as a recovering member's, taking into `received`.
 */
async function wipedOn(
  id: number,
  ports: readonly [number, number],
  start: number,
  received: Message[],
): Promise<UdpTransport> {
  const members = ports.map((port, i) => ({ id: i + 1, host: '127.0.0.1', replicationPort: port }));
  const options = { id, members, secret, start, recovering: true };
  const t = memberTransport(
    options,
    (m) => received.push(m),
    () => {},
  );
  await t.bind('127.0.0.1', ports[id - 1]);
  return t;
}

test('replays of an older run do not keep a member that lost its folder from asking', async () => {
  // A member that lost its folder takes its own start for each member's (07a70e2): the run a
  // live sender is in is below it, Unproven, and asked to renew; so is a replay of an older
  // run. Both named a start other than the newest known (the member's own), so both drew on
  // the one allowance for those (bf1c68f): a replay just ahead of the sender's datagrams in
  // each interval used it up, and the member never heard its primary while replays went on.
  await replaysAhead((b, a) => rejoinWiped(b, a));
});

test('a wiped member behind its last run hears a member in an older run', async () => {
  // Member 1 (`p`) is in run 1,000 and heard member 2 in run 3,000, 2's last before it lost
  // its folder. 2 comes back with its clock behind that: its new run, 2,000, is Stale at 1,
  // which asks 2 to renew; and 1's run is below 2's own start, which a member that lost its
  // folder takes for each other member's (07a70e2): Unproven at 2, which asks 1 to renew.
  // Each refused the other's Renew (of a run it refused): they never heard each other.
  const toP: Message[] = [];
  const toW: Message[] = [];
  const p = await memberIn(1, 1_000, toP);
  const before = await memberIn(2, 3_000, []);
  p.setPeers(peers(p, before));
  before.setPeers(peers(p, before));
  before.send(1, { ...status, from: 2, term: 7 });
  await until('run 3,000 heard', () => toP.length === 1);
  const w = await rejoinWiped(before, p, 2_000, toW);
  try {
    await exchange(p, w, () => toW.length > 0 && toP.length > 1);
    assert.ok(toW.length > 0, '2 hears 1');
    assert.ok(toP.length > 1, '1 hears 2');
  } finally {
    p.close();
    w.close();
  }
});

/**
 * Members 1 (`one`) and 2 (`two`) send each other a status every udpRenewAskMs (and a bit),
 * 10 times or until `heard`.
 */
async function exchange(one: UdpTransport, two: UdpTransport, heard: () => boolean) {
  for (let round = 0; round < 10 && !heard(); round++) {
    one.send(2, { ...status, term: 8 });
    two.send(1, { ...status, from: 2, term: 8 });
    await new Promise((resolve) => setTimeout(resolve, udpRenewAskMs + 20));
  }
}

/** Member `id` bound on loopback in run `start`, taking messages into `received`. */
async function memberIn(id: number, start: number, received: Message[]): Promise<UdpTransport> {
  const t = new UdpTransport(id, [], (m) => received.push(m), secret, undefined, undefined, start);
  await t.bind('127.0.0.1', 0);
  return t;
}

test('two wiped members, each sent a recording of the other, hear each other', async () => {
  // Members 1 and 2 in runs 3,000 and 4,000 each send one status, recorded; both lose their
  // folders and come back with clocks behind, in runs 1,000 and 2,000. The recordings, sent
  // again from each one's port to the other, are above the starts each took for the other's
  // (its own): taken, the newest heard (replay-window.ts). Then each run is Stale at the
  // other, and each asked the other to renew in a Renew of a run the other refused as Stale:
  // neither heard the other for as long as both runs went on.
  const old1 = await memberIn(1, 3_000, []);
  const old2 = await memberIn(2, 4_000, []);
  const ports = [old1.port, old2.port] as const;
  old1.setPeers(peers(old1, old2));
  old2.setPeers(peers(old1, old2));
  const [from1, from2] = [record(old1), record(old2)];
  old1.send(2, status);
  old2.send(1, { ...status, from: 2 });
  await until('both recorded', () => from1.sent.length > 0 && from2.sent.length > 0);
  old1.close();
  old2.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const [to1, to2]: Message[][] = [[], []];
  const w1 = await wipedOn(1, ports, 1_000, to1);
  const w2 = await wipedOn(2, ports, 2_000, to2);
  try {
    record(w1).sendFrom(from1.sent[0], w2.port);
    record(w2).sendFrom(from2.sent[0], w1.port);
    await until('the recordings taken', () => to1.length === 1 && to2.length === 1);
    await exchange(w1, w2, () => to1.length > 1 && to2.length > 1);
    assert.ok(to2.length > 1, '2 hears 1');
    assert.ok(to1.length > 1, '1 hears 2');
  } finally {
    w1.close();
    w2.close();
  }
});
