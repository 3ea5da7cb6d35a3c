/**
 * GET /events?account=N: the events that name one account, for a key that grants it (the
 * whole journal needs an admin key), paged with `next`; a trade shows only the account's side.
 * A client that was not connected reads there what its account stream did not send it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, EventKind, Status } from '../../src/client/client.js';
import { createKey } from '../../src/gateway/api-keys.js';
import { keysFile, setUp, withNode } from '../harness/gateway-node.js';

interface Page {
  account: number;
  events: { sequence: number; kind: number; account: number; counterparty: number }[];
  next: number;
}

test('an account key reads its own account events, paged, and a trade shows its side', async () => {
  const admin = createKey(90, true, []);
  const user = createKey(91, false, [1]);
  await withNode(
    async (_node, url) => {
      const base = url.replace('ws://', 'http://').replace(/\/$/, '');
      const get = (query: string, key = user.token): Promise<Response> =>
        fetch(`${base}/events?${query}`, { headers: { authorization: `Bearer ${key}` } });
      const client = await BourseClient.connect(url, { clientId: 90, apiKey: admin.token });
      await setUp(client);
      for (let i = 0; i < 5; i++) await client.transfer({ from: 3, to: 4, asset: 1, amount: 1 });
      await client.transfer({ from: 1, to: 2, asset: 1, amount: 7 });
      const order = { instrument: 1, price: 100, quantity: 10 };
      await client.placeOrder({ ...order, account: 2, side: 'sell' });
      const [taker] = await client.placeOrder({ ...order, account: 1, side: 'buy', tif: 'IOC' });
      assert.equal(taker.status, Status.Ok);
      await client.close();

      const seen: Page['events'] = [];
      let from = 1;
      for (let pages = 0; pages < 100; pages++) {
        const r = await get(`account=1&from=${from}&count=2`);
        assert.equal(r.status, 200);
        const page = (await r.json()) as Page;
        assert.equal(page.account, 1);
        seen.push(...page.events);
        if (page.events.length === 0) break;
        assert.ok(page.next > from, 'each page moves on');
        from = page.next;
      }
      assert.ok(seen.length >= 4, `account 1's events: ${seen.length}`);
      for (const e of seen) assert.ok(e.account === 1 || e.counterparty === 1, `names 1: ${e}`);
      const all = (await (await get('from=1&count=1000', admin.token)).json()) as Page['events'];
      const expected = all.filter((e) => e.account === 1 || e.counterparty === 1);
      assert.deepEqual(
        seen.map((e) => e.sequence),
        expected.map((e) => e.sequence),
        'every event naming account 1, once, in order',
      );
      const trade = seen.find((e) => e.kind === EventKind.Trade);
      assert.ok(trade !== undefined);
      assert.deepEqual([trade.account, trade.counterparty], [1, 0], 'the maker stays hidden');
      assert.equal((await get('account=2&from=1')).status, 403, 'not its account');
      assert.equal((await get('from=1')).status, 403, 'the whole journal needs an admin key');
      assert.equal((await get('account=1')).status, 400, 'from is needed');
      const makerSide = (await (await get('account=2&from=1', admin.token)).json()) as Page;
      const made = makerSide.events.find((e) => e.kind === EventKind.Trade);
      assert.deepEqual([made?.account, made?.counterparty], [0, 2], 'the taker hidden from 2');
    },
    keysFile(admin, user),
  );
});
