import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import {
  assertConsistent,
  BOOK,
  BTC,
  buy,
  FEES,
  market,
  sell,
  total,
  USD,
} from '../../harness/fixtures.js';
import {
  CommandFlag,
  CommandKind,
  SelfTradePrevention,
  TimeInForce,
} from '../../../src/protocol/command-layout.js';
import { EventFlag, EventKind } from '../../../src/protocol/event-layout.js';
import { Status } from '../../../src/protocol/status.js';
import type { EventRecord } from '../../../src/protocol/event-reader.js';
import { Orders } from '../../../src/engine/order-book/orders.js';
import { engineConfigDefault } from '../../../src/constants.js';
import { AssertionError } from '../../../src/stdx/assert.js';

const kinds = (events: EventRecord[]): number[] => events.map((e) => e.kind);

test('a resting sell holds its base quantity and rests on the book', () => {
  const d = market();
  const [accepted] = sell(d, 11, 500, 30);
  assert.equal(accepted.kind, EventKind.OrderAccepted);
  assert.equal(accepted.flags, EventFlag.Head | EventFlag.Record | EventFlag.Sell);
  assert.equal(accepted.amount, 30, 'held');
  assert.equal(accepted.aux, 30, 'resting');
  assert.deepEqual(d.balance(11, BTC), { available: 9_970, held: 30 });
  const ask = d.engine.levels.best(BOOK * 2 + 1);
  assert.equal(d.engine.levels.price(ask), 500);
  assert.equal(d.engine.levels.quantity(ask), 30);
  assertConsistent(d);
});

test('a crossing buy fills at the maker price, pays fees, and settles both accounts', () => {
  const d = market();
  const [maker] = sell(d, 11, 500, 30);
  const events = buy(d, 10, 505, 20);
  assert.deepEqual(kinds(events), [EventKind.OrderAccepted, EventKind.Trade]);
  const [head, trade] = events;
  // Held: the fills' cost (1,000 notional + 2 taker fee); nothing rests.
  assert.equal(head.amount, 1_002);
  assert.equal(head.aux, 0);
  assert.equal(trade.price, 500);
  assert.equal(trade.quantity, 20);
  assert.equal(trade.amount, 1_000, 'notional = (20 / 10 lot) * 500');
  assert.equal(trade.fee, 2, 'taker fee floor(1000 * 20 bps)');
  assert.equal(trade.counterpartyFee, 1, 'maker fee floor(1000 * 10 bps)');
  assert.equal(trade.account, 10);
  assert.equal(trade.counterparty, 11);
  assert.equal(trade.id, head.id);
  assert.equal(trade.otherId, maker.id);
  assert.equal(trade.aux, 10, 'maker open after');
  assert.deepEqual(d.balance(10, USD), { available: 1_000_000 - 1_002, held: 0 });
  assert.deepEqual(d.balance(10, BTC), { available: 10_020, held: 0 });
  assert.deepEqual(d.balance(11, USD), { available: 1_000_000 + 1_000 - 1, held: 0 });
  assert.deepEqual(d.balance(11, BTC), { available: 9_970, held: 10 });
  assert.deepEqual(d.balance(FEES, USD), { available: 3, held: 0 });
  assert.equal(total(d, USD), 3_000_000);
  assert.equal(total(d, BTC), 30_000);
  assertConsistent(d);
});

test('matching takes the best price first, then the oldest order at each price', () => {
  const d = market();
  const a = sell(d, 11, 500, 10)[0];
  const b = sell(d, 12, 500, 20)[0];
  const c = sell(d, 12, 495, 10)[0];
  const trades = buy(d, 10, 505, 30).filter((e) => e.kind === EventKind.Trade);
  assert.deepEqual(
    trades.map((t) => [t.otherId, t.price, t.quantity]),
    [
      [c.id, 495, 10],
      [a.id, 500, 10],
      [b.id, 500, 10],
    ],
  );
  assertConsistent(d);
});

test('a buying maker gets back the hold its fill no longer needs', () => {
  const d = market();
  // Hold for 20 at 505: notional 1,010 + fee at the larger 20 bps (2) = 1,012.
  const [maker] = buy(d, 10, 505, 20);
  assert.equal(maker.amount, 1_012);
  const trade = sell(d, 12, 500, 10).find((e) => e.kind === EventKind.Trade)!;
  assert.equal(trade.price, 505);
  assert.equal(trade.counterpartyFee, 0, 'maker fee floor(505 * 10 bps) = 0');
  assert.equal(trade.fee, 1, 'taker fee floor(505 * 20 bps) = 1');
  // Still held for the 10 left: 505 + 1 = 506. Paid 505. Released 1,012 - 505 - 506 = 1.
  assert.equal(trade.release, 1);
  assert.deepEqual(d.balance(10, USD), { available: 1_000_000 - 1_012 + 1, held: 506 });
  assertConsistent(d);
});

test('a buy that improves on its limit holds only what it spent', () => {
  const d = market();
  sell(d, 11, 480, 10);
  const [head] = buy(d, 10, 505, 10);
  // Required up front: 505 + 1 = 506; spent 480 + fee 0 = 480.
  assert.equal(head.amount, 480);
  assert.deepEqual(d.balance(10, USD), { available: 1_000_000 - 480, held: 0 });
  assertConsistent(d);
});

test('an IOC remainder expires with MatchingNoLiquidity', () => {
  const d = market();
  sell(d, 11, 500, 10);
  const events = buy(d, 10, 500, 30, { tif: TimeInForce.Ioc });
  assert.deepEqual(kinds(events), [
    EventKind.OrderAccepted,
    EventKind.Trade,
    EventKind.OrderExpired,
  ]);
  assert.equal(events[2].status, Status.MatchingNoLiquidity);
  assert.equal(events[2].quantity, 20);
  assert.equal(d.engine.orders.pool.used(), 0, 'nothing rests');
  assertConsistent(d);
});

test('a FOK that cannot fill completely trades nothing and expires whole', () => {
  const d = market();
  sell(d, 11, 500, 10);
  const before = d.balance(10, USD);
  const events = buy(d, 10, 500, 20, { tif: TimeInForce.Fok });
  assert.deepEqual(kinds(events), [EventKind.OrderAccepted, EventKind.OrderExpired]);
  assert.equal(events[0].amount, 0);
  assert.equal(events[1].status, Status.MatchingFokNotFilled);
  assert.equal(events[1].quantity, 20);
  assert.deepEqual(d.balance(10, USD), before);
  const filled = buy(d, 10, 500, 10, { tif: TimeInForce.Fok });
  assert.deepEqual(kinds(filled), [EventKind.OrderAccepted, EventKind.Trade]);
  assertConsistent(d);
});

test('a market order with no liquidity expires with an event', () => {
  const d = market();
  const events = d.submit({
    kind: CommandKind.PlaceOrder,
    account: 10,
    ref: BOOK,
    quantity: 10,
    flags: CommandFlag.Market,
  });
  assert.deepEqual(kinds(events), [EventKind.OrderAccepted, EventKind.OrderExpired]);
  assert.equal(events[0].flags & EventFlag.Market, EventFlag.Market);
  assert.equal(events[1].status, Status.MatchingNoLiquidity);
  assertConsistent(d);
});

test('a market buy spends at most the available quote, then its remainder expires', () => {
  const d = market();
  d.submit({ kind: CommandKind.CreateAccount, account: 13 });
  d.submit({ kind: CommandKind.Deposit, account: 13, ref: USD, quantity: 600 });
  sell(d, 11, 500, 10);
  sell(d, 11, 505, 10);
  const events = d.submit({
    kind: CommandKind.PlaceOrder,
    account: 13,
    ref: BOOK,
    quantity: 30,
    flags: CommandFlag.Market,
  });
  assert.deepEqual(kinds(events), [
    EventKind.OrderAccepted,
    EventKind.Trade,
    EventKind.OrderExpired,
  ]);
  assert.equal(events[0].amount, 501, '500 + taker fee 1');
  assert.equal(events[2].status, Status.MatchingFundsExhausted);
  assert.equal(events[2].quantity, 20);
  assert.deepEqual(d.balance(13, USD), { available: 99, held: 0 });
  assertConsistent(d);
});

test('a post-only order that would cross is rejected; one that would not rests', () => {
  const d = market();
  sell(d, 11, 500, 10);
  const [crossing] = buy(d, 10, 500, 10, { flags: CommandFlag.PostOnly });
  assert.equal(crossing.kind, EventKind.Rejected);
  assert.equal(crossing.status, Status.MatchingPostOnlyWouldCross);
  const [resting] = buy(d, 10, 495, 10, { flags: CommandFlag.PostOnly });
  assert.equal(resting.kind, EventKind.OrderAccepted);
  assert.equal(resting.flags & EventFlag.PostOnly, EventFlag.PostOnly);
  assert.equal(resting.aux, 10);
  assertConsistent(d);
});

function selfTradeBook(): EngineDriver {
  const d = market();
  sell(d, 10, 500, 10);
  sell(d, 11, 505, 10);
  return d;
}

test('self-trade prevention CancelResting cancels the own resting order and goes on', () => {
  const d = selfTradeBook();
  const events = buy(d, 10, 505, 20, { stp: SelfTradePrevention.CancelResting });
  assert.deepEqual(kinds(events), [
    EventKind.OrderAccepted,
    EventKind.OrderCanceled,
    EventKind.Trade,
  ]);
  assert.equal(events[1].status, Status.MatchingSelfTrade);
  assert.equal(events[1].release, 10);
  assert.equal(events[2].counterparty, 11);
  assert.equal(events[0].aux, 10, 'the rest rests');
  assertConsistent(d);
});

test('self-trade prevention CancelTaker stops the taker and keeps the resting order', () => {
  const d = selfTradeBook();
  const events = buy(d, 10, 505, 20, { stp: SelfTradePrevention.CancelTaker });
  assert.deepEqual(kinds(events), [EventKind.OrderAccepted, EventKind.OrderExpired]);
  assert.equal(events[1].status, Status.MatchingSelfTrade);
  assert.equal(events[1].quantity, 20);
  assert.equal(d.engine.orders.pool.used(), 2);
  assertConsistent(d);
});

test('self-trade prevention CancelBoth cancels the resting order and stops the taker', () => {
  const d = selfTradeBook();
  const events = buy(d, 10, 505, 20, { stp: SelfTradePrevention.CancelBoth });
  assert.deepEqual(kinds(events), [
    EventKind.OrderAccepted,
    EventKind.OrderCanceled,
    EventKind.OrderExpired,
  ]);
  assert.equal(events[2].status, Status.MatchingSelfTrade);
  assert.equal(d.engine.orders.pool.used(), 1);
  assertConsistent(d);
});

test('an order that reaches the fill limit stops there and its remainder expires', () => {
  const d = market({ ...smallConfig, fillsPerCommandMax: 3 });
  for (let i = 0; i < 4; i++) sell(d, 11, 500, 10);
  const events = buy(d, 10, 505, 40);
  assert.equal(events.filter((e) => e.kind === EventKind.Trade).length, 3);
  const expired = events[events.length - 1];
  assert.equal(expired.kind, EventKind.OrderExpired);
  assert.equal(expired.status, Status.MatchingFillLimit);
  assert.equal(expired.quantity, 10);
  assert.equal(events[0].aux, 0, 'a GTC order stopped by the limit does not rest across the book');
  assertConsistent(d);
});

test('a full order table rejects only orders that would rest', () => {
  const d = market({ ...smallConfig, orderCountMax: 2, levelCountMax: 2, levelsPerSideMax: 2 });
  sell(d, 11, 500, 10);
  sell(d, 11, 510, 10);
  const [full] = sell(d, 11, 520, 10);
  assert.equal(full.status, Status.MatchingOrderTableFull);
  const filled = buy(d, 10, 500, 10);
  assert.deepEqual(kinds(filled), [EventKind.OrderAccepted, EventKind.Trade]);
  assertConsistent(d);
});

test('a full side rejects a new price level but joins an existing one', () => {
  const d = market({ ...smallConfig, levelsPerSideMax: 2 });
  sell(d, 11, 500, 10);
  sell(d, 11, 510, 10);
  assert.equal(sell(d, 11, 520, 10)[0].status, Status.MatchingLevelTableFull);
  assert.equal(sell(d, 11, 510, 10)[0].kind, EventKind.OrderAccepted);
  assertConsistent(d);
});

test('cancel releases the hold; only the owner may cancel; unknown ids are rejected', () => {
  const d = market();
  const [order] = buy(d, 10, 500, 20);
  const notOwner = d.submit({ kind: CommandKind.CancelOrder, account: 11, target: order.id });
  assert.equal(notOwner[0].status, Status.MatchingOrderNotOwner);
  const unknown = d.submit({ kind: CommandKind.CancelOrder, account: 10, target: 123_456 });
  assert.equal(unknown[0].status, Status.MatchingOrderUnknown);
  const [canceled] = d.submit({ kind: CommandKind.CancelOrder, account: 10, target: order.id });
  assert.equal(canceled.kind, EventKind.OrderCanceled);
  assert.equal(canceled.release, 1_002, 'notional 1,000 + fee at 20 bps');
  assert.deepEqual(d.balance(10, USD), { available: 1_000_000, held: 0 });
  assert.equal(d.engine.levels.best(BOOK * 2), -1);
  assertConsistent(d);
});

test('a halted instrument refuses new orders and amendments but allows cancels', () => {
  const d = market();
  const [order] = buy(d, 10, 500, 10);
  d.submit({ kind: CommandKind.HaltInstrument, ref: BOOK });
  assert.equal(buy(d, 10, 500, 10)[0].status, Status.MatchingInstrumentHalted);
  const amend = d.submit({
    kind: CommandKind.AmendOrder,
    account: 10,
    target: order.id,
    price: 495,
    quantity: 10,
  });
  assert.equal(amend[0].status, Status.MatchingInstrumentHalted);
  const [canceled] = d.submit({ kind: CommandKind.CancelOrder, account: 10, target: order.id });
  assert.equal(canceled.kind, EventKind.OrderCanceled);
  d.submit({ kind: CommandKind.ResumeInstrument, ref: BOOK });
  assert.equal(buy(d, 10, 500, 10)[0].kind, EventKind.OrderAccepted);
  assertConsistent(d);
});

test('reducing an order keeps its time priority and releases the difference', () => {
  const d = market();
  const [first] = buy(d, 10, 500, 30);
  buy(d, 11, 500, 10);
  const [amended] = d.submit({
    kind: CommandKind.AmendOrder,
    account: 10,
    target: first.id,
    price: 500,
    quantity: 20,
  });
  assert.equal(amended.kind, EventKind.OrderAmended);
  assert.equal(amended.flags & EventFlag.PriorityKept, EventFlag.PriorityKept);
  // Hold 30 @ 500: 1,500 + 3; hold 20 @ 500: 1,000 + 2; released 501.
  assert.equal(amended.release, 501);
  const trade = sell(d, 12, 500, 10).find((e) => e.kind === EventKind.Trade)!;
  assert.equal(trade.otherId, first.id, 'still first in line');
  assertConsistent(d);
});

test('raising an order loses its time priority but keeps its id', () => {
  const d = market();
  const [first] = buy(d, 10, 500, 10);
  const [second] = buy(d, 11, 500, 10);
  const [amended] = d.submit({
    kind: CommandKind.AmendOrder,
    account: 10,
    target: first.id,
    price: 500,
    quantity: 20,
  });
  assert.equal(amended.flags & EventFlag.PriorityKept, 0);
  assert.equal(amended.id, first.id);
  assert.equal(amended.aux, 20);
  const trade = sell(d, 12, 500, 10).find((e) => e.kind === EventKind.Trade)!;
  assert.equal(trade.otherId, second.id, 'the other order now comes first');
  assertConsistent(d);
});

test('an amendment to a crossing price trades at once as a taker', () => {
  const d = market();
  const [resting] = buy(d, 10, 500, 20);
  const [ask] = sell(d, 11, 510, 10);
  const events = d.submit({
    kind: CommandKind.AmendOrder,
    account: 10,
    target: resting.id,
    price: 510,
    quantity: 20,
  });
  assert.deepEqual(kinds(events), [EventKind.OrderAmended, EventKind.Trade]);
  assert.equal(events[1].id, resting.id);
  assert.equal(events[1].otherId, ask.id);
  assert.equal(events[0].aux, 10, '10 filled, 10 rest at 510');
  assertConsistent(d);
});

test('an amendment that changes nothing, or needs funds it lacks, is rejected', () => {
  const d = market();
  const [order] = buy(d, 10, 500, 20);
  const same = d.submit({
    kind: CommandKind.AmendOrder,
    account: 10,
    target: order.id,
    price: 500,
    quantity: 20,
  });
  assert.equal(same[0].status, Status.MatchingAmendNoChange);
  const huge = d.submit({
    kind: CommandKind.AmendOrder,
    account: 10,
    target: order.id,
    price: 500,
    quantity: 200_000,
  });
  assert.equal(huge[0].status, Status.RiskInsufficientFunds);
  assertConsistent(d);
});

test('an instrument without a fee account charges no fees', () => {
  const d = market();
  d.submit({ kind: CommandKind.AddAsset, ref: 3, aux: 0 });
  d.submit({ kind: CommandKind.Deposit, account: 11, ref: 3, quantity: 100 });
  d.submit({ kind: CommandKind.AddInstrument, ref: 2, target: 3, aux: USD, price: 1, quantity: 1 });
  d.submit({
    kind: CommandKind.PlaceOrder,
    account: 11,
    ref: 2,
    price: 7,
    quantity: 5,
    flags: CommandFlag.Sell,
  });
  const events = d.submit({
    kind: CommandKind.PlaceOrder,
    account: 10,
    ref: 2,
    price: 7,
    quantity: 5,
  });
  const trade = events.find((e) => e.kind === EventKind.Trade)!;
  assert.equal(trade.amount, 35);
  assert.equal(trade.fee + trade.counterpartyFee, 0);
  assert.deepEqual(d.balance(10, 3), { available: 5, held: 0 });
  assertConsistent(d);
});

test('orders: at most 2^27 slots, so that (slot << 4) | field indexes a record', () => {
  const config = { ...engineConfigDefault, orderCountMax: 2 ** 27 + 1 };
  assert.throws(() => new Orders(config, 1, false), AssertionError);
});

test('leavingLines sums the id entry, the links and the account ends an order leaves', () => {
  const orders = new Orders(smallConfig, 4, false);
  const first = orders.acquire(1001, 3, 1, 0, 0, 0, 0);
  const second = orders.acquire(1002, 3, 1, 1, 0, 0, 0);
  const map = orders.map;
  for (const o of [first, second]) {
    const idEntry = map.entries[map.probeStart(orders.id(o))];
    assert.equal(idEntry, orders.id(o)); // no collision in an almost empty table
    // The account's first end is stored + 1 (0: none), the next link as it is.
    const expected = idEntry + orders.nextOfAccount(o) + orders.firstOfAccount(3) + 1;
    assert.equal(orders.leavingLines(o, 3), expected);
  }
  assert.equal(orders.nextOfAccount(first), second);
});
