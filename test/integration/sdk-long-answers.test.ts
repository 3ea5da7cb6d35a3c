/**
 * A command whose events do not fit one Events frame (at most 127 events): the SDK answers it
 * with all of them. A trader's audit found a sweep of 298 makers answered with 126 trades, and
 * an order placed after 126 one-event commands in one tick answered without its fills: the
 * frame's cut fell inside it, and the SDK answered it when that frame ended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, EventKind, Status, type EventRecord } from '../../src/client/client.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';

const makers = 200;

async function withMarket(run: (c: BourseClient, url: string) => Promise<void>): Promise<void> {
  const dir = tempDataDir();
  const node = await BourseNode.start({
    dataDir: dir,
    // A window of 256: the SDK keeps that many commands in flight, so one tick's go together.
    config: { ...smallConfig, fillsPerCommandMax: 256, idempotencyWindow: 256 },
    gateway: { host: '127.0.0.1', port: 0 },
  });
  const url = `ws://127.0.0.1:${node.gateway?.port}/`;
  const c = await BourseClient.connect(url, { clientId: 7 });
  try {
    await c.addAsset({ asset: 1, scale: 0 });
    await c.addAsset({ asset: 2, scale: 0 });
    for (const account of [1, 2, 3]) await c.createAccount({ account });
    await c.deposit({ account: 1, asset: 1, amount: 1_000_000 });
    await c.deposit({ account: 2, asset: 2, amount: 10_000 });
    const market = { instrument: 1, base: 2, quote: 1, tick: 1, lot: 1, feeAccount: 3 };
    await c.addInstrument(market);
    await run(c, url);
  } finally {
    await c.close();
    await node.stop();
    removeDir(dir);
  }
}

/** Rests `n` sells of 1 at 100 from account 2, all placed in one tick. */
async function restSells(c: BourseClient, n: number): Promise<void> {
  const sell = { account: 2, instrument: 1, side: 'sell', price: 100, quantity: 1 } as const;
  const placed = await Promise.all(Array.from({ length: n }, () => c.placeOrder(sell)));
  for (const events of placed) assert.equal(events[0].status, Status.Ok);
}

function trades(events: EventRecord[]): number {
  return events.filter((e) => e.kind === EventKind.Trade).length;
}

test('an order that sweeps more makers than fit a frame is answered with every trade', async () => {
  await withMarket(async (c, url) => {
    await restSells(c, makers);
    const buy = { account: 1, instrument: 1, side: 'buy', price: 100, tif: 'IOC' } as const;
    const events = await c.placeOrder({ ...buy, quantity: makers });
    assert.equal(events[0].status, Status.Ok);
    assert.equal(trades(events), makers, `${events.length} events answered`);
    // The answer is the journal's events from its head on, one for one (nothing came after).
    const base = url.replace('ws://', 'http://');
    const page = await fetch(`${base}events?from=${events[0].sequence}&count=1000`);
    const journal = (await page.json()) as EventRecord[];
    assert.deepEqual(
      events.map((e) => [e.sequence, e.kind]),
      journal.map((e) => [e.sequence, e.kind]),
    );
  });
});

test('an order whose events a frame cut falls on is answered whole', async () => {
  await withMarket(async (c) => {
    await restSells(c, 5);
    // 126 one-event answers, then the order's 6 events: the cut falls after its first.
    const unknown = Array.from({ length: 126 }, (_, i) =>
      c.cancel({ account: 1, order: 1_000_000 + i }),
    );
    const buy = { account: 1, instrument: 1, side: 'buy', price: 100, quantity: 5 } as const;
    const order = c.placeOrder({ ...buy, tif: 'IOC' });
    for (const events of await Promise.all(unknown)) assert.equal(events.length, 1);
    const events = await order;
    assert.equal(trades(events), 5, JSON.stringify(events.map((e) => e.kind)));
    // The next command's answer is its own, whole.
    const next = await c.placeOrder({ ...buy, quantity: 1 });
    assert.equal(next[0].kind, EventKind.OrderAccepted);
    assert.equal(next.length, 1);
  });
});
