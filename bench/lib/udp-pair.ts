/**
 * Replication transports on loopback for tests (test/unit/replication) and the NAK repair bench:
 * the cluster's secret in these tests, appends of a given size, a pair of members 1 and 2, and a
 * raw socket that speaks as a member with the secret (a forger, or a member that goes silent).
 * Under bench/, not test/: the image (docker/) builds bench/ and holds no test/.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { udpPayloadBytesDefault } from '../../src/constants.js';
import type { Append, Entry, Message } from '../../src/replication/messages.js';
import { UdpTransport } from '../../src/replication/udp-transport.js';
import { datagramMac, fragments } from '../../src/replication/datagram.js';
import { secretBytes } from '../../src/replication/datagram-mac.js';

/** The cluster's secret in these tests, and its MAC. */
export const secret = randomBytes(secretBytes);
export const mac = datagramMac(secret);

function hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** An append of member `from`: `entries` of `payloadBytes` each, told apart by `tag`. */
export function append(from: number, entries: number, payloadBytes: number, tag: number): Append {
  const list: Entry[] = [];
  for (let i = 0; i < entries; i++) {
    const payload = new Uint8Array(payloadBytes);
    for (let b = 0; b < payloadBytes; b++) payload[b] = (b * 31 + i + tag) & 0xff;
    list.push({
      term: 3,
      first: 1 + i * 10,
      last: 8 + i * 10, // fewer sequences than events: an order and its fills share one
      count: 10,
      prevHash: hex(`p${tag}:${i}`),
      hash: hex(`h${tag}:${i}`),
      payload,
    });
  }
  return {
    kind: 'append',
    cluster: 0x8000_0001,
    members: 0b11,
    term: 3,
    from,
    prevIndex: tag,
    prevHash: hex('prev'),
    entries: list,
    commit: 2,
    life: 7,
  };
}

/** Each figure's median over `rows` (benches' rounds; rows of the same keys). */
export function medianRow<T extends object>(rows: readonly T[]): T {
  const keys = Object.keys(rows[0]) as Array<keyof T>;
  const pick = (key: keyof T): unknown => {
    const values = rows.map((r) => r[key] as number).sort((x, y) => x - y);
    return values[Math.floor(values.length / 2)];
  };
  return Object.fromEntries(keys.map((k) => [k, pick(k)])) as T;
}

/** A message with payloads as plain arrays, to compare. */
export function plain(m: Message): unknown {
  if (m.kind !== 'append') return { ...m };
  return { ...m, entries: m.entries.map((e) => ({ ...e, payload: [...e.payload] })) };
}

/**
 * Members 1 (`a`) and 2 (`b`, whose messages go to `received`), bound and told of each other:
 * on ports `port` and `port + 1`, or (0) on ones the kernel picks.
 */
export async function pair(
  received: Message[],
  port = 0,
): Promise<{ a: UdpTransport; b: UdpTransport; close: () => void }> {
  const ports = [0, 0];
  const a = new UdpTransport(1, [], () => {}, secret);
  const b = new UdpTransport(2, [], (m) => received.push(m), secret);
  ports[0] = await a.bind('127.0.0.1', port);
  ports[1] = await b.bind('127.0.0.1', port && port + 1);
  const peers = [
    { id: 1, host: '127.0.0.1', port: ports[0] },
    { id: 2, host: '127.0.0.1', port: ports[1] },
  ];
  a.setPeers(peers);
  b.setPeers(peers);
  return { a, b, close: () => (a.close(), b.close()) };
}

/** Message `id` of member `from`'s run `start` (`bytes`) as its fragments, sealed. */
export function sealedFragments(from: number, id: number, start: number, bytes: Buffer): Buffer[] {
  return fragments(bytes, id, from, start, udpPayloadBytesDefault, mac);
}

/** A socket bound to `address` (and `port`, default any): a process that is not a member. */
export async function rawSocket(address = '127.0.0.1', port = 0): Promise<Socket> {
  const raw = createSocket('udp4');
  await new Promise<void>((resolve) => raw.bind(port, address, resolve));
  return raw;
}

export function sendRaw(raw: Socket, bytes: Buffer, port: number): Promise<void> {
  return new Promise((resolve) => raw.send(bytes, port, '127.0.0.1', () => resolve()));
}
