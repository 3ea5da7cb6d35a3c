/**
 * A subscription's handler that throws. onEvents and the book handler ran inside the socket's
 * message handler, unguarded: a bug in a trades handler was an uncaught exception that ended the
 * whole process (an async handler's rejection, an unhandled rejection, did too). Each throw is a
 * process warning now (BOURSE_ONEVENTS_THREW, BOURSE_ONBOOK_THREW), and the client goes on: the
 * next events still arrive, the other handlers of the same frame still hear it, nothing twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, EventKind, Status, type EventRecord } from '../../src/client/client.js';
import type { BookView } from '../../src/protocol/book-frame.js';
import { setUp, withNode } from '../harness/gateway-node.js';
import { until } from '../harness/wait.js';

/** A sell of 1 on account 2, then a buy of 1 on account 1 at 10 on instrument 2: a trade. */
async function trade(c: BourseClient): Promise<number> {
  const sell = { account: 2, instrument: 2, side: 'sell', price: 10, quantity: 1 } as const;
  const [ask] = await c.placeOrder(sell);
  assert.equal(ask.status, Status.Ok);
  const taken = await c.placeOrder({ ...sell, account: 1, side: 'buy' });
  const fill = taken.find((e) => e.kind === EventKind.Trade);
  assert.ok(fill !== undefined, 'the buy traded');
  return fill.sequence;
}

test('throwing subscription handlers are warnings: the client and its streams go on', async () => {
  const warnings: { code: string; message: string }[] = [];
  const record = (w: Error & { code?: string }): void => {
    if (w.code?.startsWith('BOURSE_ON') === true)
      warnings.push({ code: w.code, message: w.message });
  };
  process.on('warning', record);
  try {
    await withNode(async (_node, url) => {
      const root = await BourseClient.connect(url, { clientId: 300 });
      await setUp(root);
      const c = await BourseClient.connect(url, { clientId: 301 });
      let thrown = 0;
      const fail = (): never => {
        thrown++;
        throw new Error(`handler bug ${thrown}`);
      };
      const trades: EventRecord[] = [];
      const accountCalls: number[] = [];
      const journal: EventRecord[] = [];
      const books: BookView[] = [];
      let bookThrows = 0;
      c.subscribeTrades(2, fail); // first: it throws before the other hears the frame
      c.subscribeTrades(2, (events) => trades.push(...events));
      c.subscribeAccount(1, async (events) => {
        accountCalls.push(events.length);
        throw new Error('async handler bug'); // a rejected promise
      });
      c.subscribeBook(2, () => {
        bookThrows++;
        throw new Error('book handler bug');
      });
      c.subscribeBook(2, (book) => books.push(book));
      c.subscribeJournal(1, (events) => {
        journal.push(...events);
        throw new Error('journal handler bug');
      });
      // The same socket: answered once every Subscribe before it was taken.
      assert.equal((await c.transfer({ from: 1, to: 2, asset: 1, amount: 1 }))[0].status, 0);

      const first = await trade(root);
      await until('the first trade heard', () => trades.length === 1);
      const second = await trade(root);
      await until('the second trade heard', () => trades.length === 2);
      assert.deepEqual(
        trades.map((e) => e.sequence),
        [first, second],
        'the other trades handler heard each trade once, after the throwing one threw',
      );
      assert.equal(thrown, 2, 'the throwing handler heard the next trade too');
      await until('the account stream went on', () => accountCalls.length >= 2);
      await until('the journal reached the second trade', () =>
        journal.some((e) => e.sequence === second),
      );
      const keys = journal.map((e) => `${e.sequence}/${e.kind}/${e.id}/${e.account}`);
      assert.equal(new Set(keys).size, keys.length, 'no journal event twice');
      const sequences = [...new Set(journal.map((e) => e.sequence))];
      assert.deepEqual(
        sequences,
        Array.from({ length: sequences.length }, (_, i) => i + 1),
        'none skipped, in order',
      );
      // A bid that rests changes the book (a trade leaves it as it was: maybe no view sent).
      const bid = { account: 3, instrument: 2, side: 'buy', price: 5, quantity: 1 } as const;
      assert.equal((await root.placeOrder(bid))[0].status, Status.Ok);
      await until('the view with the bid', () => books.some((b) => b.bids.length === 1));
      // A view after the throwing handler threw (a first view on subscribing may not come).
      const next = { ...bid, price: 4 };
      assert.equal((await root.placeOrder(next))[0].status, Status.Ok);
      await until('the view with both bids', () => books.some((b) => b.bids.length === 2));
      assert.ok(books.length >= 2, 'a view, then the changed one');
      assert.equal(bookThrows, books.length, 'each view to both, the throwing one first');

      await until('the warnings', () => warnings.some((w) => w.code === 'BOURSE_ONBOOK_THREW'));
      const codes = new Set(warnings.map((w) => w.code));
      assert.deepEqual([...codes].sort(), ['BOURSE_ONBOOK_THREW', 'BOURSE_ONEVENTS_THREW']);
      const texts = warnings.map((w) => w.message).join('\n');
      assert.match(texts, /onEvents threw: Error: handler bug 1 \(on the trades of instrument 2\)/);
      assert.match(texts, /onEvents threw: Error: async handler bug \(on account 1\)/);
      assert.match(texts, /onEvents threw: Error: journal handler bug \(on the journal stream/);
      assert.match(texts, /onBook threw: Error: book handler bug \(on the book of instrument 2\)/);
      const [after] = await c.transfer({ from: 1, to: 2, asset: 1, amount: 1 });
      assert.equal(after.status, Status.Ok, 'the client still answers');
      assert.equal(c.reconnects, 0, 'on the same connection: nothing dropped');
      await c.close();
      await root.close();
    });
  } finally {
    process.off('warning', record);
  }
});
