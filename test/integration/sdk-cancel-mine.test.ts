/**
 * A trader pulls its own quotes, and only its own: the SDK's cancelMyOrders over more orders
 * than one CancelClientOrders takes (smallConfig: 64), on two accounts, while another trader's
 * orders on the same account stay; cancelClientOrders of another client id is refused for an
 * account key and done for an admin key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BourseClient,
  ClientErrorCode,
  CommandKind,
  EventKind,
  Status,
  type ClientError,
  type EventRecord,
} from '../../src/client/client.js';
import { createKey } from '../../src/gateway/api-keys.js';
import { keysFile, setUp, withNode } from '../harness/gateway-node.js';
import { smallConfig } from '../harness/engine-driver.js';

const ofKind = (events: EventRecord[], kind: EventKind): number[] =>
  events.filter((e) => e.kind === kind).map((e) => (kind === EventKind.OrderCanceled ? e.id : 0));

/** `n` resting bids of `account` in instrument 2 (tick 1, lot 1); their ids. */
async function bids(c: BourseClient, account: number, n: number): Promise<number[]> {
  const placed = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      c.placeOrder({ account, instrument: 2, side: 'buy', price: 10 + (i % 5), quantity: 1 }),
    ),
  );
  for (const [head] of placed) assert.equal(head.status, Status.Ok);
  return placed.map(([head]) => head.id);
}

test("cancelMyOrders cancels this client's orders on every account, no other's", async () => {
  const admin = createKey(150, true, []);
  const maker = createKey(151, false, [1, 3]);
  const other = createKey(152, false, [1]);
  const perCommand = smallConfig.fillsPerCommandMax;
  await withNode(
    async (_node, url) => {
      const root = await BourseClient.connect(url, { clientId: 150, apiKey: admin.token });
      await setUp(root);
      const c = await BourseClient.connect(url, { clientId: 151, apiKey: maker.token });
      const d = await BourseClient.connect(url, { clientId: 152, apiKey: other.token });
      const mine = [...(await bids(c, 1, perCommand + 6)), ...(await bids(c, 3, 2))];
      const theirs = await bids(d, 1, 3);
      const admins = await bids(root, 1, 1);

      const events = await c.cancelMyOrders();
      const heads = events.filter((e) => e.kind === EventKind.AllCanceled);
      assert.deepEqual(
        heads.map((h) => [h.commandKind, h.ref, h.quantity, h.otherId === 0]),
        [
          [CommandKind.CancelClientOrders, 151, perCommand, false],
          [CommandKind.CancelClientOrders, 151, 8, true],
        ],
        'two rounds, naming its own client id',
      );
      assert.deepEqual(
        ofKind(events, EventKind.OrderCanceled),
        mine,
        'oldest first, both accounts',
      );
      const again = await c.cancelMyOrders();
      assert.deepEqual(
        again.map((e) => [e.kind, e.quantity, e.otherId]),
        [[EventKind.AllCanceled, 0, 0]],
        'none left: one round, nothing canceled',
      );

      const forbidden = (e: ClientError): boolean =>
        e.code === ClientErrorCode.Forbidden &&
        /cancels client 151's orders, not 152's/.test(e.message);
      await assert.rejects(c.cancelClientOrders({ client: 152 }), forbidden);
      await assert.rejects(
        () => c.cancelClientOrders({ client: 152, account: 1 } as never),
        /cancelClientOrders: 'account' is not one of its fields \(client, next\)/,
      );
      const byAdmin = await root.cancelClientOrders({ client: 152 });
      assert.deepEqual(ofKind(byAdmin, EventKind.OrderCanceled), theirs, "an admin, another's");
      const left = await root.cancelAll({ account: 1 });
      assert.deepEqual(ofKind(left, EventKind.OrderCanceled), admins, "the admin's stayed");
      await Promise.all([c.close(), d.close(), root.close()]);
    },
    keysFile(admin, maker, other),
  );
});
