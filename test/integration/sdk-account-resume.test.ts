/**
 * Account streams resumed from a sequence (Subscribe flagged From). A market maker's account
 * stream missed every event that became durable while its connection was down: the orders
 * canceled on disconnect, the fills of its resting orders. The SDK now resumes each account
 * stream from the last sequence it delivered, and the server sends the stored events from
 * there, then the live ones: each event once, in order. Raw clients check the seam (no gap, no
 * repeat, while new events keep coming) and the refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { BourseClient, EventKind, Status, type EventRecord } from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { EventWord } from '../../src/protocol/event-layout.js';
import {
  FrameType,
  frameHeaderBytes,
  StreamKind,
  topicRequestId,
  writeHeader,
} from '../../src/protocol/frames.js';
import { eventSizeBytes } from '../../src/constants.js';
import { hello, setUp, withNode } from '../harness/gateway-node.js';
import { freePort } from '../../src/cli/ports.js';
import { FreezableProxy } from '../harness/freezable-proxy.js';
import { until } from '../harness/wait.js';

const httpOf = (url: string): string => url.replace('ws://', 'http://').replace(/\/$/, '');

/** What identifies an event of a stream: its sequence, kind and status. */
const key = (e: { sequence: number; kind: number; status: number }): string =>
  `${e.sequence}/${e.kind}/${e.status}`;

/** The journal's events naming `account` from `from` up to `last`, paged over GET /events. */
async function accountEvents(
  url: string,
  account: number,
  from: number,
  last: number,
): Promise<EventRecord[]> {
  const out: EventRecord[] = [];
  for (let at = from, pages = 0; at <= last && pages < 10_000; pages++) {
    const q = `account=${account}&from=${at}&count=1000`;
    const body = (await (await fetch(`${httpOf(url)}/events?${q}`)).json()) as {
      events: EventRecord[];
      next: number;
    };
    out.push(...body.events.filter((e) => e.sequence <= last));
    at = body.next;
  }
  return out;
}

async function durableHead(url: string): Promise<number> {
  const health = (await (await fetch(`${httpOf(url)}/health`)).json()) as Record<string, number>;
  return health.durableSequence;
}

/** A sell of 1 on book 2 by `account` at `price`; its order id. */
async function ask(c: BourseClient, account: number, price: number): Promise<number> {
  const order = { account, instrument: 2, side: 'sell', price, quantity: 1 } as const;
  const [head] = await c.placeOrder(order);
  assert.equal(head.status, Status.Ok);
  return head.sequence;
}

test('after a reconnect an account stream gets what was durable meanwhile, once', async () => {
  await withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 70 });
    await setUp(root);
    // Below the kernel's ephemeral ports: the proxy comes back on it after the drop.
    const nodePort = Number(new URL(url).port);
    const proxyPort = await freePort('tcp');
    let proxy = await FreezableProxy.start(nodePort, proxyPort);
    const maker = await BourseClient.connect(proxy.url, {
      clientId: 71,
      cancelOnDisconnect: true,
      reconnectWaitMs: 30_000,
    });
    const seen: EventRecord[] = [];
    maker.subscribeAccount(1, (events) => seen.push(...events));
    await maker.submit(CommandKind.Tick, {}); // frames are taken in order: the stream is up
    // Resting orders of account 1: two of the maker's own (canceled when it drops), two placed
    // by another session of the account (filled while the maker is away).
    const first = await ask(root, 1, 40);
    await ask(root, 1, 41);
    const own = [await ask(maker, 1, 60), await ask(maker, 1, 61)];
    await until('the maker saw its orders', () => seen.some((e) => e.sequence === own[1]));
    proxy.close(); // the connection drops, and no new one gets through
    const trader = await BourseClient.connect(url, { clientId: 72 });
    const buy = { account: 2, instrument: 2, side: 'buy', price: 41, quantity: 2 } as const;
    const fills = (await trader.placeOrder(buy)).filter((e) => e.kind === EventKind.Trade);
    assert.equal(fills.length, 2, 'both resting asks of account 1 traded');
    const [paid] = await root.transfer({ account: 3, target: 1, ref: 1, quantity: 9 });
    await until('cancel on disconnect canceled the maker`s orders', async () => {
      const body = (await (await fetch(`${httpOf(url)}/orders?account=1`)).json()) as {
        orders: unknown[];
      };
      return body.orders.length === 0;
    });
    const head = await durableHead(url);
    assert.ok(
      seen.every((e) => e.sequence <= own[1]),
      'nothing came while away',
    );
    proxy = await FreezableProxy.start(nodePort, proxyPort); // the maker reconnects
    await until('the maker caught up', () => seen.some((e) => e.sequence >= head), 20_000);
    const [after] = await root.transfer({ account: 1, target: 4, ref: 1, quantity: 1 });
    await until('a live event after', () => seen.some((e) => e.sequence === after.sequence));
    const want = await accountEvents(url, 1, first, after.sequence);
    assert.ok(want.some((e) => e.sequence === paid.sequence));
    assert.equal(want.filter((e) => e.kind === EventKind.OrderCanceled).length, 2);
    assert.deepEqual(seen.map(key), want.map(key), 'every event of account 1 once, in order');
    await Promise.all([root.close(), maker.close(), trader.close()]);
    proxy.close();
  });
});

/** SubscribeFlag.From (a literal: this file also runs against servers without it). */
const fromFlag = 1;

/** A raw session: Hello, then what the server sends, as Events and Error frames. */
class RawSession {
  readonly events: { sequence: number; kind: number; status: number }[] = [];
  readonly errors: { requestId: number; code: number; text: string }[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.take(data));
  }

  static async open(url: string, clientId: number): Promise<RawSession> {
    const ws = new WebSocket(url);
    const session = new RawSession(ws);
    await new Promise((resolve) => ws.once('open', resolve));
    const welcomed = new Promise((resolve) => ws.once('message', resolve));
    ws.send(hello(clientId));
    await welcomed;
    return session;
  }

  /** Subscribes to `account`'s stream from `from` (flagged From; below 0: without the field). */
  subscribe(account: number, from: number, requestId: number, kind = StreamKind.Account): void {
    const frame = Buffer.alloc(frameHeaderBytes + 24);
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    writeHeader(view, 0, FrameType.Subscribe, requestId, fromFlag);
    view.setUint8(frameHeaderBytes, kind);
    view.setFloat64(frameHeaderBytes + 8, account, true);
    view.setFloat64(frameHeaderBytes + 16, from, true);
    this.ws.send(from < 0 ? frame.subarray(0, frameHeaderBytes + 16) : frame);
  }

  private take(data: Buffer): void {
    const type = data.readUInt8(0);
    const requestId = data.readUInt32LE(4);
    if (type === FrameType.Error) {
      const text = data.subarray(frameHeaderBytes + 4).toString('utf8');
      this.errors.push({ requestId, code: data.readUInt16LE(frameHeaderBytes), text });
      return;
    }
    if (type !== FrameType.Events || requestId !== topicRequestId(StreamKind.Account)) return;
    const count = data.readUInt32LE(frameHeaderBytes);
    for (let i = 0; i < count; i++) {
      const at = frameHeaderBytes + 8 + i * eventSizeBytes;
      const sequence = Number(data.readBigUInt64LE(at + EventWord.sequence * 4));
      const kindStatus = data.readUInt32LE(at + EventWord.kindStatus * 4);
      this.events.push({ sequence, kind: kindStatus & 0xff, status: kindStatus >>> 16 });
    }
  }
}

test('a resume joins the live stream with no gap or repeat while events keep coming', async () => {
  await withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 80, inFlightMax: 4_096 });
    await setUp(root);
    const transfers = (n: number): Record<string, number>[] =>
      Array.from({ length: n }, () => ({ account: 1, target: 2, ref: 1, quantity: 1 }));
    const backlog = await root.submitBatch(CommandKind.Transfer, transfers(6_000));
    const backlogEnd = backlog.sequence[backlog.count - 1];
    // A steady stream of new events while readers resume from the start, one after another.
    let writing = true;
    const writer = (async () => {
      for (let round = 0; writing && round < 400; round++) {
        await root.submitBatch(CommandKind.Transfer, transfers(50));
      }
    })();
    const readers: RawSession[] = [];
    for (let r = 0; r < 4; r++) {
      const reader = await RawSession.open(url, 81 + r);
      reader.subscribe(1, 1 + r * 1_000, 1);
      readers.push(reader);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    await until(
      'the readers reached the live stream',
      () => readers.every((r) => (r.events.at(-1)?.sequence ?? 0) > backlogEnd + 2_000),
      30_000,
    );
    writing = false;
    await writer;
    const [last] = await root.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    for (const [r, reader] of readers.entries()) {
      await until('the last transfer', () => reader.events.at(-1)?.sequence === last.sequence);
      const want = await accountEvents(url, 1, 1 + r * 1_000, last.sequence);
      assert.equal(reader.errors.length, 0);
      assert.deepEqual(reader.events.map(key), want.map(key), `reader ${r}: each event once`);
      reader.ws.close();
    }
    await root.close();
  });
});

test('a from-sequence the journal cannot serve is refused with Error 4, and why', async () => {
  await withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 90 });
    await setUp(root);
    const head = await durableHead(url);
    const raw = await RawSession.open(url, 91);
    raw.subscribe(1, 0, 11);
    raw.subscribe(1, head + 2, 12);
    raw.subscribe(1, 1.5, 13);
    raw.subscribe(2, 1, 14, StreamKind.Trades);
    raw.subscribe(1, -1, 15); // flagged, without the field
    raw.subscribe(1, head + 1, 16); // from the head on: taken
    await until('five refusals', () => raw.errors.length === 5);
    assert.deepEqual(
      raw.errors.map((e) => [e.requestId, e.code]),
      [11, 12, 13, 14, 15].map((id) => [id, 4]),
    );
    assert.match(raw.errors[0].text, /from: a sequence, 1 or more/);
    assert.match(raw.errors[1].text, new RegExp(`past the journal's durable sequence ${head}`));
    assert.match(raw.errors[3].text, /account streams only/);
    assert.match(raw.errors[4].text, /without a from-sequence/);
    const [paid] = await root.transfer({ account: 3, target: 1, ref: 1, quantity: 1 });
    await until('the taken one streams', () =>
      raw.events.some((e) => e.sequence === paid.sequence),
    );
    // The SDK: a refusal goes to onError, code 4.
    const refusals: Error[] = [];
    root.subscribeAccount(
      1,
      () => {},
      (e) => refusals.push(e),
      paid.sequence + 100,
    );
    await until('the SDK heard the refusal', () => refusals.length === 1);
    assert.match(refusals[0].message, /past the journal's durable sequence/);
    raw.ws.close();
    await root.close();
  });
});
