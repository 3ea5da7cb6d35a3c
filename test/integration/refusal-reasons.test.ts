/**
 * A refusal says what was refused and what to do: which account a key does not grant, which
 * kind needs an admin key, whose key was sent, and which Content-Type came. Each said only
 * "not allowed for this API key", "API key refused" or "content-type: application/json".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keysFile, setUp, withNode } from '../harness/gateway-node.js';
import {
  BourseClient,
  ClientError,
  ClientErrorCode,
  EventKind,
  type EventRecord,
} from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { createKey } from '../../src/gateway/api-keys.js';

const base = (url: string): string => url.replace('ws://', 'http://').replace(/\/$/, '');

test('a Forbidden frame names the account not granted, or the admin kind', async () => {
  const admin = createKey(161, true, []);
  const user = createKey(162, false, [1, 2]);
  await withNode(
    async (_node, url) => {
      const root = await BourseClient.connect(url, { clientId: 161, apiKey: admin.token });
      await setUp(root);
      const client = await BourseClient.connect(url, { clientId: 162, apiKey: user.token });
      const forbidden = (pattern: RegExp) => (e: ClientError) =>
        e.code === ClientErrorCode.Forbidden && pattern.test(e.message);
      await assert.rejects(
        client.transfer({ from: 3, to: 1, asset: 1, amount: 5 }),
        forbidden(/^not allowed for this API key: it does not grant account 3: not applied$/),
      );
      await assert.rejects(
        client.deposit({ account: 1, asset: 1, amount: 5 }),
        forbidden(/^not allowed for this API key: Deposit needs an admin key: not applied$/),
      );
      await client.close();
      await root.close();
    },
    keysFile(admin, user),
  );
});

test('a refused login says when no key was sent, or none shaped as one, and no more', async () => {
  const user = createKey(191, false, [1]);
  const other = createKey(192, false, [1]);
  await withNode(
    async (_node, url) => {
      const refused = (pattern: RegExp) => (e: ClientError) =>
        e.code === ClientErrorCode.Unauthorized && pattern.test(e.message);
      const connect = (apiKey?: string) => BourseClient.connect(url, { clientId: 191, apiKey });
      await assert.rejects(
        connect(),
        refused(/API key refused: none sent, and this node requires/),
      );
      await assert.rejects(connect('hello'), refused(/API key refused: malformed \(keys read bk_/));
      // Whose a key is, or whether it exists, is not told: only that it was refused.
      await assert.rejects(connect(other.token), refused(/: API key refused$/));
      await assert.rejects(connect(user.token.slice(0, -1) + '_'), refused(/: API key refused$/));
      await (await connect(user.token)).close();
    },
    keysFile(user, other),
  );
});

test('HTTP refusals name the key its client, the account and the Content-Type', async () => {
  const user = createKey(171, false, [1]);
  await withNode(async (_node, url) => {
    const post = async (body: object, type: string | null): Promise<[number, string]> => {
      const headers: Record<string, string> = { authorization: `Bearer ${user.token}` };
      if (type !== null) headers['content-type'] = type;
      const r = await fetch(`${base(url)}/commands`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      return [r.status, ((await r.json()) as { error: string }).error];
    };
    const json = 'application/json';
    const transfer = { kind: 'transfer', clientId: 171, clientSeq: 1, from: 1, to: 2 };
    const pay = { ...transfer, asset: 1, amount: 1 };
    assert.deepEqual(await post({ ...pay, clientId: 172 }, json), [
      403,
      "API key refused: it is client 171's, not client 172's",
    ]);
    assert.deepEqual(await post({ ...pay, from: 2, to: 1 }, json), [
      403,
      'not allowed for this API key: it does not grant account 2',
    ]);
    const deposit = { kind: 'deposit', clientId: 171, clientSeq: 2, account: 1 };
    assert.deepEqual(await post({ ...deposit, asset: 1, amount: 1 }, json), [
      403,
      'not allowed for this API key: Deposit needs an admin key',
    ]);
    // curl -d sends form encoding; a client may send no Content-Type at all.
    const [status, error] = await post(pay, 'application/x-www-form-urlencoded');
    assert.equal(status, 415);
    assert.match(error, /had content-type "application\/x-www-form-urlencoded"/);
    assert.match(error, /add -H 'content-type: application\/json'/);
    const blob = new Blob([JSON.stringify(pay)]); // fetch sends a type-less Blob without one
    const bare = await fetch(`${base(url)}/commands`, { method: 'POST', body: blob });
    assert.equal(bare.status, 415);
    assert.match(((await bare.json()) as { error: string }).error, /had no content-type/);
    const read = await fetch(`${base(url)}/balances?account=2`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    assert.equal(read.status, 403);
    assert.deepEqual(await read.json(), {
      error: 'not allowed for this API key: it does not grant account 2',
    });
    // A key not taken at all reads as one, not as a good key's missing grant (a mistyped key
    // was told "it does not grant account 1" on an account it grants, and the journal "needs
    // an admin key"). A good key's page of another account's events names the account too.
    const get = async (path: string, token: string): Promise<[number, unknown]> => {
      const r = await fetch(`${base(url)}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return [r.status, await r.json()];
    };
    const wrong = `${user.token.slice(0, -4)}AAAA`;
    for (const path of ['/balances?account=1', '/orders?account=1', '/events?account=1&from=1']) {
      assert.deepEqual(await get(path, wrong), [403, { error: 'API key refused' }], path);
      assert.deepEqual(await get(path, 'bad'), [403, { error: 'API key refused' }], path);
    }
    assert.deepEqual(await get('/events?from=1', wrong), [403, { error: 'API key refused' }]);
    assert.deepEqual(await get('/events?from=1', user.token), [
      403,
      { error: 'the journal needs an admin key' },
    ]);
    assert.deepEqual(await get('/events?account=2&from=1', user.token), [
      403,
      { error: 'not allowed for this API key: it does not grant account 2' },
    ]);
  }, keysFile(user));
});

test("an account key may cancel its own client's orders by client id, no other's", async () => {
  const admin = createKey(163, true, []);
  const user = createKey(164, false, [1]);
  await withNode(
    async (_node, url) => {
      const root = await BourseClient.connect(url, { clientId: 163, apiKey: admin.token });
      await setUp(root);
      const client = await BourseClient.connect(url, { clientId: 164, apiKey: user.token });
      const bid = { account: 1, instrument: 2, side: 'buy', price: 10, quantity: 1 } as const;
      const [own] = await client.placeOrder(bid);
      const [admins] = await root.placeOrder(bid);
      const canceled = (events: EventRecord[]): number[] =>
        events.filter((e) => e.kind === EventKind.OrderCanceled).map((e) => e.id);
      const forbidden = (e: ClientError): boolean =>
        e.code === ClientErrorCode.Forbidden &&
        /^not allowed for this API key: it cancels client 164's orders, not 163's/.test(e.message);
      await assert.rejects(client.submit(CommandKind.CancelClientOrders, { ref: 163 }), forbidden);
      const [status] = await postCommand(url, user.token, {
        kind: 'cancelClientOrders',
        clientId: 164,
        clientSeq: 100,
        client: 163,
      });
      assert.equal(status, 403, 'over HTTP too');
      const mine = await client.submit(CommandKind.CancelClientOrders, { ref: 164 });
      assert.deepEqual(canceled(mine), [own.id], "its own, not the admin's on its account");
      const [again] = await client.placeOrder(bid);
      const byAdmin = await root.submit(CommandKind.CancelClientOrders, { ref: 164 });
      assert.deepEqual(canceled(byAdmin), [again.id], "an admin key cancels any client's");
      const left = await root.submit(CommandKind.CancelAll, { account: 1 });
      assert.deepEqual(canceled(left), [admins.id]);
      await client.close();
      await root.close();
    },
    keysFile(admin, user),
  );
});

/** POST /commands with `token`: [status, error]. */
async function postCommand(url: string, token: string, body: object): Promise<[number, string]> {
  const r = await fetch(`${base(url)}/commands`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return [r.status, ((await r.json()) as { error: string }).error];
}
