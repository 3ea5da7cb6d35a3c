/**
 * A real node with its gateway on a free loopback port, for SDK and protocol tests.
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { BourseNode } from '../../src/pipeline/node.js';
import type { BourseClient, EventRecord } from '../../src/client/client.js';
import { Status } from '../../src/protocol/status.js';
import { disconnectClientId } from '../../src/protocol/command-writer.js';
import { smallConfig } from './engine-driver.js';
import type { EngineConfig } from '../../src/constants.js';
import { setupCommands } from './generators.js';
import { readAt, sequenceOf } from './read-model.js';
import { removeDir, tempDataDir } from './node-driver.js';
import { until } from './wait.js';
import { writeKeyFile, type createKey } from '../../src/gateway/api-keys.js';
import { FrameType, frameHeaderBytes, writeHeader } from '../../src/protocol/frames.js';
import type { CommandSink } from '../../src/gateway/gateway.js';

export async function withNode(
  run: (node: BourseNode, url: string) => Promise<void>,
  prepare: (dir: string) => void = () => {},
  inputRingSlots?: number,
  config: EngineConfig = smallConfig,
): Promise<void> {
  const dir = tempDataDir();
  try {
    prepare(dir);
    const node = await BourseNode.start({
      dataDir: dir,
      config,
      gateway: { host: '127.0.0.1', port: 0 },
      inputRingSlots,
    });
    try {
      await run(node, `ws://127.0.0.1:${node.gateway?.port}/`);
    } finally {
      await node.stop();
    }
  } finally {
    removeDir(dir); // a node that did not start (or stop) too
  }
}

/** `count` journal events from sequence `from`, through GET /events of the node at `url`. */
export async function journalEvents(
  url: string,
  from: number,
  count: number,
): Promise<EventRecord[]> {
  const base = url.replace('ws://', 'http://').replace(/\/$/, '');
  const events: EventRecord[] = [];
  while (events.length < count) {
    const at = from + events.length;
    const page = (await (await fetch(`${base}/events?from=${at}&count=1000`)).json()) as [];
    assert.ok(page.length > 0, `the journal holds sequence ${at}`);
    events.push(...(page as EventRecord[]));
  }
  return events.slice(0, count);
}

/** The journal's events from `from` on, under the node's cancel-on-disconnect client id. */
export async function disconnectEvents(url: string, from: number): Promise<EventRecord[]> {
  const base = url.replace('ws://', 'http://').replace(/\/$/, '');
  const out: EventRecord[] = [];
  for (let at = from; ;) {
    const page = (await (await fetch(`${base}/events?from=${at}&count=1000`)).json()) as [];
    if (page.length === 0) return out;
    for (const e of page as EventRecord[]) if (e.clientId === disconnectClientId) out.push(e);
    at = (page as EventRecord[]).at(-1)!.sequence + 1;
  }
}

/** Places buys of 1 on instrument 2 (tick 1, lot 1) for `account`, one at a time; their ids. */
export async function quoteBuys(c: BourseClient, account: number, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const order = { account, instrument: 2, side: 'buy', price: 10 + i, quantity: 1 } as const;
    const [head] = await c.placeOrder(order);
    assert.equal(head.status, Status.Ok);
    ids.push(head.id);
  }
  return ids;
}

/** Returns the highest sequence of its results (a read model at it has them all). */
export async function setUp(client: BourseClient): Promise<number> {
  const results = await Promise.all(setupCommands().map((f) => client.submit(f.kind, f)));
  for (const events of results) assert.equal(events[0].status, Status.Ok);
  return Math.max(...results.map((events) => events[events.length - 1].sequence));
}

/**
 * Waits until the node at `url` (ws://) reads at `sequence` or past: its read model applies
 * events a few ms after their results (PROTOCOL.md), so a read just after one may not show it.
 * Asks GET /balances of account 1 (setupCommands' first), with `token` if keys are on.
 */
export async function readModelAt(url: string, sequence: number, token?: string): Promise<void> {
  const base = url.replace('ws://', 'http://').replace(/\/$/, '');
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const again = (status: number): boolean => status !== 200; // any other answer: ask again
  const read = await readAt(`${base}/balances?account=1`, sequence, { headers }, 10_000, again);
  const reached = read.status === 200 && sequenceOf(read) >= sequence;
  assert.ok(reached, `timed out: the read model at ${sequence}: ${JSON.stringify(read.body)}`);
}

/** A `prepare` for withNode: the data folder's keys.json holds these keys. */
export function keysFile(...keys: ReturnType<typeof createKey>[]): (dir: string) => void {
  return (dir) => writeKeyFile(dir, { version: 2, keys: keys.map((k) => k.record) });
}

/** A raw frame of `type` (request id 1) with `body`, at protocol `version` (1 by default). */
export function frame(type: number, body: Uint8Array, version = 1, requestId = 1): Buffer {
  const bytes = Buffer.alloc(frameHeaderBytes + body.byteLength);
  writeHeader(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, type, requestId);
  bytes.writeUInt8(version, 1);
  bytes.set(body, frameHeaderBytes);
  return bytes;
}

/** A raw Hello frame for `clientId` (no key: a node in development mode takes it). */
export function hello(clientId: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt32LE(clientId);
  return frame(FrameType.Hello, body);
}

/** A raw session on `url` whose Hello has header flags `flags`; its Welcome or close. */
export async function rawSession(url: string, clientId: number, flags: number) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const messages: Buffer[] = [];
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('message', (data: Buffer) => messages.push(data));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const body = Buffer.alloc(8);
  body.writeUInt32LE(clientId);
  const hello = frame(FrameType.Hello, body);
  hello.writeUInt16LE(flags, 2);
  ws.send(hello);
  const welcome = await Promise.race([
    until('Welcome', () => messages.length > 0).then(() => messages[0]),
    closed.then(() => null),
  ]);
  return { ws, messages, closed, welcome };
}

/** An upgrade's outcome: 'open' (the socket is closed again), or the HTTP status refusing it. */
export function upgradeOutcome(url: string): Promise<string | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('error', () => {}); // the refusal also ends the socket
    ws.once('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
  });
}

/** `sink` as a full input ring makes it while `full()`: no room; all else goes through to it. */
export function fullWhile(sink: CommandSink, full: () => boolean): CommandSink {
  return {
    ring: sink.ring,
    hasRoom: (n) => !full() && sink.hasRoom(n),
    claim: () => sink.claim(),
    commit: () => sink.commit(),
    publish: () => sink.publish(),
  };
}
