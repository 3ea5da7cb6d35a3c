/**
 * Subscribe calls check their refusal handler before anything is sent. An object where a
 * function was meant (`subscribeAccount(3, handler, { onError })`, the form subscribeBook
 * takes) was kept, and called when the server refused: `TypeError: ask.onError is not a
 * function`, thrown from the socket's handler, out of the caller's reach (found by a payments
 * integrator's audit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, type ClientError } from '../../src/client/client.js';
import { createKey } from '../../src/gateway/api-keys.js';
import { keysFile, withNode } from '../harness/gateway-node.js';
import { until } from '../harness/wait.js';

test('a subscribe call with a mistyped onError or book options is refused at once', async () => {
  const user = createKey(61, false, [1]);
  await withNode(async (_node, url) => {
    const client = await BourseClient.connect(url, { clientId: 61, apiKey: user.token });
    try {
      const refusals: string[] = [];
      const onError = (e: ClientError): number => refusals.push(e.message);
      const handler = (): void => {};
      const asObject = { onError } as never;
      const named = /subscribeAccount: onError must be a function, not .*subscribeBook's/;
      assert.throws(() => client.subscribeAccount(3, handler, asObject), named);
      assert.throws(() => client.subscribeTrades(1, handler, asObject), TypeError);
      assert.throws(() => client.subscribeJournal(1, handler, 'x' as never), /onError/);
      const book = (options: unknown): unknown =>
        client.subscribeBook(1, handler, options as never);
      assert.throws(() => book({ onError: 'x' }), /subscribeBook: onError must be a function/);
      assert.throws(() => book({ top: 1 }), /subscribeBook: top must be true or false/);
      assert.throws(() => book({ depth: 5 }), /subscribeBook: depth: not an option/);
      assert.throws(() => book(null), /subscribeBook: options must be/);
      // The function itself is the form that works: a refusal reaches it.
      client.subscribeAccount(3, handler, onError);
      await until('the refusal', () => refusals.length === 1, 5_000);
      assert.deepEqual(refusals, ['not allowed for this API key: it does not grant account 3']);
    } finally {
      await client.close();
    }
  }, keysFile(user));
});
