/**
 * The gateway counts the sessions holding each trades, account and book topic (topics.ts,
 * reads.ts) so that uWS is asked nothing for topics no one holds. A count off by one either
 * way is a silent fault: too low, a held topic gets nothing (or a leave asserts and the node
 * stops); too high, a topic no one holds is built and published for ever. Random sessions
 * (each Hello's account flags), Subscribes (twice, with From, of a topic held), Unsubscribes
 * (of a topic never held too), closes and events: after each step every count equals the
 * subscribers uWS has for that topic, and with every session gone every count is zero.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import fc from 'fast-check';
import { BourseClient } from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import {
  FrameType,
  frameHeaderBytes,
  StreamKind,
  SubscribeFlag,
  writeHeader,
} from '../../src/protocol/frames.js';
import { accountTopic, tradesTopic } from '../../src/gateway/topics.js';
import { depthTopic, topTopic } from '../../src/gateway/reads.js';
import type { BourseNode } from '../../src/pipeline/node.js';
import { hello, setUp, withNode } from '../harness/gateway-node.js';
import { until } from '../harness/wait.js';

type Counts = Map<number, number>;

/** What the test reads of the gateway: its counts, and uWS's subscribers of a topic. */
interface Inside {
  topics: { tradeSessions: Counts; plainSessions: Counts; namedSessions: Counts };
  books: { depthSessions: Counts; topSessions: Counts };
  app: { numSubscribers(topic: Uint8Array): number };
}

const kinds = [StreamKind.Account, StreamKind.Trades, StreamKind.Depth, StreamKind.TopOfBook];

type Step =
  | { t: 'open'; flags: number }
  | { t: 'sub'; s: number; kind: number; param: number; from: boolean }
  | { t: 'unsub'; s: number; kind: number; param: number }
  | { t: 'close'; s: number; hard: boolean }
  | { t: 'event'; account: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('open' as const), flags: fc.constantFrom(0, 2, 6) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('sub' as const),
      s: fc.nat(3),
      kind: fc.constantFrom(...kinds),
      param: fc.integer({ min: 1, max: 2 }),
      from: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('unsub' as const),
      s: fc.nat(3),
      kind: fc.constantFrom(...kinds),
      param: fc.integer({ min: 1, max: 2 }),
    }),
  },
  fc.record({ t: fc.constant('close' as const), s: fc.nat(3), hard: fc.boolean() }),
  fc.record({ t: fc.constant('event' as const), account: fc.integer({ min: 1, max: 2 }) }),
);

/** A raw session: its socket and the request ids of the Errors it got. */
interface Raw {
  ws: WebSocket;
  errors: Set<number>;
}

async function open(url: string, clientId: number, flags: number): Promise<Raw> {
  const ws = new WebSocket(url);
  const errors = new Set<number>();
  await new Promise((resolve) => ws.once('open', resolve));
  const welcome = new Promise((resolve) => ws.once('message', resolve));
  const frame = hello(clientId);
  frame.writeUInt16LE(flags, 2);
  ws.send(frame);
  await welcome;
  ws.on('message', (data: Buffer) => {
    if (data[0] === FrameType.Error) errors.add(data.readUInt32LE(4));
  });
  return { ws, errors };
}

function streamFrame(type: FrameType, id: number, kind: number, param: number, from = 0): Buffer {
  const frame = Buffer.alloc(frameHeaderBytes + (from > 0 ? 24 : 16));
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  writeHeader(view, 0, type, id, from > 0 ? SubscribeFlag.From : 0);
  view.setUint8(frameHeaderBytes, kind);
  view.setFloat64(frameHeaderBytes + 8, param, true);
  if (from > 0) view.setFloat64(frameHeaderBytes + 16, from, true);
  return frame;
}

/** Waits until the gateway has handled all `raw` sent so far: a Subscribe it refuses. */
async function settled(raw: Raw, id: number): Promise<void> {
  raw.ws.send(streamFrame(FrameType.Subscribe, id, StreamKind.Account, 0));
  await until('the refusal after the frames sent', () => raw.errors.has(id));
}

/** Every count equals uWS's subscribers of its topic (both at 0 for a topic no one holds). */
function assertCounts(inside: Inside): void {
  const pairs: [Counts, (n: number) => Uint8Array][] = [
    [inside.topics.tradeSessions, tradesTopic],
    [inside.topics.plainSessions, (n) => accountTopic(n, false)],
    [inside.topics.namedSessions, (n) => accountTopic(n, true)],
    [inside.books.depthSessions, depthTopic],
    [inside.books.topSessions, topTopic],
  ];
  for (const [counts, topic] of pairs) {
    for (const n of [1, 2]) {
      const held = inside.app.numSubscribers(topic(n));
      assert.equal(counts.get(n) ?? 0, held, `${topic(n).toString()}: counted as held`);
    }
  }
}

async function run(node: BourseNode, url: string, steps: Step[], client: BourseClient) {
  const inside = node.gateway as unknown as Inside;
  const sessions: Raw[] = [];
  let id = 1;
  let clientId = 2000;
  for (const s of steps) {
    const raw = 's' in s ? sessions[s.s % Math.max(1, sessions.length)] : undefined;
    if (s.t === 'open' && sessions.length < 4) {
      sessions.push(await open(url, clientId++, s.flags));
    } else if (s.t === 'event') {
      const quantity = 1;
      await client.submit(CommandKind.Deposit, { account: s.account, ref: 1, quantity });
    } else if (raw !== undefined && s.t === 'sub') {
      const from = s.kind === StreamKind.Account && s.from ? 1 : 0;
      raw.ws.send(streamFrame(FrameType.Subscribe, id++, s.kind, s.param, from));
    } else if (raw !== undefined && s.t === 'unsub') {
      raw.ws.send(streamFrame(FrameType.Unsubscribe, id++, s.kind, s.param));
    } else if (raw !== undefined && s.t === 'close') {
      sessions.splice(sessions.indexOf(raw), 1);
      if (s.hard) raw.ws.terminate();
      else raw.ws.close();
      const open = sessions.length + 1; // the SDK's
      await until('the close seen', () => node.gateway?.sessionCount() === open);
    }
    for (const r of sessions) await settled(r, id++);
    assertCounts(inside);
  }
  for (const r of sessions) r.ws.terminate();
  await until('every session gone', () => node.gateway?.sessionCount() === 1);
  assertCounts(inside);
  const all = [inside.topics.tradeSessions, inside.topics.plainSessions];
  all.push(inside.topics.namedSessions, inside.books.depthSessions, inside.books.topSessions);
  assert.deepEqual(
    all.map((m) => m.size),
    [0, 0, 0, 0, 0],
    'no topic counted once its last holder left',
  );
}

test('topic counts follow the sessions holding each topic, whatever they send', () =>
  withNode(async (node, url) => {
    const client = await BourseClient.connect(url, { clientId: 1000 });
    try {
      await setUp(client);
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) =>
          run(node, url, steps, client),
        ),
        { numRuns: 60 },
      );
    } finally {
      await client.close();
    }
  }));
