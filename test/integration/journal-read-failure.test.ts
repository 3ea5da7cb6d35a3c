/**
 * A journal that cannot be read while the node runs (a damaged page that a read meets: the
 * journal walk refuses what it cannot trust) is told to the reader, and the node goes on: GET
 * /events answered nothing and the throw out of its uWS handler ended the process; a journal
 * subscription reading it from a timer did the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { frame, hello, setUp, withNode } from '../harness/gateway-node.js';
import { BourseClient } from '../../src/client/client.js';
import { FrameType, StreamKind } from '../../src/protocol/frames.js';
import type { BourseNode } from '../../src/pipeline/node.js';

/** Makes every journal read of `node`'s gateway throw, as a damaged journal.mdb does. */
function damageReads(node: BourseNode): void {
  const gateway = node.gateway as unknown as { options: { journal: Record<string, unknown> } };
  const journal = gateway.options.journal;
  const damaged = (): never => {
    throw new Error('journal.mdb is damaged (a test)');
  };
  for (const read of ['eventsFrom', 'eventsFromTime', 'chunkFrom', 'eventsNaming']) {
    journal[read] = damaged;
  }
}

test('a failed journal read is answered 500 or closes its stream; the node goes on', async () => {
  await withNode(async (node, url) => {
    const client = await BourseClient.connect(url, { clientId: 70 });
    await setUp(client); // account 1 is known: its page is read from the journal
    await client.close();
    damageReads(node);
    const base = url.replace('ws://', 'http://').replace(/\/$/, '');
    const events = await fetch(`${base}/events?from=1`);
    assert.equal(events.status, 500);
    assert.deepEqual(await events.json(), { error: 'journal.mdb is damaged (a test)' });
    // An account's page is read once the read model said the account exists (a promise's
    // callback, out of the route's try): a throw there ended the process.
    const account = await fetch(`${base}/events?account=1&from=1`);
    assert.equal(account.status, 500);
    assert.deepEqual(await account.json(), { error: 'journal.mdb is damaged (a test)' });
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closed = new Promise<[number, string]>((resolve) =>
      ws.once('close', (code, reason) => resolve([code, reason.toString()])),
    );
    ws.send(hello(71));
    const body = Buffer.alloc(16);
    body.writeUInt8(StreamKind.Journal, 0);
    body.writeDoubleLE(1, 8);
    ws.send(frame(FrameType.Subscribe, body, 1, 7));
    const [code, reason] = await closed;
    assert.equal(code, 1011);
    assert.match(reason, /journal read failed: journal.mdb is damaged/);
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200, 'the node is still up');
  });
});
