/**
 * The replication transport on loopback: whole messages across many datagrams, repaired by
 * NAKs under injected loss, duplication, reordering and delay; one-way partitions; and hostile
 * datagrams dropped without harm. The codec round-trips every message kind and never throws on
 * garbage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../../harness/wait.js';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns';
import fc from 'fast-check';
import {
  decodeMessage,
  encodeMessage,
  replicationVersion,
} from '../../../src/replication/codec.js';
import type { Append, Message, Status } from '../../../src/replication/messages.js';
import { noFaultPlan, UdpTransport } from '../../../src/replication/udp-transport.js';
import type { HostLookup } from '../../../src/replication/host-lookup.js';
import {
  datagramHeaderBytes,
  datagramMac,
  DatagramType,
  seal,
  transportVersion,
  writeHeader,
} from '../../../src/replication/datagram.js';
import { otherVersionDatagramsMin, udpReassemblyTimeoutMs } from '../../../src/constants.js';
import { termMax } from '../../../src/constants.js';
import { secretBytes } from '../../../src/replication/datagram-mac.js';
import {
  append,
  mac,
  pair,
  plain,
  rawSocket,
  sealedFragments,
  secret,
  sendRaw,
} from '../../../bench/lib/udp-pair.js';

// Before termMax any safe integer was taken: a peer's term of 2^53 - 1 made the next election's
// term + 1 inexact (this test failed on it).
test('codec: a term, a last term or an entry term past termMax is refused as malformed', () => {
  const header = { cluster: 7, members: 0b111, from: 2 };
  const status = (term: number): Message => {
    return {
      kind: 'status',
      ...header,
      term,
      ok: true,
      match: 9,
      durable: 8,
      nak: 0,
      recovering: false,
      life: 9,
    };
  };
  const request = (lastTerm: number): Message => {
    const fields = { lastIndex: 12, lastTerm, first: 0, pre: true, life: 9 };
    return { kind: 'vote-request', ...header, term: termMax, ...fields };
  };
  const withEntryTerm = (term: number): Message => {
    const m = append(1, 3, 500, 7);
    assert.equal(m.kind, 'append');
    return { ...m, entries: m.entries.map((e) => ({ ...e, term })) };
  };
  for (const make of [status, request, withEntryTerm]) {
    assert.notEqual(decodeMessage(encodeMessage(make(termMax))), null, 'termMax is a term');
    for (const term of [termMax + 1, Number.MAX_SAFE_INTEGER]) {
      assert.equal(decodeMessage(encodeMessage(make(term))), null, `${term}`);
    }
  }
});

test('codec: every message kind round-trips; garbage decodes to null, never throws', () => {
  const messages: Message[] = [
    append(1, 3, 500, 7),
    {
      kind: 'status',
      cluster: 7,
      members: 0b111_1111,
      term: 4,
      from: 2,
      ok: false,
      match: 9,
      durable: 8,
      nak: 5,
      recovering: true,
      life: 9,
    },
    {
      kind: 'vote-request',
      cluster: 0,
      members: 0b11,
      term: 5,
      from: 3,
      lastIndex: 12,
      lastTerm: 4,
      first: 0xfedc_ba98,
      pre: false,
      life: 0x8765_4321,
    },
    {
      kind: 'vote',
      cluster: 0xffff_ffff,
      members: 0b11,
      term: 5,
      from: 1,
      granted: true,
      pre: true,
      to: 7,
      life: 0xffff_fffe,
    },
    { kind: 'timeout-now', cluster: 0x0102_0304, members: 0b111, term: 7, from: 2 },
  ];
  for (const m of messages) {
    const back = decodeMessage(encodeMessage(m)) as Message;
    assert.deepEqual(plain(back), plain(m), m.kind);
  }
  const whole = encodeMessage(messages[0]);
  for (let cut = 0; cut < whole.byteLength; cut += 97) {
    assert.equal(decodeMessage(whole.subarray(0, cut)), null, `cut at ${cut}`);
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      decodeMessage(Buffer.from(bytes)); // must not throw
      const mutated = Buffer.from(whole);
      for (let i = 0; i < bytes.length; i += 2)
        mutated[bytes[i] % mutated.length] = bytes[i + 1] ?? 0;
      decodeMessage(mutated);
    }),
    { numRuns: 2_000 },
  );
});

/**
 * A status says its sender is recovering in bit 0 of the byte after `ok`, one of seven that
 * were reserved, written 0 and never read: a member of this version built before the flag
 * reads every status as not recovering, and its own statuses read as not recovering here.
 */
test('codec: a status says recovering in a reserved byte; other bits are ignored', () => {
  const fields = { cluster: 0, members: 0b111, term: 3, from: 2, match: 9, durable: 4, nak: 0 };
  const m: Message = { kind: 'status', ...fields, ok: true, recovering: true, life: 4 };
  const bytes = encodeMessage(m);
  assert.equal(bytes[16], 1, 'ok');
  assert.equal(bytes[17], 1, 'the flags byte: recovering');
  assert.deepEqual(bytes.subarray(18, 20), Buffer.alloc(2), 'the two still reserved');
  assert.equal(bytes.readUInt32LE(20), 4, 'its life, in four that were reserved');
  assert.deepEqual(plain(decodeMessage(bytes) as Message), plain(m));
  const before = Buffer.from(bytes);
  before[17] = 0; // as a member built before the flag writes it
  assert.equal((decodeMessage(before) as Status).recovering, false);
  const later = Buffer.from(bytes);
  later[17] = 0b1111_1110; // flags not known yet
  const back = decodeMessage(later) as Status;
  assert.equal(back.recovering, false);
  assert.equal(back.ok, true);
});

/**
 * A status says its sender's life in four reserved bytes, and an append echoes the standby's
 * after its entries: a member built before lives never reads either (it stops at the last
 * entry), and writes neither; here its status and append read as life 0, which names none.
 */
test('codec: lives ride where members built before neither write nor read', () => {
  const m = append(1, 2, 700, 3);
  const bytes = encodeMessage({ ...m, life: 0xfeed_f00d });
  assert.equal(bytes.readUInt32LE(bytes.byteLength - 4), 0xfeed_f00d, 'after the entries');
  assert.equal((decodeMessage(bytes) as Append).life, 0xfeed_f00d);
  const before = bytes.subarray(0, bytes.byteLength - 4); // as a member built before sends it
  const old = decodeMessage(before) as Append;
  assert.equal(old.life, 0, 'none named');
  assert.deepEqual(plain(old), plain({ ...m, life: 0 }), 'the rest as it was');
  const fields = { cluster: 0, members: 0b111, term: 3, from: 2, match: 9, durable: 4, nak: 0 };
  const status = encodeMessage({ kind: 'status', ...fields, ok: true, recovering: true, life: 5 });
  status.fill(0, 18, 24); // its reserved bytes, as a member built before writes them
  assert.equal((decodeMessage(status) as Status).life, 0);
  // A vote request's life and a vote's (the candidate's, echoed) ride after what it reads.
  const header = { cluster: 0, members: 0b111, term: 3, from: 2 };
  const request = { ...header, lastIndex: 9, lastTerm: 2, first: 7, pre: false };
  for (const v of [
    { kind: 'vote-request' as const, ...request, life: 0xfeed_f00d },
    { kind: 'vote' as const, ...header, granted: true, pre: false, to: 1, life: 0xfeed_f00d },
  ]) {
    const whole = encodeMessage(v);
    assert.deepEqual(plain(decodeMessage(whole) as Message), plain(v), v.kind);
    const short = whole.subarray(0, whole.byteLength - (v.kind === 'vote' ? 5 : 4));
    assert.deepEqual(plain(decodeMessage(short) as Message), plain({ ...v, life: 0 }), v.kind);
  }
});

test('a 2 MB append crosses in MTU-sized datagrams, whole', async () => {
  const received: Message[] = [];
  const { a, close } = await pair(received);
  try {
    const sent = append(1, 16, 128 * 1024, 1);
    a.send(2, sent);
    await until('the append', () => received.length === 1);
    const got = received[0] as Append;
    assert.equal(got.entries.length, 16);
    for (let i = 0; i < 16; i++) {
      assert.equal(got.entries[i].hash, sent.entries[i].hash);
      assert.deepEqual(Buffer.from(got.entries[i].payload), Buffer.from(sent.entries[i].payload));
    }
    assert.ok(a.stats.datagramsSent > 1500, 'split into datagrams of at most 1,400 bytes');
  } finally {
    close();
  }
});

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

test('the pacing timer runs only while datagrams wait or messages are incomplete', async () => {
  const idle = timers();
  const received: Message[] = [];
  const { a, b, close } = await pair(received);
  try {
    assert.equal(timers(), idle, 'bound and idle: no timer');
    a.send(2, append(1, 16, 128 * 1024, 1)); // 1,500 datagrams: more than one burst
    await null; // the send's pump runs in a microtask, and leaves the rest to the timer
    assert.ok(timers() > idle, 'a timer paces the rest');
    await until('the append', () => received.length === 1);
    await until('both idle again', () => timers() === idle, 2_000);
    a.faults = { ...noFaultPlan(9), drop: 0.3 }; // an idle receiver still NAKs what it lacks
    a.send(2, append(1, 4, 50_000, 2));
    await until('the lossy append, repaired', () => received.length === 2, 10_000);
    assert.ok(b.stats.naksSent > 0);
    assert.ok(a.stats.naksReceived > 0, 'the sender counts the NAKs it took');
  } finally {
    close();
  }
});

test('an append to two standbys is encoded once; a resend still arrives', async () => {
  const got: Message[][] = [[], [], []];
  const nodes = [1, 2, 3].map((id) => new UdpTransport(id, [], (m) => got[id - 1].push(m), secret));
  const ports = await Promise.all(nodes.map((n) => n.bind('127.0.0.1', 0)));
  const peers = ports.map((port, i) => ({ id: i + 1, host: '127.0.0.1', port }));
  for (const n of nodes) n.setPeers(peers);
  try {
    const sent = append(1, 3, 20_000, 5);
    nodes[0].send(2, sent);
    nodes[0].send(3, { ...sent, entries: [...sent.entries] }); // as consensus builds it anew
    await until('both standbys', () => got[1].length === 1 && got[2].length === 1);
    assert.equal(nodes[0].stats.appendsShared, 1);
    assert.deepEqual(plain(got[1][0]), plain(sent));
    assert.deepEqual(plain(got[2][0]), plain(sent));
    nodes[0].send(3, sent); // a resend to a standby that has it: a new id, not dropped
    await until('the resend', () => got[2].length === 2);
    assert.equal(nodes[0].stats.appendsShared, 1);
    nodes[0].send(2, { ...sent, commit: 3 }); // another append: encoded on its own
    await until('the next append', () => got[1].length === 2);
    assert.equal((got[1][1] as Append).commit, 3);
    assert.equal(nodes[0].stats.appendsShared, 1);
  } finally {
    for (const n of nodes) n.close();
  }
});

test('loss, duplicates, reordering and delay are repaired by NAKs; each message once', async () => {
  const received: Message[] = [];
  const { a, b, close } = await pair(received);
  try {
    a.faults = { ...noFaultPlan(7), drop: 0.2, duplicate: 0.05, reorder: 0.05, delayMsMax: 2 };
    b.faults = { ...noFaultPlan(8), drop: 0.2 }; // NAKs are lost too
    // 20 messages of 15 fragments. (Of 145 each, 4 MB in all, a loaded machine starved the
    // one process that sends, receives and NAKs: messages went 500 ms without progress and were
    // dropped for consensus to resend, which is not here; 12 of 19 runs failed at load 16.)
    for (let i = 0; i < 20; i++) a.send(2, append(1, 4, 5_000, 100 + i));
    await until('every append', () => received.length >= 20, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 50)); // late duplicates would land now
    const tags = received.map((m) => (m as Append).prevIndex).sort((x, y) => x - y);
    assert.deepEqual(
      tags,
      Array.from({ length: 20 }, (_, i) => 100 + i),
      'each once',
    );
    assert.ok(a.stats.faultsInjected > 0 && b.stats.naksSent > 0, 'faults happened, NAKs fixed');
    assert.ok(a.stats.fragmentsResent > 0);
  } finally {
    close();
  }
});

test('a message still arriving is kept past the reassembly timeout, and completes', async () => {
  // A loaded machine (or a slow link) brings a message's fragments slowly: timed from its first
  // fragment, it was dropped while still arriving, and never completed without a resend.
  const received: Message[] = [];
  const { a, b, close } = await pair(received);
  const raw = await rawSocket(); // member 3, whose fragments trickle in
  b.setPeers([
    { id: 1, host: '127.0.0.1', port: a.port },
    { id: 3, host: '127.0.0.1', port: raw.address().port },
  ]);
  try {
    const datagrams = fragmentsOf(encodeMessage(append(3, 1, 30_000, 7)));
    const gapMs = 50; // far below the timeout: the message makes progress all along
    assert.ok(datagrams.length * gapMs > 1.5 * udpReassemblyTimeoutMs, 'longer than it all');
    for (const datagram of datagrams) {
      await sendRaw(raw, datagram, b.port);
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    const done = () => received.length > 0 || b.stats.messagesDropped > 0;
    await until('the message, or its drop', done);
    assert.equal(b.stats.messagesDropped, 0, 'not dropped while it made progress');
    assert.deepEqual(plain(received[0]), plain(append(3, 1, 30_000, 7)));
  } finally {
    raw.close();
    close();
  }
});

test('a stall of the whole process longer than the timeout drops no message', async () => {
  // A loaded machine (or a long GC) stops the process; the fragments that came meanwhile wait
  // in the socket, read only after the timers run. The stall counted, the message was dropped.
  const received: Message[] = [];
  const { a, b, close } = await pair(received);
  const raw = await rawSocket(); // member 3
  b.setPeers([
    { id: 1, host: '127.0.0.1', port: a.port },
    { id: 3, host: '127.0.0.1', port: raw.address().port },
  ]);
  try {
    const message = append(3, 1, 5_000, 9);
    const datagrams = fragmentsOf(encodeMessage(message));
    for (const d of datagrams.slice(0, -1)) await sendRaw(raw, d, b.port);
    await until(
      'the first fragments read',
      () => b.stats.datagramsReceived === datagrams.length - 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 0)); // in the timers' phase, as a stall is
    raw.send(datagrams.at(-1)!, b.port, '127.0.0.1'); // sent by the kernel during the stall
    const stallEnd = Date.now() + 2 * udpReassemblyTimeoutMs;
    while (Date.now() < stallEnd); // the process does not run
    await until(
      'the message, or its drop',
      () => received.length > 0 || b.stats.messagesDropped > 0,
    );
    assert.equal(b.stats.messagesDropped, 0, 'not dropped for time the process did not run');
    assert.deepEqual(plain(received[0]), plain(message));
  } finally {
    raw.close();
    close();
  }
});

test('a fragment read just after a stall is NAKed for at once, and timed from then', () => {
  // After a stall the loop may read the socket before its timers run: a fragment read then was
  // stamped after the stall, and the next check added the stall to that stamp too, putting it
  // in the future: its message's gaps went un-NAKed, and its drop put off, for as long again.
  const clock = { now: 1_000 };
  const realNow = performance.now;
  performance.now = () => clock.now;
  const b = new UdpTransport(2, [], () => {}, secret); // not bound: no timer, checks by hand
  b.setPeers([{ id: 3, host: '127.0.0.1', port: 9 }]);
  b.faults = { ...noFaultPlan(), blockTo: new Set([3]) }; // NAKs counted, not sent
  const inside = b as unknown as {
    onFragment(datagram: Buffer, from: number, start: number): void;
    checkPartials(now: number): void;
  };
  const check = (): void => inside.checkPartials(++clock.now);
  try {
    const datagrams = fragmentsOf(encodeMessage(append(3, 1, 5_000, 11)));
    assert.ok(datagrams.length >= 3, 'a message of three fragments or more');
    inside.onFragment(datagrams[0], 3, forgedStart);
    for (let i = 0; i < 5; i++) check();
    clock.now += 2 * udpReassemblyTimeoutMs; // the process stalls: no check
    inside.onFragment(datagrams[2], 3, forgedStart); // read before the timers run
    for (let i = 0; i < 10 && b.stats.naksSent === 0; i++) check();
    assert.equal(b.stats.naksSent, 1, 'fragment 1 NAKed within a few checks of the stall');
    const after = clock.now;
    while (b.stats.messagesDropped === 0 && clock.now < after + 3 * udpReassemblyTimeoutMs) check();
    assert.equal(b.stats.messagesDropped, 1);
    assert.ok(clock.now - after <= udpReassemblyTimeoutMs + 10, `dropped at +${clock.now - after}`);
  } finally {
    performance.now = realNow;
    b.close();
  }
});

/** A message of member 3 as its fragments' datagrams, sealed (a forger with the secret). */
function fragmentsOf(bytes: Buffer): Buffer[] {
  return sealedFragments(3, ++forgedId, forgedStart, bytes);
}

test('a one-way partition cuts one direction only', async () => {
  const toB: Message[] = [];
  const { a, b, close } = await pair(toB);
  const toA: Message[] = [];
  a.onMessage = (m) => toA.push(m);
  try {
    a.faults = { ...noFaultPlan(), blockTo: new Set([2]) };
    a.send(2, {
      kind: 'vote',
      cluster: 0,
      members: 0b11,
      term: 1,
      from: 1,
      granted: true,
      pre: false,
      to: 2,
      life: 1,
    });
    b.send(1, {
      kind: 'vote',
      cluster: 0,
      members: 0b11,
      term: 1,
      from: 2,
      granted: false,
      pre: false,
      to: 1,
      life: 1,
    });
    await until('b to a', () => toA.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(toB.length, 0, 'a to b is cut');
  } finally {
    close();
  }
});

test('a probe reports a peer whose port is closed, and not one that is open', async () => {
  const { a, b, close } = await pair([]);
  const unreachable: number[] = [];
  a.onUnreachable = (id) => unreachable.push(id);
  try {
    for (let i = 0; i < 5; i++) {
      a.probe(2); // the first call connects; the next ones send
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(unreachable, [], 'b is alive: its port takes the probe');
    assert.equal(b.stats.messagesReceived, 0, 'an empty probe is not a message');
    b.close(); // b's process "dies": nothing listens on its port
    await until('the probe is refused', () => {
      a.probe(2);
      return unreachable.length > 0;
    });
    assert.equal(unreachable[0], 2);
  } finally {
    close();
  }
});

/** A small message from member 1, for the address tests below. */
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
  life: 9,
};

test('a peer name that does not resolve yet: datagrams dropped, retried, then sent', async () => {
  // Members started together (containers) run before their peers' names resolve. The
  // connect's error used to leave a socket that threw on its next send (the node crashed).
  const received: Message[] = [];
  const { a, b, close } = await pair(received);
  try {
    const port = b.port;
    a.setPeers([{ id: 2, host: 'bourse-2.invalid', port }]); // .invalid never resolves
    await until('the sender and the probe fail to connect, then retry', () => {
      a.send(2, status);
      a.probe(2);
      return a.stats.connectFailures >= 3; // a retry after udpConnectRetryMs fails again
    });
    assert.ok(a.stats.unconnectedDrops > 0, 'datagrams to an unresolved peer are dropped');
    assert.equal(received.length, 0);
    a.setPeers([{ id: 2, host: '127.0.0.1', port }]); // the name resolves now
    await until('the peer gets messages once it resolves', () => {
      a.send(2, status);
      return received.length > 0;
    });
    assert.deepEqual(plain(received[0]), plain(status));
  } finally {
    close();
  }
});

/**
 * A datagram as member `from` of transport `version` would send it: one fragment of one, of
 * `body`, sealed with its MAC under `with` and its checksum unless `version` is 1 (which had
 * neither).
 */
function forge(from: number, body: Buffer, version = transportVersion, with_ = mac): Buffer {
  const datagram = Buffer.concat([Buffer.alloc(datagramHeaderBytes), body]);
  writeHeader(datagram, DatagramType.Fragment, from, ++forgedId, 0, 1, forgedStart);
  datagram.writeUInt8(version, 1);
  if (version !== 1) seal(datagram, with_);
  return datagram;
}

/** A forger's run: one start, ids going up (as a member numbers its messages). */
const forgedStart = Date.now();
let forgedId = 0;

function randomId(): number {
  return Math.floor(Math.random() * 2 ** 32);
}

/** A datagram as a member of transport version 2 sends it: a 16-byte header, a CRC-32, no MAC. */
function forgeVersion2(from: number, body: Buffer): Buffer {
  const datagram = Buffer.concat([Buffer.alloc(16), body]);
  datagram.writeUInt8(0xb5, 0);
  datagram.writeUInt8(2, 1);
  datagram.writeUInt8(DatagramType.Fragment, 2);
  datagram.writeUInt8(from, 3);
  datagram.writeUInt32LE(randomId(), 4);
  datagram.writeUInt16LE(0, 8);
  datagram.writeUInt16LE(1, 10);
  datagram.writeUInt32LE(crc32(datagram), 12);
  return datagram;
}

test('a peer whose name moves to another address (a restarted container) is followed', async () => {
  // Its datagrams are taken from the address its name resolves to, and sent there. When they
  // come from another address, they are refused, and the name is looked up again (at most once
  // per udpConnectRetryMs): if it moved, the peer is followed; the source alone moves nothing.
  let at = '127.0.0.3'; // where the name points first: nothing listens there
  const lookups: string[] = [];
  const moving: HostLookup = (host, options, done) => {
    if (host !== 'member-b') return lookup(host, { family: 4 }, done);
    lookups.push(at);
    done(null, at, 4);
  };
  const received: Message[] = [];
  const heard: Message[] = [];
  const a = new UdpTransport(1, [], (m) => heard.push(m), secret, noFaultPlan(), moving);
  const b = new UdpTransport(2, [], (m) => received.push(m), secret);
  try {
    const portA = await a.bind('127.0.0.1', 0);
    const port = await b.bind('127.0.0.1', 0);
    a.setPeers([{ id: 2, host: 'member-b', port }]);
    b.setPeers([{ id: 1, host: '127.0.0.1', port: portA }]);
    const exchange = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) {
        a.send(2, status);
        b.send(1, { ...status, from: 2 });
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await exchange();
    assert.equal(received.length, 0, 'sent to where the name points: nothing there');
    assert.equal(heard.length, 0, 'b speaks from 127.0.0.1, not where its name points');
    assert.ok(a.stats.refused.address > 0);
    const asked = lookups.length;
    await until('a looks the name up again', () => {
      b.send(1, { ...status, from: 2 });
      return lookups.length > asked;
    });
    assert.equal(a.stats.peersMoved, 0, 'still where it was');
    at = '127.0.0.1'; // the member came back elsewhere, and speaks from there
    await until('a follows b to its new address', () => {
      a.send(2, status);
      b.send(1, { ...status, from: 2 });
      return received.length > 0 && heard.length > 0;
    });
    assert.equal(a.stats.peersMoved, 1);
  } finally {
    a.close();
    b.close();
  }
});

test('a datagram naming a member from another socket is refused, counted and told', async () => {
  // A process on the host (not a member) sends a well-formed status "from member 1": before,
  // its source was not checked, and one such status with a higher term deposed a primary.
  const received: Message[] = [];
  const { a, b, close } = await pair(received);
  const told: string[] = [];
  b.onRefused = (line) => told.push(line);
  const raw = await rawSocket();
  const rawPort = raw.address().port;
  try {
    const forged = forge(1, encodeMessage({ ...status, term: 9 }));
    for (let i = 0; i < 50; i++) await sendRaw(raw, forged, b.port);
    await sendRaw(raw, forge(6, encodeMessage({ ...status, from: 6 })), b.port);
    a.send(2, status); // member 1 itself, from its port: taken
    await until('member 1 is heard', () => received.length === 1);
    assert.equal(received[0].term, 1, 'only member 1 itself');
    assert.deepEqual(b.stats.refused, { member: 1, address: 50, mac: 0, stale: 0 });
    assert.deepEqual(told, [
      `refused 1 replication datagram(s); the last named member 1 and came from ` +
        `127.0.0.1:${rawPort} (member 1 is at 127.0.0.1:${a.port})`,
    ]);
  } finally {
    raw.close();
    close();
  }
});

test("from a member's own address, a datagram without the secret's MAC is refused", async () => {
  // Whoever sends from a member's address and port (the member's port while it is down, or a
  // network that lets sources be forged) still cannot speak as it without the secret.
  const received: Message[] = [];
  const { a, b, close } = await pair(received);
  const told: string[] = [];
  b.onRefused = (line) => told.push(line);
  const raw = await rawSocket(); // member 3, as b knows it
  const port3 = raw.address().port;
  b.setPeers([
    { id: 1, host: '127.0.0.1', port: a.port },
    { id: 3, host: '127.0.0.1', port: port3 },
  ]);
  try {
    const body = encodeMessage({ ...status, from: 3, term: 9 });
    const otherSecret = forge(3, body, transportVersion, datagramMac(randomBytes(secretBytes)));
    const noMac = forge(3, body);
    noMac.fill(0, 12, datagramHeaderBytes); // no MAC, and a checksum that matches
    noMac.writeUInt32LE(crc32(noMac), 12);
    const altered = forge(3, body); // the term changed after sealing, the checksum made anew
    altered.writeDoubleLE(10, datagramHeaderBytes + 8);
    altered.fill(0, 12, 16);
    altered.writeUInt32LE(crc32(altered), 12);
    for (const d of [otherSecret, noMac, altered]) await sendRaw(raw, d, b.port);
    await sendRaw(raw, forge(3, encodeMessage({ ...status, from: 3, term: 2 })), b.port);
    await until('member 3 with the secret is heard', () => received.length === 1);
    assert.equal(received[0].term, 2, 'only the datagram made with the secret');
    assert.deepEqual(b.stats.refused, { member: 0, address: 0, mac: 3, stale: 0 });
    assert.equal(b.stats.checksumFailures, 0, 'refused as forged, not counted as damage');
    assert.deepEqual(told, [
      `refused 1 replication datagram(s); the last named member 3 and came from ` +
        `127.0.0.1:${port3} (its MAC does not match this member's replication secret: ` +
        'another secret, or forged)',
    ]);
  } finally {
    raw.close();
    close();
  }
});

test('hostile datagrams are dropped and counted; good traffic goes on', async () => {
  const received: Message[] = [];
  const { a, b, close } = await pair(received);
  // Member 3, as b knows it: what a member may send that b must still drop.
  const raw = await rawSocket();
  b.setPeers([
    { id: 1, host: '127.0.0.1', port: a.port },
    { id: 3, host: '127.0.0.1', port: raw.address().port },
  ]);
  try {
    const port = b.port;
    const send = (bytes: Buffer): Promise<void> => sendRaw(raw, bytes, port);
    await send(Buffer.from('garbage')); // too short for a header
    await send(Buffer.alloc(0)); // a probe (see probe()): counted apart, not as a loss
    await send(Buffer.alloc(16)); // its checksum (zero) is not its bytes'
    const bad = forge(3, Buffer.alloc(24));
    bad.writeUInt8(0xb4, 0);
    seal(bad, mac);
    await send(bad); // bad magic, sealed
    await send(forge(9, Buffer.alloc(24))); // not a member
    await send(forge(3, Buffer.alloc(24))); // a member, one fragment, the message garbage
    // A member of another transport version (sealed, as versions from 2 on are), one of
    // version 1 (no checksum), then of another replication version (a whole message in one
    // fragment): each dropped, each told once enough of them said so, however often they come.
    const told: string[] = [];
    b.onOtherVersion = (id, what) => told.push(`${id}: ${what}`);
    const status = encodeMessage({
      kind: 'status',
      cluster: 0,
      members: 0b11,
      term: 1,
      from: 3,
      ok: true,
      match: 0,
      durable: 0,
      nak: 0,
      recovering: false,
      life: 9,
    });
    status.writeUInt8(replicationVersion + 1, 1);
    const times = otherVersionDatagramsMin + 2;
    for (let i = 0; i < times; i++) await send(forge(3, Buffer.alloc(24), 9));
    for (let i = 0; i < times; i++) await send(forge(3, Buffer.alloc(24), 1));
    for (let i = 0; i < times; i++) await send(forgeVersion2(3, Buffer.alloc(24)));
    for (let i = 0; i < times; i++) await send(forge(3, status));
    a.send(2, {
      kind: 'vote',
      cluster: 0,
      members: 0b11,
      term: 2,
      from: 1,
      granted: true,
      pre: false,
      to: 2,
      life: 1,
    });
    await until('the good message', () => received.length === 1);
    assert.equal(received[0].kind, 'vote');
    assert.ok(b.stats.messagesDropped >= 5 + 4 * times, `dropped ${b.stats.messagesDropped}`);
    assert.equal(b.stats.probesReceived, 1);
    assert.equal(b.stats.checksumFailures, 1);
    assert.equal(b.stats.otherVersion, 4 * times);
    const n = otherVersionDatagramsMin;
    assert.deepEqual(b.stats.refused, { member: 1, address: 0, mac: 0, stale: 0 });
    assert.deepEqual(told, [
      `3: transport version 9 (this member speaks ${transportVersion}; ${n} datagrams said so)`,
      `3: transport version 1 (this member speaks ${transportVersion}; ${n} datagrams said so)`,
      `3: transport version 2 (this member speaks ${transportVersion}; ${n} datagrams said so)`,
      `3: replication version ${replicationVersion + 1} (this member speaks ` +
        `${replicationVersion}; ${n} messages said so)`,
    ]);
  } finally {
    raw.close();
    close();
  }
});

test('a datagram with any one bit flipped is dropped and counted, never decoded', async () => {
  // Header fields a flipped bit made into other valid values before checksums: the term (bit
  // 51 of term 2 is term 3), the commit, a status's match and durable positions, a NAK range.
  const received: Message[] = [];
  const { a, b, close } = await pair(received);
  const raw = createSocket('udp4');
  try {
    const send = (bytes: Buffer): Promise<void> =>
      new Promise((resolve) => raw.send(bytes, b.port, '127.0.0.1', () => resolve()));
    const header = { cluster: 0x8000_0001, members: 0b11, term: 2, from: 1 } as const;
    const messages: Message[] = [
      {
        ...header,
        kind: 'status',
        ok: true,
        match: 40,
        durable: 39,
        nak: 0,
        recovering: false,
        life: 3,
      },
      {
        ...header,
        kind: 'status',
        ok: false,
        match: 40,
        durable: 40,
        nak: 12,
        recovering: true,
        life: 4,
      },
      { ...header, kind: 'vote-request', lastIndex: 9, lastTerm: 2, first: 7, pre: false, life: 4 },
      { ...header, kind: 'vote', granted: true, pre: true, to: 2, life: 4 },
      { ...append(1, 1, 64, 5), term: 2, commit: 41 },
    ];
    const nak = Buffer.alloc(datagramHeaderBytes + 16);
    writeHeader(nak, DatagramType.Nak, 1, ++forgedId, 2, 0, forgedStart);
    nak.writeDoubleLE(a.start, datagramHeaderBytes); // a message of b's run...
    nak.writeUInt32LE(123, datagramHeaderBytes + 8); // ...its id
    nak.writeUInt16LE(3, datagramHeaderBytes + 12);
    nak.writeUInt16LE(4, datagramHeaderBytes + 14);
    seal(nak, mac);
    const datagrams = [...messages.map((m) => forge(1, encodeMessage(m))), nak];
    let flips = 0;
    for (const datagram of datagrams) {
      // Every bit of the headers (both) and of small bodies; every 7th bit of larger ones.
      for (let bit = 0; bit < datagram.byteLength * 8; bit += bit < 8 * 96 ? 1 : 7) {
        const flipped = Buffer.from(datagram);
        flipped[bit >> 3] ^= 1 << (bit & 7);
        await send(flipped);
        flips++;
      }
    }
    a.send(2, messages[0]); // then good traffic: it passes
    await until('the good message', () => received.length === 1);
    assert.deepEqual(plain(received[0]), plain(messages[0]));
    assert.ok(flips > 2_000, `flips ${flips}`);
    assert.equal(b.stats.checksumFailures, flips);
    assert.equal(b.stats.messagesDropped, flips);
    assert.equal(b.stats.otherVersion, 0);
    assert.equal(a.stats.fragmentsResent, 0, 'no flipped NAK made it resend');
  } finally {
    raw.close();
    close();
  }
});

test('a corrupting link: damaged datagrams are repaired as lost ones, messages whole', async () => {
  const received: Message[] = [];
  const { a, b, close } = await pair(received);
  try {
    a.faults = { ...noFaultPlan(5), corrupt: 0.2 };
    b.faults = { ...noFaultPlan(6), corrupt: 0.2 }; // NAKs too
    // Messages of many datagrams: a one-datagram message damaged is lost whole, and left to
    // consensus to resend, as a lost one is.
    const sent = [append(1, 2, 60_000, 1), append(1, 3, 40_000, 2)];
    for (const m of sent) a.send(2, m);
    await until('every message', () => received.length === sent.length, 10_000);
    const byTag = (m: Message): number => (m.kind === 'append' ? m.prevIndex : -1);
    received.sort((x, y) => byTag(x) - byTag(y));
    assert.deepEqual(received.map(plain), sent.map(plain));
    assert.ok(b.stats.checksumFailures > 0, 'some were damaged');
    assert.ok(b.stats.naksSent > 0 && a.stats.fragmentsResent > 0, 'and repaired');
  } finally {
    close();
  }
});

test('a datagram delayed past close() is not sent, and nothing throws', async () => {
  const received: Message[] = [];
  const { a, close } = await pair(received);
  const thrown: unknown[] = [];
  const keep = (error: unknown): void => void thrown.push(error);
  process.on('uncaughtException', keep);
  try {
    a.faults = { ...noFaultPlan(3), delayMsMax: 20 };
    for (let i = 0; i < 5; i++) a.send(2, append(1, 1, 100, 200 + i));
    await new Promise((resolve) => setImmediate(resolve)); // pumped: each datagram on a timer
    close(); // a member stopping with datagrams still delayed
    await new Promise((resolve) => setTimeout(resolve, 100)); // every delay (<= 20 ms) ran
  } finally {
    process.off('uncaughtException', keep);
  }
  assert.deepEqual(thrown.map(String), [], 'a late send on the closed socket threw from a timer');
});

test('messages of one datagram are not kept for NAKs; larger ones are', async () => {
  const received: Message[] = [];
  const { a, close } = await pair(received);
  try {
    // A standby's statuses: kept, they grew its heap by ~20 bytes a command, for ever.
    for (let i = 0; i < 5_000; i++) a.send(2, append(1, 0, 0, i));
    await until('the small messages', () => received.length === 5_000);
    assert.equal(a.retainedMessages(), 0, 'no NAK can ask for a message of one datagram');
    a.send(2, append(1, 4, 4096, 1));
    await until('the append', () => received.length === 5_001);
    assert.equal(a.retainedMessages(), 1, 'kept: its fragments may be NAKed');
  } finally {
    close();
  }
});
