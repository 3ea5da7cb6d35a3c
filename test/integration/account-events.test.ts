/**
 * GET /events?account=N: the events that name one account, for a key that grants it (the
 * whole journal needs an admin key), paged with `next`; a trade shows only the account's side.
 * A client that was not connected reads there what its account stream did not send it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, EventKind, Status } from '../../src/client/client.js';
import { createKey } from '../../src/gateway/api-keys.js';
import { hello, keysFile, setUp, withNode } from '../harness/gateway-node.js';
import { until } from '../harness/wait.js';
import WebSocket from 'ws';
import { eventSizeBytes } from '../../src/constants.js';
import {
  EventsFlag,
  FrameType,
  frameHeaderBytes,
  HelloFlag,
  StreamKind,
  SubscribeFlag,
  topicRequestId,
  writeHeader,
} from '../../src/protocol/frames.js';

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

/** The sequences of the journal's events that name `account`, from `from` (GET /events). */
async function namingSequences(url: string, account: number, from: number): Promise<number[]> {
  const base = url.replace('ws://', 'http://').replace(/\/$/, '');
  const page = (await (await fetch(`${base}/events?account=${account}&from=${from}`)).json()) as {
    events: { sequence: number }[];
  };
  return page.events.map((e) => e.sequence);
}

// The copies of an event naming two streamed accounts are not always adjacent: two accounts
// resumed from a sequence get their stored events in a frame each, one account's backlog after
// the other's. The SDK dropped a copy only when it was the event just seen, so each handler
// heard the second transfer between them twice (its copy in the other account's frame came
// after the first transfer's). Frames now name their account, and go to its handlers only.
test('two accounts resumed from a sequence: each handler hears each event once', async () => {
  await withNode(async (_node, url) => {
    const writer = await BourseClient.connect(url, { clientId: 93 });
    await setUp(writer);
    const between = { asset: 1, amount: 1 };
    const sequences: number[] = [];
    const move = async (from: number, to: number): Promise<void> => {
      const [head] = await writer.transfer({ ...between, from, to });
      assert.equal(head.status, Status.Ok);
      sequences.push(head.sequence);
    };
    // Interleaved: events naming both accounts, and events naming one of them only.
    for (const [from, to] of [
      [1, 4],
      [1, 2],
      [4, 1],
      [4, 3],
      [1, 4],
      [2, 1],
    ]) {
      await move(from, to);
    }
    const start = sequences[0];
    const reader = await BourseClient.connect(url, { clientId: 94, readOnly: true });
    const heard = new Map<number, number[]>([
      [1, []],
      [4, []],
    ]);
    for (const [account, list] of heard) {
      const onEvents = (events: { sequence: number }[]): void => {
        list.push(...events.map((e) => e.sequence));
      };
      reader.subscribeAccount(account, onEvents, undefined, start);
    }
    // Live ones too, among others, once the backlogs are read.
    await until('the backlogs came', () => heard.get(4)?.includes(sequences[4]) ?? false);
    for (const [from, to] of [
      [4, 1],
      [1, 5],
      [1, 4],
      [6, 4],
    ])
      await move(from, to);
    const last = sequences[sequences.length - 1];
    // One more, naming both: a copy of an event up to `last`, if any, comes before it.
    const [after] = await writer.transfer({ ...between, from: 1, to: 4 });
    for (const [account, list] of heard) {
      await until(`account ${account} heard the one after`, () => list.includes(after.sequence));
    }
    for (const [account, list] of heard) {
      const want = (await namingSequences(url, account, start)).filter((s) => s <= last);
      assert.deepEqual(
        list.filter((s) => s <= last),
        want,
        `account ${account}: each once`,
      );
    }
    await Promise.all([reader.close(), writer.close()]);
  });
});

/** A raw session whose Hello has header flags `flags`: the Events frames it gets. */
async function rawReader(url: string, clientId: number, flags: number) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const frames: Buffer[] = [];
  let welcome: Buffer | null = null;
  ws.on('message', (data: Buffer) => {
    if (data.readUInt8(0) === FrameType.Welcome) welcome = data;
    else if (data.readUInt8(0) === FrameType.Events) frames.push(data);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const h = hello(clientId);
  h.writeUInt16LE(flags, 2);
  ws.send(h);
  await until('Welcome', () => welcome !== null);
  const subscribe = (account: number, from: number): void => {
    const s = Buffer.alloc(frameHeaderBytes + 24);
    const view = new DataView(s.buffer, s.byteOffset, s.byteLength);
    writeHeader(view, 0, FrameType.Subscribe, 1, SubscribeFlag.From);
    view.setUint8(frameHeaderBytes, StreamKind.Account);
    view.setFloat64(frameHeaderBytes + 8, account, true);
    view.setFloat64(frameHeaderBytes + 16, from, true);
    ws.send(s);
  };
  return { ws, frames, welcome: (welcome as Buffer | null)?.readUInt16LE(2), subscribe };
}

/** An account stream's frame as [the account it names (0: none), its events' sequences]. */
function accountFrame(data: Buffer): [number, number[]] {
  assert.equal(data.readUInt32LE(4), topicRequestId(StreamKind.Account));
  const named = (data.readUInt16LE(2) & EventsFlag.Account) !== 0;
  const at = frameHeaderBytes + (named ? 16 : 8);
  const count = data.readUInt32LE(frameHeaderBytes);
  assert.equal(data.byteLength, at + count * eventSizeBytes, 'the frame holds its events only');
  const sequences: number[] = [];
  for (let i = 0; i < count; i++) sequences.push(data.readUInt32LE(at + i * eventSizeBytes));
  return [named ? data.readDoubleLE(frameHeaderBytes + 8) : 0, sequences];
}

test('account frames name their account for a session that asked, and only then', async () => {
  await withNode(async (_node, url) => {
    const writer = await BourseClient.connect(url, { clientId: 95 });
    await setUp(writer);
    const [stored] = await writer.transfer({ asset: 1, amount: 1, from: 1, to: 4 });
    const named = await rawReader(url, 96, HelloFlag.AccountInFrames);
    assert.equal(named.welcome, HelloFlag.AccountInFrames, 'Welcome says it took it');
    const plain = await rawReader(url, 97, 0); // a client from before: as it was
    assert.equal(plain.welcome, 0);
    for (const reader of [named, plain]) {
      reader.subscribe(1, stored.sequence); // stored first, then live
      reader.subscribe(4, stored.sequence);
    }
    await until('the stored transfer, twice each', () =>
      [named, plain].every((r) => r.frames.length === 2),
    );
    const [live] = await writer.transfer({ asset: 1, amount: 1, from: 4, to: 1 });
    await until('the live one', () => [named, plain].every((r) => r.frames.length === 4));
    const [s, l] = [stored.sequence, live.sequence];
    // Per event, its accounts' frames come in either order (a resume may still be at the seam).
    const got = (r: typeof named) =>
      r.frames.map(accountFrame).sort((a, b) => a[1][0] - b[1][0] || a[0] - b[0]);
    assert.deepEqual(got(named), [
      [1, [s]],
      [4, [s]],
      [1, [l]],
      [4, [l]],
    ]);
    assert.deepEqual(got(plain), [
      [0, [s]],
      [0, [s]],
      [0, [l]],
      [0, [l]],
    ]);
    for (const r of [named, plain]) r.ws.close();
    await writer.close();
  });
});
