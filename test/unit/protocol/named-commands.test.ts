import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toFields } from '../../../src/protocol/named-commands.js';
import {
  CommandFlag,
  SelfTradePrevention,
  TimeInForce,
} from '../../../src/protocol/command-layout.js';

test('named commands become the protocol fields of commands.fbs', () => {
  assert.deepEqual(toFields('transfer', { from: 1, to: 2, asset: 3, amount: 40 }), {
    account: 1,
    target: 2,
    ref: 3,
    quantity: 40,
    flags: 0,
  });
  const pending = { from: 1, to: 2, asset: 3, amount: 40, timeoutUs: 5, linked: true };
  assert.deepEqual(toFields('transferPending', pending), {
    account: 1,
    target: 2,
    ref: 3,
    quantity: 40,
    aux: 5,
    flags: CommandFlag.Linked,
  });
  assert.deepEqual(toFields('postPending', { from: 1, pending: 9, amount: 4 }), {
    account: 1,
    target: 9,
    quantity: 4,
    flags: 0,
  });
  const sell = { account: 4, instrument: 2, side: 'sell', price: 101, quantity: 300 };
  assert.deepEqual(toFields('placeOrder', { ...sell, tif: 'IOC', selfTrade: 'cancel-both' }), {
    account: 4,
    ref: 2,
    price: 101,
    quantity: 300,
    flags: CommandFlag.Sell,
    tif: TimeInForce.Ioc,
    stp: SelfTradePrevention.CancelBoth,
  });
  const buy = { account: 4, instrument: 2, side: 'buy', quantity: 300, market: true };
  assert.deepEqual(toFields('placeOrder', buy), {
    account: 4,
    ref: 2,
    quantity: 300,
    flags: CommandFlag.Market,
    tif: TimeInForce.Gtc,
    stp: SelfTradePrevention.CancelResting,
  });
  const post = toFields('placeOrder', { ...sell, postOnly: true });
  assert.equal(post.flags, CommandFlag.Sell | CommandFlag.PostOnly);
  assert.deepEqual(toFields('amend', { account: 4, order: 77, price: 99, quantity: 100 }), {
    account: 4,
    target: 77,
    price: 99,
    quantity: 100,
    flags: 0,
  });
  const instrument = { instrument: 1, base: 2, quote: 3, tick: 5, lot: 100, feeAccount: 9 };
  assert.deepEqual(toFields('addInstrument', { ...instrument, takerFeeBps: 2 }), {
    ref: 1,
    target: 2,
    aux: 3,
    price: 5,
    quantity: 100,
    account: 9,
    takerFeeBps: 2,
    flags: 0,
  });
  assert.deepEqual(toFields('addAsset', { asset: 1, scale: 2 }), { ref: 1, aux: 2, flags: 0 });
  assert.deepEqual(toFields('cancelAll', { account: 4 }), { account: 4, flags: 0 });
  assert.deepEqual(toFields('cancelAll', { account: 4, instrument: 2, next: 77 }), {
    account: 4,
    ref: 2,
    target: 77,
    flags: 0,
  });
});

test('a named command with a wrong, missing or mistyped field is refused, naming it', () => {
  const order = { account: 4, instrument: 2, side: 'sell', price: 101, quantity: 300 };
  const cases: [Parameters<typeof toFields>, RegExp][] = [
    [['transfer', { from: 1, to: 2, asset: 1 }], /transfer: 'amount' is missing/],
    [['transfer', { from: 1, to: 2, asset: 1, amount: 1.5 }], /'amount' must be a safe integer/],
    [['transfer', { from: 1, to: 2, asset: 1, amount: '5' }], /not "5"/],
    [['transfer', { from: 1, to: 2, ref: 1, amount: 5 }], /'ref' is not one of its fields/],
    [['placeOrder', { ...order, side: 'SELL' }], /'side' is 'buy' or 'sell', not "SELL"/],
    [['placeOrder', { ...order, price: undefined }], /'price' is missing \(or say market/],
    [['placeOrder', { ...order, market: true }], /a market order has no 'price'/],
    [['placeOrder', { ...order, tif: 'gtd' }], /'tif' is one of 'GTC', 'IOC', 'FOK'/],
    [['placeOrder', { ...order, tif: 'toString' }], /'tif' is one of/],
    [['placeOrder', { ...order, postOnly: 1 }], /'postOnly' is true or false/],
    [['placeOrder', { ...order, flags: 2 }], /'flags' is not one of its fields/],
    [['cancel', { account: 1 }], /cancel: 'order' is missing/],
    [['cancelAll', { instrument: 1 }], /cancelAll: 'account' is missing/],
    [['cancelAll', { account: 1, instrument: 2 ** 32 }], /cancelAll: 'instrument'/],
    [['deposit', null as unknown as object], /deposit: give its fields/],
  ];
  for (const [args, message] of cases) assert.throws(() => toFields(...args), message);
});
