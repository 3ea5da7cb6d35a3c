/**
 * After a reconnect the SDK says, for each trades and account stream, the last sequence it had
 * handed over: events durable while no connection was up are not sent again, and a trader's
 * audit found no way to tell what to page `GET /events` from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BourseClient,
  CommandKind,
  type EventRecord,
  type StreamGap,
} from '../../src/client/client.js';
import { setUp, withNode } from '../harness/gateway-node.js';
import { found } from '../harness/wait.js';

test('onReconnect names each stream and the last sequence it handed over', async () => {
  await withNode(async (_node, url) => {
    const payer = await BourseClient.connect(url, { clientId: 61 });
    await setUp(payer);
    const reconnects: StreamGap[][] = [];
    const watcher = await BourseClient.connect(url, {
      clientId: 62,
      onReconnect: (_at, gaps) => reconnects.push(gaps),
    });
    const seen: EventRecord[] = [];
    watcher.subscribeAccount(1, (events) => seen.push(...events));
    watcher.subscribeTrades(2, () => {});
    // Frames are taken in order: once a later command is answered, both streams are in place.
    await watcher.submit(CommandKind.Tick, {});
    const [paid] = await payer.transfer({ from: 1, to: 2, asset: 1, amount: 5 });
    const last = await found('the transfer on the stream', () =>
      seen.find((e) => e.sequence === paid.sequence),
    );
    watcher.dropConnection();
    const gaps = await found('the reconnect', () => reconnects[0]);
    assert.deepEqual(gaps, [
      { stream: 'account', id: 1, afterSequence: last.sequence },
      { stream: 'trades', id: 2, afterSequence: -1 },
    ]);
    // What may be missing is paged from there: here the payment made while it reconnected.
    const [later] = await payer.transfer({ from: 1, to: 3, asset: 1, amount: 7 });
    const base = url.replace('ws://', 'http://').replace(/\/$/, '');
    const page = await fetch(`${base}/events?account=1&from=${last.sequence + 1}`);
    const events = ((await page.json()) as { events: EventRecord[] }).events;
    assert.ok(events.some((e) => e.sequence === later.sequence));
    await Promise.all([payer.close(), watcher.close()]);
  });
});
