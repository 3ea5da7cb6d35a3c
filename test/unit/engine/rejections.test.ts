/**
 * Every kind of bad command gets its own rejection code, never a crash, and the Rejected event
 * echoes the command's fields for the audit trail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertConsistent, BOOK, BTC, market, USD } from '../../harness/fixtures.js';
import type { EngineDriver } from '../../harness/engine-driver.js';
import { CommandFlag, CommandKind, CommandWord } from '../../../src/protocol/command-layout.js';
import { EventKind } from '../../../src/protocol/event-layout.js';
import { Status, statusName } from '../../../src/protocol/status.js';
import { writeCommand, type CommandFields } from '../../../src/protocol/command-writer.js';

type Fields = Omit<CommandFields, 'clientId' | 'clientSeq'>;

const order = (more: Partial<Fields>): Fields => ({
  kind: CommandKind.PlaceOrder,
  account: 10,
  ref: BOOK,
  price: 500,
  quantity: 10,
  ...more,
});
const deposit = (more: Partial<Fields>): Fields => ({
  kind: CommandKind.Deposit,
  account: 10,
  ref: USD,
  quantity: 10,
  ...more,
});

const cases: Array<[string, Fields, Status]> = [
  ['unknown command kind', { kind: 99 }, Status.CommandKindUnknown],
  [
    'flags on a non-order command',
    deposit({ flags: CommandFlag.Sell }),
    Status.CommandFlagsInvalid,
  ],
  ['a time in force on a non-order command', deposit({ tif: 1 }), Status.CommandFlagsInvalid],
  ['account id 0', deposit({ account: 0 }), Status.CommandIdInvalid],
  ['unknown account', deposit({ account: 77 }), Status.LedgerAccountUnknown],
  ['unknown asset', deposit({ ref: 9 }), Status.LedgerAssetUnknown],
  ['zero amount', deposit({ quantity: 0 }), Status.CommandAmountZero],
  ['negative amount', deposit({ quantity: -1 }), Status.CommandAmountNegative],
  [
    'deposit beyond the supply cap',
    deposit({ quantity: 2 ** 53 - 1 }),
    Status.LedgerSupplyOverflow,
  ],
  [
    'withdraw more than available',
    { ...deposit({ quantity: 2_000_000 }), kind: CommandKind.Withdraw },
    Status.LedgerInsufficientFunds,
  ],
  [
    'transfer to itself',
    { ...deposit({ target: 10 }), kind: CommandKind.Transfer },
    Status.LedgerSameAccount,
  ],
  [
    'create an existing account',
    { kind: CommandKind.CreateAccount, account: 10 },
    Status.LedgerAccountExists,
  ],
  [
    'asset id out of range',
    { kind: CommandKind.AddAsset, ref: 16, aux: 2 },
    Status.LedgerAssetIdInvalid,
  ],
  ['asset exists', { kind: CommandKind.AddAsset, ref: USD, aux: 2 }, Status.LedgerAssetExists],
  [
    'asset scale above 18',
    { kind: CommandKind.AddAsset, ref: 5, aux: 19 },
    Status.LedgerAssetScaleInvalid,
  ],
  [
    'instrument id out of range',
    { kind: CommandKind.AddInstrument, ref: 256, target: BTC, aux: USD, price: 1, quantity: 1 },
    Status.MatchingInstrumentIdInvalid,
  ],
  [
    'instrument exists',
    { kind: CommandKind.AddInstrument, ref: BOOK, target: BTC, aux: USD, price: 1, quantity: 1 },
    Status.MatchingInstrumentExists,
  ],
  [
    'instrument with one asset twice',
    { kind: CommandKind.AddInstrument, ref: 2, target: USD, aux: USD, price: 1, quantity: 1 },
    Status.MatchingInstrumentAssetsInvalid,
  ],
  [
    'fees without a fee account',
    {
      kind: CommandKind.AddInstrument,
      ref: 2,
      target: BTC,
      aux: USD,
      price: 1,
      quantity: 1,
      takerFeeBps: 5,
    },
    Status.MatchingFeeInvalid,
  ],
  [
    'fees above 10%',
    {
      kind: CommandKind.AddInstrument,
      ref: 2,
      target: BTC,
      aux: USD,
      price: 1,
      quantity: 1,
      account: 99,
      takerFeeBps: 1_001,
    },
    Status.MatchingFeeInvalid,
  ],
  [
    'resume a running instrument',
    { kind: CommandKind.ResumeInstrument, ref: BOOK },
    Status.MatchingInstrumentNotHalted,
  ],
  [
    'halt an unknown instrument',
    { kind: CommandKind.HaltInstrument, ref: 7 },
    Status.MatchingInstrumentUnknown,
  ],
  ['order on an unknown instrument', order({ ref: 7 }), Status.MatchingInstrumentUnknown],
  ['price off the tick', order({ price: 502 }), Status.MatchingPriceTick],
  ['quantity off the lot', order({ quantity: 15 }), Status.MatchingQuantityLot],
  ['zero price', order({ price: 0 }), Status.CommandAmountZero],
  ['negative quantity', order({ quantity: -10 }), Status.CommandAmountNegative],
  [
    'a market order with a price',
    order({ flags: CommandFlag.Market }),
    Status.MatchingMarketPriceNotAllowed,
  ],
  ['unknown flag bits', order({ flags: 64 }), Status.CommandFlagsInvalid],
  ['time in force out of range', order({ tif: 3 }), Status.CommandFlagsInvalid],
  ['self-trade mode out of range', order({ stp: 3 }), Status.CommandFlagsInvalid],
  ['post-only IOC', order({ flags: CommandFlag.PostOnly, tif: 1 }), Status.CommandFlagsInvalid],
  ['order from an unknown account', order({ account: 77 }), Status.LedgerAccountUnknown],
  ['order beyond the funds', order({ quantity: 1_000_000 }), Status.RiskInsufficientFunds],
  [
    'notional beyond 2^53',
    order({ price: 5 * 2 ** 50, quantity: 100 }),
    Status.RiskNotionalTooLarge,
  ],
  [
    'cancel an unknown order',
    { kind: CommandKind.CancelOrder, account: 10, target: 5_000 },
    Status.MatchingOrderUnknown,
  ],
  [
    'post an unknown pending transfer',
    { kind: CommandKind.TransferPost, account: 10, target: 5_000, quantity: 1 },
    Status.LedgerPendingUnknown,
  ],
];

for (const [name, fields, status] of cases) {
  test(`rejects ${name} with ${statusName(status)}`, () => {
    const d = market();
    const before = d.balance(10, USD);
    const events = d.submit(fields);
    const rejected = events[events.length - 1];
    assert.equal(rejected.kind, EventKind.Rejected);
    assert.equal(statusName(rejected.status), statusName(status));
    assert.equal(rejected.account, fields.account ?? 0);
    assert.equal(rejected.counterparty, fields.target ?? 0);
    assert.equal(rejected.price, fields.price ?? 0);
    assert.equal(rejected.quantity, fields.quantity ?? 0);
    assert.equal(rejected.aux, fields.aux ?? 0);
    assert.deepEqual(d.balance(10, USD), before);
    assertConsistent(d);
  });
}

/** Writes a command whose 64-bit field at `word` holds the raw (lo, hi) words. */
function raw(d: EngineDriver, fields: Fields, word: number, lo: number, hi: number): number {
  const u32 = d.commands.u32;
  writeCommand(u32, 0, { clientId: d.clientId, clientSeq: ++d.clientSeq, ...fields });
  u32[word] = lo >>> 0;
  u32[word + 1] = hi >>> 0;
  const events = d.executeRaw(u32, 0);
  return events[events.length - 1].status;
}

test('amounts beyond +2^53 are rejected as too large', () => {
  const d = market();
  assert.equal(
    raw(d, deposit({}), CommandWord.quantity, 0, 0x200000),
    Status.CommandAmountTooLarge,
  );
  assert.equal(
    raw(d, order({}), CommandWord.price, 0xffffffff, 0x7fffffff),
    Status.CommandAmountTooLarge,
  );
  assert.equal(
    raw(d, deposit({}), CommandWord.quantity, 0xffffffff, 0x1fffff),
    Status.LedgerSupplyOverflow,
  );
});

test('amounts at or below -2^53 are rejected as too large, above it as negative', () => {
  const d = market();
  assert.equal(
    raw(d, deposit({}), CommandWord.quantity, 0, -0x200000),
    Status.CommandAmountTooLarge,
  );
  assert.equal(
    raw(d, deposit({}), CommandWord.quantity, 0, 0x80000000),
    Status.CommandAmountTooLarge,
  );
  assert.equal(
    raw(d, deposit({}), CommandWord.quantity, 1, -0x200000),
    Status.CommandAmountNegative,
  );
});

test('ids beyond 2^53 are rejected as invalid', () => {
  const d = market();
  assert.equal(raw(d, deposit({}), CommandWord.account, 0, 0x200000), Status.CommandIdInvalid);
  const cancel = { kind: CommandKind.CancelOrder, account: 10, target: 1 };
  assert.equal(raw(d, cancel, CommandWord.target, 0, 0xffffffff), Status.CommandIdInvalid);
});

test('client seqs beyond 2^53 are rejected as invalid', () => {
  const d = market();
  assert.equal(
    raw(d, deposit({}), CommandWord.clientSeq, 0, 0x200000),
    Status.CommandClientSeqInvalid,
  );
});
