/**
 * A from-sequence for an account the client already streams. The server holds one stream per
 * account and session and ignores a second Subscribe of it, so subscribeAccount(1, h, onError,
 * from) on a client that streamed account 1 sent a frame that changed nothing: `h` never had
 * the events from `from`, only the live ones, and nothing said so. The SDK now refuses such a
 * call, saying why and what to do, and the stream it holds goes on as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, type EventRecord } from '../../src/client/client.js';
import { setUp, withNode } from '../harness/gateway-node.js';
import { until } from '../harness/wait.js';

test('a from-sequence for an account streamed already is refused, and why', () =>
  withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 60 });
    await setUp(root);
    const [early] = await root.transfer({ account: 3, target: 1, ref: 1, quantity: 1 });
    const live: EventRecord[] = [];
    root.subscribeAccount(1, (events) => live.push(...events));
    const [first] = await root.transfer({ account: 3, target: 1, ref: 1, quantity: 2 });
    await until('the live stream', () => live.some((e) => e.sequence === first.sequence));
    const late: EventRecord[] = [];
    const refusals: Error[] = [];
    const resume = (): unknown =>
      root.subscribeAccount(
        1,
        (events) => late.push(...events),
        (e) => refusals.push(e),
        early.sequence,
      );
    assert.throws(resume, (e: Error) => {
      assert.match(e.message, /account 1 is already streamed on this client/);
      assert.match(e.message, /'from' would be ignored/);
      assert.match(e.message, /GET \/events\?account=1&from=/);
      return true;
    });
    // The stream held goes on, each event once; the refused call left nothing behind.
    const [second] = await root.transfer({ account: 3, target: 1, ref: 1, quantity: 3 });
    await until('the next live event', () => live.some((e) => e.sequence === second.sequence));
    assert.deepEqual(
      live.map((e) => e.sequence),
      [first.sequence, second.sequence],
    );
    assert.equal(late.length, 0);
    assert.equal(refusals.length, 0);
    // The same account without `from` is taken as before: from now on.
    const more: EventRecord[] = [];
    root.subscribeAccount(1, (events) => more.push(...events));
    const [third] = await root.transfer({ account: 3, target: 1, ref: 1, quantity: 4 });
    await until('the new handler', () => more.some((e) => e.sequence === third.sequence));
    assert.deepEqual(
      more.map((e) => e.sequence),
      [third.sequence],
    );
    await root.close();
  }));
