/**
 * The replication transport's repair under trouble (src/replication/nak-pacing.ts): a sender
 * gone silent, or a path that loses what is resent, draws NAKs whose waits double, a bounded
 * number per peer per window, and a sender resends a fragment once per linger; repair under
 * 5-10% loss still completes. Before, every incomplete message was NAKed every 8 ms until it
 * was dropped (~62 NAKs each, for up to 256 messages at once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import {
  udpNakDelayMs,
  udpNakPeerMax,
  udpNakRetryMs,
  udpPayloadBytesDefault,
  udpReassemblyTimeoutMs,
  udpResendLingerMs,
} from '../../../src/constants.js';
import {
  datagramHeaderBytes,
  DatagramType,
  seal,
  startOf,
  writeHeader,
} from '../../../src/replication/datagram.js';
import type { Append, Message } from '../../../src/replication/messages.js';
import { noFaultPlan, UdpTransport } from '../../../src/replication/udp-transport.js';
import { until } from '../../harness/wait.js';
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

/** The run of the raw member's datagrams, and its message ids (taken once each). */
const rawStart = Date.now();
let rawId = 0;

/**
 * Member 2 (`b`) and member 3 as a raw socket, which sends fragments and then says nothing:
 * the NAKs it gets are counted by the message they name.
 */
async function silentSender(): Promise<{
  b: UdpTransport;
  raw: Socket;
  naks: Map<number, number>;
  close: () => void;
}> {
  const b = new UdpTransport(2, [], () => {}, secret);
  const port = await b.bind('127.0.0.1', 0);
  const raw = await rawSocket();
  b.setPeers([{ id: 3, host: '127.0.0.1', port: raw.address().port }]);
  const naks = new Map<number, number>();
  raw.on('message', (d: Buffer) => {
    if (d.byteLength < datagramHeaderBytes + 12 || d.readUInt8(2) !== DatagramType.Nak) return;
    const id = d.readUInt32LE(datagramHeaderBytes + 8);
    naks.set(id, (naks.get(id) ?? 0) + 1);
  });
  assert.ok(port > 0);
  return { b, raw, naks, close: () => (raw.close(), b.close()) };
}

/**
 * Sends the fragments of a new message of `count` from the raw member, but those `lost`, at
 * once (the receiver reads them together: its messages fall due together).
 */
function sendAllBut(raw: Socket, port: number, count: number, lost: number[]): void {
  const bytes = randomBytes(count * udpPayloadBytesDefault);
  const fragments = sealedFragments(3, ++rawId, rawStart, bytes);
  for (let i = 0; i < count; i++) if (!lost.includes(i)) raw.send(fragments[i], port, '127.0.0.1');
}

test('a silent sender: NAKs of an incomplete message back off, not one every 8 ms', async () => {
  const { b, raw, naks, close } = await silentSender();
  try {
    const messages = 8;
    for (let m = 0; m < messages; m++) sendAllBut(raw, b.port, 5, [2]); // a gap at 2
    await until('each message dropped', () => b.stats.messagesDropped === messages, 10_000);
    await until('the NAKs read', () => sum(naks) === b.stats.naksSent);
    // Waits that double from udpNakDelayMs fit log2 of the timeout's ratio to it; a NAK every
    // 8 ms made ~62 a message. (Stalls of the process push the drop and the NAKs alike.)
    const bound = 1 + Math.ceil(Math.log2(udpReassemblyTimeoutMs / udpNakDelayMs));
    assert.equal(naks.size, messages, 'every message NAKed');
    for (const [id, n] of naks) {
      assert.ok(n >= 2, `message ${id}: NAKed again while it made no progress (${n})`);
      assert.ok(n <= bound, `message ${id}: ${n} NAKs, more than ${bound}`);
    }
  } finally {
    close();
  }
});

test('a silent sender of many incomplete messages: NAKs to it capped per window', async () => {
  const { b, raw, close } = await silentSender();
  try {
    const messages = 200; // within udpReassemblyMax
    const startedAt = performance.now();
    for (let m = 0; m < messages; m++) sendAllBut(raw, b.port, 3, [0]);
    await until('each message dropped', () => b.stats.messagesDropped === messages, 10_000);
    const elapsedMs = performance.now() - startedAt;
    // Windows of udpNakRetryMs begin at most once per udpNakRetryMs over the elapsed time.
    const windows = Math.floor(elapsedMs / udpNakRetryMs) + 1;
    assert.ok(
      b.stats.naksSent <= udpNakPeerMax * windows,
      `${b.stats.naksSent} NAKs in ${elapsedMs.toFixed(0)} ms: over ${udpNakPeerMax} a window`,
    );
    assert.ok(b.stats.nakWindowsFull > 0, 'the cap held some back');
    assert.ok(b.stats.naksSent >= messages, 'yet every message was NAKed');
  } finally {
    close();
  }
});

test('a sender resends a fragment once per linger, however often it is NAKed', async () => {
  const a = new UdpTransport(1, [], () => {}, secret);
  const raw = await rawSocket(); // member 2, which NAKs by hand
  const fragments: Buffer[] = [];
  raw.on('message', (d: Buffer) => void fragments.push(d));
  try {
    await a.bind('127.0.0.1', 0);
    a.setPeers([{ id: 2, host: '127.0.0.1', port: raw.address().port }]);
    a.send(2, append(1, 1, 3 * udpPayloadBytesDefault, 1)); // 4 fragments, kept for NAKs
    await until('the fragments', () => fragments.length === 4);
    const target = { start: startOf(fragments[0]), id: fragments[0].readUInt32LE(4) };
    const nak = (): Buffer => nakOf(2, target.start, target.id, [1]);
    await sendRaw(raw, nak(), a.port);
    await sendRaw(raw, nak(), a.port); // read with the first: within the linger
    const answered = () => a.stats.fragmentsResent + a.stats.resendsCoalesced === 2;
    await until('both NAKs answered', answered);
    assert.equal(a.stats.fragmentsResent, 1, 'resent once');
    assert.equal(a.stats.resendsCoalesced, 1, 'the second NAK coalesced with the resend');
    await new Promise((resolve) => setTimeout(resolve, 2 * udpResendLingerMs));
    await sendRaw(raw, nak(), a.port); // past the linger: the resend was lost, say
    await until('the NAK after the linger', () => a.stats.fragmentsResent === 2);
    await until('its resend', () => fragments.length === 6);
    assert.equal(a.stats.resendsCoalesced, 1);
  } finally {
    raw.close();
    a.close();
  }
});

test('repair under seeded 5-10% loss (NAKs lost too) completes; each message once', async () => {
  for (const [seed, drop] of [
    [21, 0.05],
    [22, 0.1],
    [23, 0.1],
  ]) {
    const received: Message[] = [];
    const { a, b, close } = await pair(received);
    try {
      a.faults = { ...noFaultPlan(seed), drop };
      b.faults = { ...noFaultPlan(seed + 100), drop };
      for (let i = 0; i < 20; i++) a.send(2, append(1, 4, 5_000, 100 + i)); // 15 fragments each
      await until(`every append (seed ${seed})`, () => received.length >= 20, 20_000);
      const tags = received.map((m) => (m as Append).prevIndex).sort((x, y) => x - y);
      const sent = Array.from({ length: 20 }, (_, i) => 100 + i);
      assert.deepEqual(tags, sent, `each once (seed ${seed})`);
      const first = received.find((m) => (m as Append).prevIndex === 100)!;
      assert.deepEqual(plain(first), plain(append(1, 4, 5_000, 100)), 'whole');
      assert.ok(b.stats.naksSent > 0 && a.stats.fragmentsResent > 0, 'repaired by NAKs');
    } finally {
      close();
    }
  }
});

/** A NAK of member `from` for fragments `indices` of message (`start`, `id`), sealed. */
function nakOf(from: number, start: number, id: number, indices: number[]): Buffer {
  const at = datagramHeaderBytes + 12;
  const nak = Buffer.alloc(at + indices.length * 2);
  writeHeader(nak, DatagramType.Nak, from, ++rawId, indices.length, 0, rawStart);
  nak.writeDoubleLE(start, datagramHeaderBytes);
  nak.writeUInt32LE(id, datagramHeaderBytes + 8);
  indices.forEach((index, i) => nak.writeUInt16LE(index, at + i * 2));
  seal(nak, mac);
  return nak;
}

function sum(counts: Map<number, number>): number {
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}
