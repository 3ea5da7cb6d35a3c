/**
 * A cluster's primary journals a batch before a majority holds it: its journal's durable
 * sequence runs ahead of what is committed, and a failover may drop that tail and number other
 * events with its sequences. What the primary tells a client of where it stands (Welcome's
 * sequence, where an account stream starts: Subscribed) must not pass what is committed: the
 * SDK resumes a quiet account stream from one past it and drops every event up to it, so the
 * events a new primary put at those sequences, after the Subscribe, never came.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { CommandKind } from '../../src/protocol/command-layout.js';
import {
  FrameType,
  frameHeaderBytes,
  HelloFlag,
  StreamKind,
  writeHeader,
} from '../../src/protocol/frames.js';
import { ProgressSlot } from '../../src/journal/journal-progress.js';
import { TestCluster } from '../harness/cluster-driver.js';
import { hello } from '../harness/gateway-node.js';
import { until } from '../harness/wait.js';

/** The next frame `ws` gets. */
function next(ws: WebSocket): Promise<Buffer> {
  return new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(data)));
}

test('a primary tells no client a sequence past what is committed', () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const client = await cluster.setUpClient(1000, 0);
    const node = primary.node;
    assert.ok(node !== null);
    const durable = (): number => node.progress.get(ProgressSlot.sequenceDurable);
    await until('all committed', () => primary.committedSequence === durable());
    // Cut off from both standbys: the next batch is journaled here and never committed.
    for (const m of cluster.members)
      if (m.id !== primary.id) cluster.faultPlan(primary.id).blockTo.add(m.id);
    const unanswered = client.submit(CommandKind.Deposit, { account: 1, ref: 1, quantity: 1 });
    unanswered.catch(() => {}); // answered never, or failed at the stop
    await until('journaled ahead of committed', () => durable() > primary.committedSequence);
    const committed = primary.committedSequence;
    const url = cluster.urls()[primary.id - 1];
    const ws = new WebSocket(url);
    try {
      await new Promise((resolve) => ws.once('open', resolve));
      const frame = hello(2000);
      frame.writeUInt16LE(HelloFlag.AccountInFrames | HelloFlag.AccountStarts, 2);
      const welcome = next(ws);
      ws.send(frame);
      const w = await welcome;
      assert.equal(w[0], FrameType.Welcome);
      assert.ok(w.readDoubleLE(frameHeaderBytes + 8) <= committed, 'Welcome: committed at most');
      const subscribe = Buffer.alloc(frameHeaderBytes + 16);
      writeHeader(new DataView(subscribe.buffer), 0, FrameType.Subscribe, 7);
      subscribe.writeUInt8(StreamKind.Account, frameHeaderBytes);
      subscribe.writeDoubleLE(1, frameHeaderBytes + 8);
      const subscribed = next(ws);
      ws.send(subscribe);
      const s = await subscribed;
      assert.equal(s[0], FrameType.Subscribed);
      assert.ok(s.readDoubleLE(frameHeaderBytes + 16) <= committed, 'Subscribed: at most');
      assert.ok(durable() > committed, 'still journaled ahead of committed throughout');
    } finally {
      ws.terminate();
      await client.close();
    }
  }));
