/**
 * An account stream ended and taken again with `from`, while frames of the ended stream were
 * still on their way. Every account frame carries the account stream's one request id, so the
 * SDK handed those late live frames to the new handler, before its backlog: the backlog below
 * them was then dropped as already delivered, and the late event came a second time with it
 * (`from` 10 delivered [50, 50]). The server now says where such a stream starts (Subscribed,
 * from - 1: Hello flag ResumeStarts), and the SDK drops the account's frames until it does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { BourseClient, type EventRecord } from '../../src/client/client.js';
import {
  FrameType,
  frameHeaderBytes,
  HelloFlag,
  StreamKind,
  SubscribeFlag,
  writeHeader,
} from '../../src/protocol/frames.js';
import { hello, setUp, withNode } from '../harness/gateway-node.js';
import { FreezableProxy } from '../harness/freezable-proxy.js';
import { until } from '../harness/wait.js';

test('an account stream taken again from a sequence gets each event from it once', () =>
  withNode(async (_node, url) => {
    const proxy = await FreezableProxy.start(Number(new URL(url).port));
    const root = await BourseClient.connect(url, { clientId: 66 });
    const watcher = await BourseClient.connect(proxy.url, { clientId: 67 });
    try {
      await setUp(root);
      const pay = async (): Promise<number> => {
        const [event] = await root.transfer({ account: 3, target: 1, ref: 1, quantity: 1 });
        return event.sequence;
      };
      const paid = [await pay(), await pay(), await pay()];
      const first: EventRecord[] = [];
      const end = watcher.subscribeAccount(1, (events) => first.push(...events));
      paid.push(await pay());
      await until('the live stream', () => first.some((e) => e.sequence === paid[3]));
      // A payment whose live frame is on its way to the watcher as it ends the stream and
      // takes it again from the second payment on.
      proxy.holdDownstream();
      paid.push(await pay());
      await until('the live frame on its way', () => proxy.heldBytes > 0);
      end();
      const again: EventRecord[] = [];
      watcher.subscribeAccount(1, (events) => again.push(...events), undefined, paid[1]);
      proxy.release();
      paid.push(await pay());
      await until('the next live payment', () => again.some((e) => e.sequence === paid[5]));
      const got = again.map((e) => e.sequence);
      assert.deepEqual(got, paid.slice(1), 'from the second payment on, each once, in order');
    } finally {
      await Promise.all([root.close(), watcher.close()]);
      proxy.close();
    }
  }));

/**
 * The first `n` frames a raw session with Hello flags `flags` gets after Welcome, once it
 * subscribed to account 1 from `from` (request id 7); and Welcome's flags.
 */
async function afterSubscribeFrom(
  url: string,
  clientId: number,
  flags: number,
  from: number,
  n: number,
): Promise<{ took: number; frames: Buffer[] }> {
  const ws = new WebSocket(url);
  const frames: Buffer[] = [];
  ws.on('message', (data: Buffer) => frames.push(data));
  try {
    await new Promise((resolve) => ws.once('open', resolve));
    const greeting = hello(clientId);
    greeting.writeUInt16LE(flags, 2);
    ws.send(greeting);
    await until('Welcome', () => frames.length === 1);
    assert.equal(frames[0][0], FrameType.Welcome);
    const subscribe = Buffer.alloc(frameHeaderBytes + 24);
    writeHeader(new DataView(subscribe.buffer), 0, FrameType.Subscribe, 7, SubscribeFlag.From);
    subscribe.writeUInt8(StreamKind.Account, frameHeaderBytes);
    subscribe.writeDoubleLE(1, frameHeaderBytes + 8);
    subscribe.writeDoubleLE(from, frameHeaderBytes + 16);
    ws.send(subscribe);
    await until('the frames after Welcome', () => frames.length >= 1 + n);
    return { took: frames[0].readUInt16LE(2), frames: frames.slice(1, 1 + n) };
  } finally {
    ws.terminate();
  }
}

test('a Subscribe flagged From is answered with Subscribed only where the session asked', () =>
  withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 68 });
    try {
      await setUp(root);
      const [paid] = await root.transfer({ account: 3, target: 1, ref: 1, quantity: 1 });
      await root.transfer({ account: 3, target: 1, ref: 1, quantity: 1 });
      const starts = HelloFlag.AccountInFrames | HelloFlag.AccountStarts;
      const asked = starts | HelloFlag.ResumeStarts;
      const now = await afterSubscribeFrom(url, 69, asked, paid.sequence, 2);
      assert.equal(now.took, asked, 'Welcome repeats ResumeStarts');
      const [said, backlog] = now.frames;
      assert.deepEqual([said[0], said.readUInt32LE(4)], [FrameType.Subscribed, 7]);
      assert.equal(said.readDoubleLE(frameHeaderBytes + 8), 1, 'the account');
      assert.equal(said.readDoubleLE(frameHeaderBytes + 16), paid.sequence - 1, 'from - 1');
      assert.equal(backlog[0], FrameType.Events, 'then the stored events');
      // Asked as by the SDK before ResumeStarts: the stored events first, as they always came.
      const before = await afterSubscribeFrom(url, 70, starts, paid.sequence, 1);
      assert.equal(before.took, starts);
      assert.equal(before.frames[0][0], FrameType.Events, 'no Subscribed: as before');
    } finally {
      await root.close();
    }
  }));
