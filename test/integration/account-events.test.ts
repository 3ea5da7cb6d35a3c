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
      // 404 as /balances answers: it was 200 with no events (an audit's finding).
      const unknown = await get('account=999&from=1', admin.token);
      assert.equal(unknown.status, 404, 'an account the node does not know');
      assert.deepEqual(await unknown.json(), { error: 'no such account' });
      assert.equal((await get('account=5&from=1', admin.token)).status, 200, 'one it knows');
      const makerSide = (await (await get('account=2&from=1', admin.token)).json()) as Page;
      const made = makerSide.events.find((e) => e.kind === EventKind.Trade);
      assert.deepEqual([made?.account, made?.counterparty], [0, 2], 'the taker hidden from 2');
    },
    keysFile(admin, user),
  );
});

test('a rejected command reaches its own account only, not the one its target names', async () => {
  const admin = createKey(90, true, []);
  const other = createKey(92, false, [4]);
  await withNode(
    async (_node, url) => {
      const base = url.replace('ws://', 'http://').replace(/\/$/, '');
      const client = await BourseClient.connect(url, { clientId: 90, apiKey: admin.token });
      await setUp(client);
      const watcher = await BourseClient.connect(url, { clientId: 92, apiKey: other.token });
      const streamed: number[] = [];
      watcher.subscribeAccount(4, (events) => streamed.push(...events.map((e) => e.kind)));
      const transfers = async (n: number): Promise<void> => {
        await client.transfer({ from: 1, to: 4, asset: 1, amount: 3 });
        for (let i = 0; i < 500; i++) {
          if (streamed.filter((k) => k === EventKind.Transferred).length >= n) return;
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      await transfers(1); // the subscription is in
      // Order and pending ids are sequences, so they meet account ids: 4 is account 4 too.
      const refused = [
        await client.cancel({ account: 1, order: 4 }),
        await client.amend({ account: 1, order: 4, price: 5, quantity: 10 }),
        await client.postPending({ from: 1, pending: 4, amount: 1 }),
        await client.transfer({ from: 1, to: 4, asset: 1, amount: 1e12 }),
      ];
      for (const [e] of refused) assert.equal(e.kind, EventKind.Rejected);
      await transfers(2);
      const transferred = [EventKind.Transferred, EventKind.Transferred];
      assert.deepEqual(streamed, transferred, "account 4's stream: the transfers only");
      const read = (account: number, key: string): Promise<Page> =>
        fetch(`${base}/events?account=${account}&from=1&count=1000`, {
          headers: { authorization: `Bearer ${key}` },
        }).then((r) => r.json() as Promise<Page>);
      const four = await read(4, other.token);
      const foreign = four.events.filter((e) => e.account !== 4);
      assert.deepEqual(
        foreign.map((e) => e.kind),
        transferred,
        'GET /events?account=4: no foreign rejection',
      );
      const one = await read(1, admin.token);
      const ownRejections = one.events.filter((e) => e.kind === EventKind.Rejected);
      assert.equal(ownRejections.length, 4, 'the sender sees its own rejections');
      await watcher.close();
      await client.close();
    },
    keysFile(admin, other),
  );
});

// An event naming two accounts one session streams comes in both accounts' frames; each
// handler took both copies (account 1's saw 35, 35, 36, 36).
test('a session streaming both accounts of a transfer hands each handler it once', async () => {
  const admin = createKey(90, true, []);
  await withNode(async (_node, url) => {
    const client = await BourseClient.connect(url, { clientId: 90, apiKey: admin.token });
    await setUp(client);
    const heard = new Map<number, number[]>([
      [1, []],
      [4, []],
    ]);
    for (const [account, list] of heard) {
      client.subscribeAccount(account, (events) => list.push(...events.map((e) => e.sequence)));
    }
    const first = await client.transfer({ from: 1, to: 4, asset: 1, amount: 3 });
    const sequences = [first[0].sequence];
    for (let i = 0; i < 500 && heard.get(4)?.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10)); // the subscriptions are in
    }
    for (let i = 0; i < 5; i++) {
      const [head] = await client.transfer({ from: 4, to: 1, asset: 1, amount: 1 });
      assert.equal(head.status, Status.Ok);
      sequences.push(head.sequence);
    }
    const last = sequences[sequences.length - 1];
    for (let i = 0; i < 500 && !(heard.get(1)?.includes(last) ?? false); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 100)); // a second copy, if any, comes right after
    for (const [account, list] of heard) {
      const wanted = sequences.filter((s) => s >= (list[0] ?? Infinity));
      assert.deepEqual(list, wanted, `account ${account}: each transfer once`);
      assert.ok(list.includes(last), `account ${account} heard the last transfer`);
    }
    await client.close();
  }, keysFile(admin));
});
