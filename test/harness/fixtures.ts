/**
 * A ready market for behaviour tests: quote asset 1 (USD, scale 2), base asset 2 (scale 8),
 * accounts 10, 11, 12 funded in both, fee account 99, and instrument 1 = asset 2 / asset 1 with
 * tick 5, lot 10, maker fee 10 bps, taker fee 20 bps.
 */
import assert from 'node:assert/strict';
import { EngineDriver, smallConfig } from './engine-driver.js';
import { scanChecksum } from '../../src/engine/checksum-scan.js';
import { assertSameAccountLists } from './account-lists.js';
import { CommandFlag, CommandKind } from '../../src/protocol/command-layout.js';
import type { EngineConfig } from '../../src/constants.js';
import type { EventRecord } from '../../src/protocol/event-reader.js';

export const USD = 1;
export const BTC = 2;
export const FEES = 99;
export const BOOK = 1;

export function market(config: EngineConfig = smallConfig, funds = 1_000_000): EngineDriver {
  const d = new EngineDriver(config);
  d.submit({ kind: CommandKind.AddAsset, ref: USD, aux: 2 });
  d.submit({ kind: CommandKind.AddAsset, ref: BTC, aux: 8 });
  for (const account of [10, 11, 12, FEES]) d.submit({ kind: CommandKind.CreateAccount, account });
  for (const account of [10, 11, 12]) {
    d.submit({ kind: CommandKind.Deposit, account, ref: USD, quantity: funds });
    d.submit({ kind: CommandKind.Deposit, account, ref: BTC, quantity: 10_000 });
  }
  d.submit({
    kind: CommandKind.AddInstrument,
    ref: BOOK,
    target: BTC,
    aux: USD,
    price: 5,
    quantity: 10,
    account: FEES,
    makerFeeBps: 10,
    takerFeeBps: 20,
  });
  return d;
}

export function buy(
  d: EngineDriver,
  account: number,
  price: number,
  quantity: number,
  more = {},
): EventRecord[] {
  return d.submit({ kind: CommandKind.PlaceOrder, account, ref: BOOK, price, quantity, ...more });
}

export function sell(
  d: EngineDriver,
  account: number,
  price: number,
  quantity: number,
  more = {},
): EventRecord[] {
  return d.submit({
    kind: CommandKind.PlaceOrder,
    account,
    ref: BOOK,
    price,
    quantity,
    flags: CommandFlag.Sell,
    ...more,
  });
}

/**
 * The replica from the journal, the rescanned checksum and the primary all agree, and so do
 * their account order lists (which the checksum leaves out).
 */
export function assertConsistent(d: EngineDriver): void {
  const primary = d.engine.checksum.hex();
  assert.equal(scanChecksum(d.engine).hex(), primary, 'incremental checksum = rescan');
  const replica = d.replay();
  assert.equal(replica.checksum.hex(), primary, 'replica = primary');
  assertSameAccountLists(d.engine, replica, 'replica = primary');
}

/** Sum over accounts of available + held for an asset. */
export function total(d: EngineDriver, asset: number, accounts = [10, 11, 12, FEES]): number {
  let sum = 0;
  for (const a of accounts) sum += d.balance(a, asset).available + d.balance(a, asset).held;
  return sum;
}
