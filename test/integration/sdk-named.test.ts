/**
 * A client developer's session with the SDK's named calls: set-up, payments (plain, pending
 * then posted or voided), and trading (rest, fill, amend, cancel, halt), each answer read back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
// What a client developer imports: the package's own exports.
import {
  BourseClient,
  EventKind,
  eventKindName,
  Status,
  type EventRecord,
} from '../../src/client/client.js';
import { withNode } from '../harness/gateway-node.js';

function ok(events: EventRecord[], kind: EventKind): EventRecord {
  assert.equal(events[0].status, Status.Ok, JSON.stringify(events[0]));
  assert.equal(eventKindName(events[0].kind), EventKind[kind]);
  return events[0];
}

test('the SDK named calls: payments and trading end to end', async () => {
  await withNode(async (_node, url) => {
    const c = await BourseClient.connect(url, { clientId: 31 });
    try {
      ok(await c.addAsset({ asset: 1, scale: 2 }), EventKind.AssetAdded); // quote, cents
      ok(await c.addAsset({ asset: 2, scale: 0 }), EventKind.AssetAdded); // base
      for (const account of [1, 2, 3]) {
        ok(await c.createAccount({ account }), EventKind.AccountCreated);
      }
      ok(await c.deposit({ account: 1, asset: 1, amount: 100_000 }), EventKind.Deposited);
      ok(await c.deposit({ account: 2, asset: 2, amount: 1_000 }), EventKind.Deposited);
      ok(await c.withdraw({ account: 1, asset: 1, amount: 1_000 }), EventKind.Withdrawn);
      const paid = ok(
        await c.transfer({ from: 1, to: 3, asset: 1, amount: 500 }),
        EventKind.Transferred,
      );
      assert.deepEqual([paid.account, paid.counterparty, paid.amount], [1, 3, 500]);

      const held = ok(
        await c.transferPending({ from: 1, to: 3, asset: 1, amount: 300 }),
        EventKind.PendingCreated,
      );
      const posted = await c.postPending({ from: 1, pending: held.id, amount: 200 });
      ok(posted, EventKind.PendingPosted);
      const second = ok(
        await c.transferPending({ from: 1, to: 3, asset: 1, amount: 50, timeoutUs: 60e6 }),
        EventKind.PendingCreated,
      );
      ok(await c.voidPending({ from: 1, pending: second.id }), EventKind.PendingVoided);

      const instrument = { instrument: 1, base: 2, quote: 1, tick: 1, lot: 10, feeAccount: 3 };
      ok(await c.addInstrument({ ...instrument, takerFeeBps: 10 }), EventKind.InstrumentAdded);
      const ask = { account: 2, instrument: 1, side: 'sell', quantity: 100 } as const;
      const rested = ok(await c.placeOrder({ ...ask, price: 50 }), EventKind.OrderAccepted);
      // A post-only buy at the ask would cross: refused with its reason, nothing changed.
      const cross = await c.placeOrder({
        account: 1,
        instrument: 1,
        side: 'buy',
        price: 50,
        quantity: 10,
        postOnly: true,
      });
      assert.equal(cross[0].status, Status.MatchingPostOnlyWouldCross);
      const bought = await c.placeOrder({
        account: 1,
        instrument: 1,
        side: 'buy',
        quantity: 30,
        market: true,
        tif: 'IOC',
      });
      const trade = bought.find((e) => e.kind === EventKind.Trade);
      assert.ok(trade !== undefined, JSON.stringify(bought));
      // (The taker is not told whose order it met: trade-privacy.ts.)
      assert.deepEqual([trade.quantity, trade.price, trade.amount], [30, 50, 150]);
      // Smaller at the same price keeps priority; then the rest is cancelled.
      const amended = await c.amend({ account: 2, order: rested.id, price: 50, quantity: 40 });
      ok(amended, EventKind.OrderAmended);
      const cancelled = ok(
        await c.cancel({ account: 2, order: rested.id }),
        EventKind.OrderCanceled,
      );
      assert.equal(cancelled.quantity, 40);
      ok(await c.haltInstrument({ instrument: 1 }), EventKind.InstrumentHalted);
      const halted = await c.placeOrder({ ...ask, price: 51 });
      assert.equal(halted[0].status, Status.MatchingInstrumentHalted);
      ok(await c.resumeInstrument({ instrument: 1 }), EventKind.InstrumentResumed);
      // A mistake is refused before anything is sent, naming the field.
      await assert.rejects(
        c.placeOrder({ account: 1, instrument: 1, side: 'buy', quantity: 10 }),
        /'price' is missing/,
      );
      await assert.rejects(
        c.transfer({ from: 1, to: 3, asset: 1, amount: 5, account: 1 } as never),
        /'account' is not one of its fields/,
      );
      const batch = await c.transferBatch([
        { from: 1, to: 3, asset: 1, amount: 2 },
        { from: 3, to: 1, asset: 1, amount: 1 },
      ]);
      assert.deepEqual([batch.count, batch.status[0], batch.status[1]], [2, Status.Ok, Status.Ok]);
      await assert.rejects(
        c.transferBatch([
          { from: 1, to: 3, asset: 1, amount: 2 },
          { from: 1, to: 3, asset: 1 } as never,
        ]),
        /^TypeError: \[1\] transfer: 'amount' is missing/,
      );
      // The protocol's own field names still work.
      const raw = await c.transfer({ account: 1, target: 3, ref: 1, quantity: 5 });
      ok(raw, EventKind.Transferred);
    } finally {
      await c.close();
    }
  });
});
