/**
 * The marks of cancel on disconnect on a real node (gateway/cancel-on-disconnect.ts,
 * engine/cancel-cover.ts): the SetCancelOnDisconnect commands that tell the state which clients
 * have a session with the flag, read by the node that takes commands after a failover or a
 * restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, EventKind, Status, type EventRecord } from '../../src/client/client.js';
import type { CommandSink } from '../../src/gateway/gateway.js';
import { BourseNode as Node } from '../../src/pipeline/node.js';
import { HelloFlag } from '../../src/protocol/frames.js';
import {
  disconnectEvents,
  fullWhile,
  rawSession,
  setUp,
  withNode,
} from '../harness/gateway-node.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { seriesValue } from '../harness/metrics-text.js';
import { until } from '../harness/wait.js';

/** Waits (30 s at most: a node sharing two cores with other tests) until `done`. */
function waitUntil(what: string, done: () => boolean | Promise<boolean>): Promise<void> {
  return until(what, done, 30_000);
}

/** The marks (CancelOnDisconnectSet) of `client` journaled from `from` on: aux 1 on, 0 off. */
async function marksOf(url: string, from: number, client: number): Promise<EventRecord[]> {
  const events = await disconnectEvents(url, from);
  return events.filter((e) => e.kind === EventKind.CancelOnDisconnectSet && e.ref === client);
}

/**
 * Holds back what the node's cancel-on-disconnect part writes (its marks and rounds) as a full
 * input ring would, while `full()`; the clients' commands find room as before. A ring that
 * drains between a login and its mark's retry (10 ms on) is this.
 */
function holdMarks(node: Node, full: () => boolean): void {
  const cancels = (node.gateway as unknown as { cancels: { sink: CommandSink } }).cancels;
  cancels.sink = fullWhile(cancels.sink, full);
}

test("a login's mark is in the ring before the client's commands, ring full or not", async () => {
  await withNode(async (node, url) => {
    const root = await BourseClient.connect(url, { clientId: 180 });
    const from = (await setUp(root)) + 1;
    let full = true;
    holdMarks(node, () => full);
    const maker = await BourseClient.connect(url, { clientId: 181, cancelOnDisconnect: true });
    // Sent at once after Welcome: before, it went into the ring ahead of the mark waiting for
    // room, and a failover between the two left it unmarked in the new primary's state.
    let answered = false;
    const order = { account: 1, instrument: 2, side: 'buy', price: 10, quantity: 1 } as const;
    const placing = maker.placeOrder(order).finally(() => (answered = true));
    await waitUntil('the order answered or held', () => answered || maker.busyRefusals > 0);
    full = false;
    const [head] = await placing;
    assert.equal(head.status, Status.Ok);
    let marks: EventRecord[] = [];
    await waitUntil('the mark journaled', async () => {
      marks = await marksOf(url, from, 181);
      return marks.length > 0;
    });
    assert.equal(marks[0].aux, 1);
    assert.ok(marks[0].sequence < head.sequence, 'the mark is sequenced before the order');
    await maker.close();
    await root.close();
  });
});

/** A node on `dir` (a restart when it held one before) and its ws:// address. */
async function startNode(
  dir: string,
  cancelGraceMs?: number,
  log?: (line: string) => void,
): Promise<{ node: Node; url: string }> {
  const gateway = { host: '127.0.0.1', port: 0, cancelGraceMs };
  const node = await Node.start({ dataDir: dir, config: smallConfig, gateway, log });
  return { node, url: `ws://127.0.0.1:${node.gateway?.port}/` };
}

/** Whether the node's grace after taking over (cancel-on-disconnect.ts) is under way. */
function graceRunning(node: Node): boolean {
  return (
    node.gateway as unknown as { cancels: { graceRunning(): boolean } }
  ).cancels.graceRunning();
}

async function unreturned(url: string): Promise<number> {
  const text = await (await fetch(`${url.replace('ws://', 'http://')}metrics`)).text();
  return seriesValue(text, 'bourse_cancel_on_disconnect_unreturned_total');
}

test('a lost client that never comes back is unmarked once its orders are canceled', async () => {
  const dir = tempDataDir();
  let { node, url } = await startNode(dir);
  try {
    const root = await BourseClient.connect(url, { clientId: 182 });
    const from = (await setUp(root)) + 1;
    await root.close();
    const maker = await rawSession(url, 183, HelloFlag.CancelOnDisconnect);
    assert.ok(maker.welcome !== null);
    maker.ws.terminate(); // lost: its chain runs (no orders: one round), it never comes back
    await waitUntil('the chain answered', async () => {
      const rounds = await disconnectEvents(url, from);
      return rounds.some((e) => e.kind === EventKind.AllCanceled && e.ref === 183);
    });
    const cancels = (node.gateway as unknown as { cancels: { pendingCount(): number } }).cancels;
    await waitUntil('the chain ended', () => cancels.pendingCount() === 0);
    await node.stop();
    ({ node, url } = await startNode(dir)); // a restart: the node takes commands again
    assert.ok(graceRunning(node), 'the grace after taking over is under way');
    await waitUntil('the grace ended', () => !graceRunning(node));
    // Before, the mark stayed: every restart or failover took the client for lost again.
    assert.equal(await unreturned(url), 0, 'no client taken for lost at the restart');
    const marks = await marksOf(url, from, 183);
    assert.deepEqual(
      marks.map((e) => e.aux),
      [1, 0],
      'marked at its login, unmarked after its chain',
    );
  } finally {
    await node.stop();
    removeDir(dir);
  }
});

test("the grace after taking over is the node's (--cancel-on-disconnect-grace-ms)", async () => {
  const dir = tempDataDir();
  const lines: string[] = [];
  let { node, url } = await startNode(dir, 1_500);
  try {
    const maker = await rawSession(url, 184, HelloFlag.CancelOnDisconnect);
    assert.ok(maker.welcome !== null);
    await waitUntil('the mark journaled', async () => (await marksOf(url, 1, 184)).length > 0);
    await node.stop(); // its sessions close 1001, no loss: the mark stays, the client is gone
    ({ node, url } = await startNode(dir, 1_500, (line) => void lines.push(line)));
    const lost = (l: string): boolean => l.includes('clients 184: no session within 1500 ms');
    await waitUntil('the client taken for lost after the grace set', () => lines.some(lost));
  } finally {
    await node.stop();
    removeDir(dir);
  }
});
