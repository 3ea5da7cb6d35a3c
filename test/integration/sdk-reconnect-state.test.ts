/**
 * What a client reads of its session after a reconnect: the durable sequence is the new
 * session's, as Welcome named it, not the first session's (a client paging the journal from
 * it after a restart of the node read from where it stood minutes before).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setUp, withNode } from '../harness/gateway-node.js';
import { BourseClient, Status } from '../../src/client/client.js';
import { until } from '../harness/wait.js';

test('durableSequence is the reopened session’s after a reconnect', async () => {
  await withNode(async (_node, url) => {
    const client = await BourseClient.connect(url, { clientId: 181 });
    try {
      const opened = client.durableSequence;
      await setUp(client);
      const [paid] = await client.transfer({ from: 1, to: 2, asset: 1, amount: 5 });
      assert.equal(paid.status, Status.Ok);
      assert.ok(paid.sequence > opened);
      client.dropConnection();
      await until('the client reconnects', () => client.reconnects === 1);
      assert.ok(
        client.durableSequence >= paid.sequence,
        `${client.durableSequence} after a reconnect, the transfer at ${paid.sequence}`,
      );
    } finally {
      await client.close();
    }
  });
});
