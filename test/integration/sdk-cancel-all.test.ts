/**
 * A market maker pulls its quotes: the SDK's cancelAll over more orders than one CancelAll
 * takes (smallConfig: 64), in one instrument and then in all; the account stream and the book
 * stream see them go, another account's order stays, a key for another account is refused; and
 * the same command as HTTP JSON, by protocol and by named fields.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, EventKind, Status, type EventRecord } from '../../src/client/client.js';
import type { BookView } from '../../src/protocol/book-frame.js';
import { createKey } from '../../src/gateway/api-keys.js';
import { keysFile, setUp, withNode } from '../harness/gateway-node.js';
import { smallConfig } from '../harness/engine-driver.js';
import { until } from '../harness/wait.js';

/** Instrument 2 of setupCommands: tick 1, lot 1, no fees. */
const book2 = 2;

/** Waits (5 s at most) until `done`. */
function waitUntil(what: string, done: () => boolean | Promise<boolean>): Promise<void> {
  return until(what, done, 5_000);
}

const ofKind = (events: EventRecord[], kind: EventKind): EventRecord[] =>
  events.filter((e) => e.kind === kind);

async function quote(c: BourseClient, account: number, instrument: number, n: number) {
  const placed = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      c.placeOrder({ account, instrument, side: 'buy', price: (10 + (i % 20)) * 5, quantity: 10 }),
    ),
  );
  for (const [head] of placed) assert.equal(head.status, Status.Ok);
  return placed.map(([head]) => head.id);
}

test('cancelAll pulls every quote in rounds; streams see it; other keys are refused', async () => {
  const admin = createKey(140, true, []);
  const maker = createKey(141, false, [1]);
  const http = createKey(143, false, [1]);
  const perCommand = smallConfig.fillsPerCommandMax;
  await withNode(
    async (_node, url) => {
      const root = await BourseClient.connect(url, { clientId: 140, apiKey: admin.token });
      await setUp(root);
      const c = await BourseClient.connect(url, { clientId: 141, apiKey: maker.token });
      const streamed: EventRecord[] = [];
      c.subscribeAccount(1, (events) => streamed.push(...events));
      let book: BookView | null = null;
      c.subscribeBook(book2, (view) => (book = view));
      const [theirs] = await root.placeOrder({
        account: 2,
        instrument: book2,
        side: 'buy',
        price: 7,
        quantity: 1,
      });
      const inBook2 = await quote(c, 1, book2, perCommand + 30);
      const inBook1 = await quote(c, 1, 1, 5);
      // 21 prices; a depth view shows 20 (bookDepthLevels).
      await waitUntil('the book shows the quotes', () => (book?.bids.length ?? 0) === 20);

      const first = await c.cancelAll({ account: 1, instrument: book2 });
      const heads = ofKind(first, EventKind.AllCanceled);
      assert.deepEqual(
        heads.map((h) => [h.quantity, h.otherId === 0]),
        [
          [perCommand, false],
          [30, true],
        ],
        'two rounds',
      );
      assert.deepEqual(
        ofKind(first, EventKind.OrderCanceled).map((e) => e.id),
        inBook2,
        'oldest first',
      );
      await waitUntil('the book keeps the other account only', () => book?.bids.length === 1);
      assert.deepEqual(
        book!.bids.map((l) => l.price),
        [7],
      );
      await waitUntil('the account stream hears every cancel', () => {
        return ofKind(streamed, EventKind.OrderCanceled).length === inBook2.length;
      });
      assert.equal(ofKind(streamed, EventKind.AllCanceled).length, 2);

      await assert.rejects(c.cancelAll({ account: 2 }), /not allowed/, "another account's key");
      const refused = await c.cancelAll({ account: 1, instrument: 77 });
      assert.deepEqual(
        refused.map((e) => [e.kind, e.status]),
        [[EventKind.Rejected, Status.MatchingInstrumentUnknown]],
      );

      const base = url.replace('ws://', 'http://').replace(/\/$/, '');
      const post = async (body: object): Promise<[number, EventRecord[]]> => {
        const r = await fetch(`${base}/commands`, {
          method: 'POST',
          body: JSON.stringify({ clientId: 143, ...body }),
          headers: { authorization: `Bearer ${http.token}`, 'content-type': 'application/json' },
        });
        const answer = (await r.json()) as { events?: EventRecord[] };
        return [r.status, answer.events ?? []];
      };
      const [status, events] = await post({ kind: 'CancelAll', clientSeq: 1, account: 1, ref: 1 });
      assert.equal(status, 200);
      assert.deepEqual(
        [events[0].kind, events[0].quantity, events[0].otherId],
        [EventKind.AllCanceled, 5, 0],
      );
      assert.deepEqual(
        ofKind(events, EventKind.OrderCanceled).map((e) => e.id),
        inBook1,
      );
      const named = await post({ kind: 'cancelAll', clientSeq: 2, account: 1, instrument: 0 });
      assert.deepEqual(
        [named[0], named[1][0].kind, named[1][0].quantity],
        [200, EventKind.AllCanceled, 0],
      );
      assert.equal((await post({ kind: 'CancelAll', clientSeq: 3, account: 2 }))[0], 403);

      const [left] = await root.cancel({ account: 2, order: theirs.id });
      assert.equal(left.kind, EventKind.OrderCanceled, "the other account's order stayed");
      await Promise.all([c.close(), root.close()]);
    },
    keysFile(admin, maker, http),
  );
});

test('cancelAll follows more rounds than 1,024 to the end (one order a round)', async () => {
  const orders = 1_100;
  const config = { ...smallConfig, fillsPerCommandMax: 1, orderCountMax: 2_048 };
  await withNode(
    async (_node, url) => {
      const c = await BourseClient.connect(url, { clientId: 145 });
      await setUp(c);
      const bid = { account: 1, instrument: book2, side: 'buy', price: 10, quantity: 1 } as const;
      const placed = (
        await Promise.all(Array.from({ length: orders }, () => c.placeOrder(bid)))
      ).map(([head]) => head.id);
      const events = await c.cancelAll({ account: 1 });
      const heads = ofKind(events, EventKind.AllCanceled);
      assert.equal(heads.length, orders, 'a round per order (the SDK stopped at 1,024)');
      assert.equal(heads.at(-1)?.otherId, 0, 'none remain');
      assert.deepEqual(
        ofKind(events, EventKind.OrderCanceled).map((e) => e.id),
        placed,
      );
      const [left] = await c.cancelAll({ account: 1 });
      assert.deepEqual([left.quantity, left.otherId], [0, 0], 'nothing left to cancel');
      await c.close();
    },
    undefined,
    undefined,
    config,
  );
});

test('cancelAll and cancelMyOrders leave orders placed after their first round', async () => {
  const config = { ...smallConfig, fillsPerCommandMax: 1 };
  await withNode(
    async (_node, url) => {
      const c = await BourseClient.connect(url, { clientId: 146 });
      await setUp(c);
      const bid = { account: 1, instrument: book2, side: 'buy', price: 10, quantity: 1 } as const;
      for (const pull of [() => c.cancelAll({ account: 1 }), () => c.cancelMyOrders()]) {
        const before = await Promise.all([1, 2, 3, 4].map(() => c.placeOrder(bid)));
        // Staged after the first round, in its frame: sequenced after it.
        const pulled = pull();
        const [after] = await c.placeOrder(bid);
        const events = await pulled;
        assert.deepEqual(
          ofKind(events, EventKind.OrderCanceled).map((e) => e.id),
          before.map(([head]) => head.id),
          'the orders before it, one a round',
        );
        const [left] = await c.cancel({ account: 1, order: after.id });
        assert.equal(left.kind, EventKind.OrderCanceled, 'the order after it rested on');
      }
      await c.close();
    },
    undefined,
    undefined,
    config,
  );
});
