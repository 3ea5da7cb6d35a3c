/**
 * After a reconnect the SDK says, for each trades stream, the last sequence it had handed over:
 * trades durable while no connection was up are not sent again, and a trader's audit found no
 * way to tell what to page `GET /events` from. Account streams resume from their last sequence
 * instead (sdk-account-resume.test.ts): they have no gap to name.
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

test('onReconnect names each trades stream and the last sequence it handed over', async () => {
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
    assert.deepEqual(gaps, [{ stream: 'trades', id: 2, afterSequence: -1 }]);
    assert.ok(last.sequence > 0);
    // The account stream goes on: the payment made after the reconnect comes once.
    const [later] = await payer.transfer({ from: 1, to: 3, asset: 1, amount: 7 });
    await found('the later payment', () => seen.find((e) => e.sequence === later.sequence));
    assert.equal(new Set(seen.map((e) => e.sequence)).size, seen.length, 'none twice');
    await Promise.all([payer.close(), watcher.close()]);
  });
});
