/**
 * A subscriber that stops reading is closed with 4008 once more than the limit waits for it;
 * it is never skipped in silence (uWS pub/sub drops a lagging subscriber's messages and goes on:
 * an account stream lost 43% of its events and stayed open).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { frame, hello, setUp, withNode } from '../harness/gateway-node.js';
import { BourseClient } from '../../src/client/client.js';
import { CloseCode, FrameType, frameHeaderBytes, StreamKind } from '../../src/protocol/frames.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { Status } from '../../src/protocol/status.js';
import { metricsAt, seriesValue } from '../harness/metrics-text.js';

const transfers = 120_000;

/** A raw session subscribed to account 1's stream that reads nothing until `resume`. */
async function stalledSubscriber(url: string): Promise<{
  resume(): void;
  sequences: number[];
  closed: Promise<number>;
}> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const sequences: number[] = [];
  ws.on('message', (data: Buffer) => {
    if (data.readUInt8(0) !== FrameType.Events) return;
    const count = data.readUInt32LE(frameHeaderBytes);
    for (let i = 0; i < count; i++) {
      sequences.push(Number(data.readBigUInt64LE(frameHeaderBytes + 8 + i * 128)));
    }
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.send(hello(61));
  const body = Buffer.alloc(16);
  body.writeUInt8(StreamKind.Account, 0);
  body.writeDoubleLE(1, 8);
  ws.send(frame(FrameType.Subscribe, body, 1, 7));
  await new Promise((resolve) => setTimeout(resolve, 200)); // Welcome, and subscribed
  const socket = (ws as unknown as { _socket: Socket })._socket;
  socket.pause();
  return { resume: () => socket.resume(), sequences, closed };
}

test('an account stream that falls behind is closed with 4008, never skipped', async () => {
  await withNode(async (_node, url) => {
    const admin = await BourseClient.connect(url, { clientId: 60, inFlightMax: 4_000 });
    await setUp(admin);
    const [funded] = await admin.deposit({ account: 1, asset: 1, amount: 1_000_000 });
    assert.equal(funded.status, Status.Ok);
    const subscriber = await stalledSubscriber(url);
    const move = { account: 1, target: 2, ref: 1, quantity: 1 };
    for (let sent = 0; sent < transfers; sent += 10_000) {
      const r = await admin.submitBatch(CommandKind.Transfer, Array(10_000).fill(move));
      assert.equal(
        r.status.every((s) => s === Status.Ok),
        true,
      );
    }
    // 120,000 events of ~150 bytes: 18 MB for a session that may leave 4 MB unread.
    subscriber.resume();
    const code = await Promise.race([
      subscriber.closed,
      new Promise<number>((resolve) => setTimeout(() => resolve(-1), 10_000)),
    ]);
    assert.equal(code, CloseCode.SlowConsumer, 'closed, not left open with a gap');
    const closes = (text: string, code: string): number =>
      seriesValue(text, `bourse_gateway_closes_total{code="${code}"}`);
    const text = await metricsAt(url);
    assert.equal(closes(text, '4008'), 1, 'counted by its code, on /metrics');
    assert.equal(closes(text, 'other'), 0);
    const seen = subscriber.sequences;
    assert.ok(seen.length > 0 && seen.length < transfers, `${seen.length} events before the close`);
    for (let i = 1; i < seen.length; i++) {
      assert.equal(seen[i], seen[i - 1] + 1, `no event skipped after sequence ${seen[i - 1]}`);
    }
    await admin.close();
  });
});
