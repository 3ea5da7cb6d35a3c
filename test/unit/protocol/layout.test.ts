/**
 * The hand-written layouts (const enums read with typed arrays) must match what flatc generates
 * from native-layouts: the same bytes read through either must give the same values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as flatbuffers from 'flatbuffers';
import {
  Command as GenCommand,
  CommandResult as GenCommandResult,
  CommandFlag as GenCommandFlag,
  CommandKind as GenCommandKind,
  Event as GenEvent,
  EventFlag as GenEventFlag,
  EventKind as GenEventKind,
  SelfTradePrevention as GenStp,
  SequencedCommand as GenSequenced,
  Status as GenStatus,
  TimeInForce as GenTif,
} from '../../../src/protocol/generated/bourse/protocol.js';
import {
  CommandFlag,
  CommandKind,
  CommandWord,
  SelfTradePrevention,
  SequencedWord,
  TimeInForce,
} from '../../../src/protocol/command-layout.js';
import { EventFlag, EventKind, EventWord } from '../../../src/protocol/event-layout.js';
import { Status } from '../../../src/protocol/status.js';
import { readI64, readU64, write64 } from '../../../src/stdx/records.js';
import { stampCommand, writeCommand } from '../../../src/protocol/command-writer.js';
import { readEvent } from '../../../src/protocol/event-reader.js';
import {
  resultKind,
  resultSizeBytes,
  resultStatus,
  ResultWord,
  writeResult,
} from '../../../src/protocol/result-layout.js';

const big = 2 ** 40 + 12_345; // above 2^32: both words matter

test('struct sizes match the word layouts', () => {
  assert.equal(GenCommand.sizeOf(), CommandWord.size * 4);
  assert.equal(GenSequenced.sizeOf(), SequencedWord.size * 4);
  assert.equal(GenEvent.sizeOf(), EventWord.size * 4);
  assert.equal(GenCommandResult.sizeOf(), resultSizeBytes);
});

test('a command written with our writer reads back through the generated accessors', () => {
  const bytes = new Uint8Array(SequencedWord.size * 4);
  const u32 = new Uint32Array(bytes.buffer);
  writeCommand(u32, 0, {
    kind: CommandKind.AmendOrder,
    clientId: 0xfedcba98,
    clientSeq: big + 1,
    flags: 0x0b,
    tif: 2,
    stp: 1,
    account: big + 2,
    target: big + 3,
    ref: 0x89abcdef,
    makerFeeBps: 7,
    takerFeeBps: 999,
    price: -(big + 4),
    quantity: big + 5,
    aux: -6,
  });
  stampCommand(u32, 0, big + 7, big + 8);
  const s = new GenSequenced().__init(0, new flatbuffers.ByteBuffer(bytes));
  const c = s.command()!;
  assert.equal(c.clientSeq(), BigInt(big + 1));
  assert.equal(c.clientId(), 0xfedcba98);
  assert.equal(c.kind(), GenCommandKind.AmendOrder);
  assert.equal(c.flags(), 0x0b);
  assert.equal(c.tif(), GenTif.Fok);
  assert.equal(c.stp(), GenStp.CancelTaker);
  assert.equal(c.account(), BigInt(big + 2));
  assert.equal(c.target(), BigInt(big + 3));
  assert.equal(c.ref(), 0x89abcdef);
  assert.equal(c.makerFeeBps(), 7);
  assert.equal(c.takerFeeBps(), 999);
  assert.equal(c.price(), BigInt(-(big + 4)));
  assert.equal(c.quantity(), BigInt(big + 5));
  assert.equal(c.aux(), -6n);
  assert.equal(s.sequence(), BigInt(big + 7));
  assert.equal(s.timestamp(), BigInt(big + 8));
});

test('a command built by the generated builder reads back at our offsets', () => {
  const b = new flatbuffers.Builder(256);
  GenSequenced.createSequencedCommand(
    b,
    BigInt(big + 1),
    0x12345678,
    GenCommandKind.PlaceOrder,
    0x06,
    GenTif.Ioc,
    GenStp.CancelBoth,
    BigInt(big + 2),
    BigInt(big + 3),
    0xabcdef01,
    10,
    20,
    BigInt(-(big + 4)),
    BigInt(big + 5),
    -9n,
    BigInt(big + 6),
    BigInt(big + 7),
  );
  // Without finish(), the struct sits at the end of the builder's buffer (it builds backwards).
  const data = b.dataBuffer();
  const bytes = data.bytes().slice(data.capacity() - b.offset());
  const u32 = new Uint32Array(bytes.buffer);
  assert.equal(readU64(u32, CommandWord.clientSeq), big + 1);
  assert.equal(u32[CommandWord.clientId], 0x12345678);
  const bits = u32[CommandWord.bits];
  assert.equal(bits & 0xff, CommandKind.PlaceOrder);
  assert.equal((bits >>> 8) & 0xff, 0x06);
  assert.equal((bits >>> 16) & 0xff, TimeInForce.Ioc);
  assert.equal(bits >>> 24, SelfTradePrevention.CancelBoth);
  assert.equal(readU64(u32, CommandWord.account), big + 2);
  assert.equal(readU64(u32, CommandWord.target), big + 3);
  assert.equal(u32[CommandWord.ref], 0xabcdef01);
  assert.equal(u32[CommandWord.feeBps] & 0xffff, 10);
  assert.equal(u32[CommandWord.feeBps] >>> 16, 20);
  assert.equal(readI64(u32, CommandWord.price), -(big + 4));
  assert.equal(readI64(u32, CommandWord.quantity), big + 5);
  assert.equal(readI64(u32, CommandWord.aux), -9);
  assert.equal(readU64(u32, SequencedWord.sequence), big + 6);
  assert.equal(readU64(u32, SequencedWord.timestamp), big + 7);
});

test('an event written at our offsets reads back through the generated accessors', () => {
  const bytes = new Uint8Array(EventWord.size * 4);
  const u32 = new Uint32Array(bytes.buffer);
  const values: number[] = [];
  for (let w = EventWord.account; w < EventWord.size; w += 2) {
    const v = (w % 4 === 0 ? -1 : 1) * (big + w);
    values.push(v);
    write64(u32, w, v);
  }
  write64(u32, EventWord.sequence, big + 1);
  write64(u32, EventWord.timestamp, big + 2);
  write64(u32, EventWord.clientSeq, big + 3);
  u32[EventWord.clientId] = 0xdeadbeef;
  u32[EventWord.kindStatus] =
    EventKind.Trade | (CommandKind.PlaceOrder << 8) | (Status.MatchingFillLimit << 16);
  u32[EventWord.flagsTifStp] = 0x1234 | (2 << 16) | (1 << 24);
  u32[EventWord.ref] = 0x76543210;
  const e = new GenEvent().__init(0, new flatbuffers.ByteBuffer(bytes));
  assert.equal(e.sequence(), BigInt(big + 1));
  assert.equal(e.timestamp(), BigInt(big + 2));
  assert.equal(e.clientSeq(), BigInt(big + 3));
  assert.equal(e.clientId(), 0xdeadbeef);
  assert.equal(e.kind(), GenEventKind.Trade);
  assert.equal(e.commandKind(), GenCommandKind.PlaceOrder);
  assert.equal(e.status(), GenStatus.MatchingFillLimit);
  assert.equal(e.flags(), 0x1234);
  assert.equal(e.tif(), 2);
  assert.equal(e.stp(), 1);
  assert.equal(e.ref(), 0x76543210);
  // Unsigned ids come back as their two's-complement bits; signed amounts as themselves.
  const got = [
    e.account(),
    e.counterparty(),
    e.id(),
    e.otherId(),
    e.price(),
    e.quantity(),
    e.amount(),
    e.fee(),
    e.counterpartyFee(),
    e.release(),
    e.aux(),
  ];
  got.forEach((v, i) => {
    const want = BigInt(values[i]);
    assert.equal(BigInt.asIntN(64, v), want, `field ${i}`);
  });
  const decoded = readEvent(u32, 0);
  assert.equal(decoded.price, values[4]);
  assert.equal(decoded.aux, values[10]);
});

test('a result written from a head event reads back through the generated accessors', () => {
  const event = new Uint32Array(EventWord.size * 2);
  const e = EventWord.size; // the second event of the buffer
  event.fill(0xffffffff); // every field of the event set: only the right ones may pass
  write64(event, e + EventWord.sequence, big + 1);
  write64(event, e + EventWord.clientSeq, big + 2);
  event[e + EventWord.kindStatus] =
    EventKind.Rejected | (CommandKind.Transfer << 8) | (Status.LedgerInsufficientFunds << 16);
  const bytes = new Uint8Array(resultSizeBytes * 2);
  const out = new Uint32Array(bytes.buffer);
  out.fill(0xffffffff);
  writeResult(out, ResultWord.size, event, e);
  const r = new GenCommandResult().__init(resultSizeBytes, new flatbuffers.ByteBuffer(bytes));
  assert.equal(r.clientSeq(), BigInt(big + 2));
  assert.equal(r.sequence(), BigInt(big + 1));
  assert.equal(r.status(), GenStatus.LedgerInsufficientFunds);
  assert.equal(r.kind(), GenEventKind.Rejected);
  assert.equal(r.reserved0() + r.reserved1(), 0);
  assert.equal(resultStatus(out, ResultWord.size), Status.LedgerInsufficientFunds);
  assert.equal(resultKind(out, ResultWord.size), EventKind.Rejected);
  assert.equal(out[0], 0xffffffff, 'nothing written before the record');
});

/** Each of our const enum members paired with the generated enum's member. */
function assertEnum(name: string, ours: Array<[number, number]>, generated: object): void {
  for (const [a, b] of ours) assert.equal(a, b, `${name}: value ${a} vs ${b}`);
  const genValues = Object.values(generated).filter((v): v is number => typeof v === 'number');
  const ourValues = new Set(ours.map(([, b]) => b));
  for (const v of genValues)
    assert.ok(ourValues.has(v), `${name}: generated value ${v} has no twin`);
}

test('our const enums match the generated enums member by member', () => {
  assertEnum(
    'CommandKind',
    [
      [CommandKind.None, GenCommandKind.None],
      [CommandKind.CreateAccount, GenCommandKind.CreateAccount],
      [CommandKind.AddAsset, GenCommandKind.AddAsset],
      [CommandKind.Deposit, GenCommandKind.Deposit],
      [CommandKind.Withdraw, GenCommandKind.Withdraw],
      [CommandKind.Transfer, GenCommandKind.Transfer],
      [CommandKind.TransferPending, GenCommandKind.TransferPending],
      [CommandKind.TransferPost, GenCommandKind.TransferPost],
      [CommandKind.TransferVoid, GenCommandKind.TransferVoid],
      [CommandKind.AddInstrument, GenCommandKind.AddInstrument],
      [CommandKind.HaltInstrument, GenCommandKind.HaltInstrument],
      [CommandKind.ResumeInstrument, GenCommandKind.ResumeInstrument],
      [CommandKind.PlaceOrder, GenCommandKind.PlaceOrder],
      [CommandKind.CancelOrder, GenCommandKind.CancelOrder],
      [CommandKind.AmendOrder, GenCommandKind.AmendOrder],
      [CommandKind.Tick, GenCommandKind.Tick],
      [CommandKind.CancelAll, GenCommandKind.CancelAll],
      [CommandKind.CancelClientOrders, GenCommandKind.CancelClientOrders],
      [CommandKind.SetCancelOnDisconnect, GenCommandKind.SetCancelOnDisconnect],
    ],
    GenCommandKind,
  );
  assertEnum(
    'EventKind',
    [
      [EventKind.None, GenEventKind.None],
      [EventKind.Rejected, GenEventKind.Rejected],
      [EventKind.Duplicate, GenEventKind.Duplicate],
      [EventKind.AccountCreated, GenEventKind.AccountCreated],
      [EventKind.AssetAdded, GenEventKind.AssetAdded],
      [EventKind.Deposited, GenEventKind.Deposited],
      [EventKind.Withdrawn, GenEventKind.Withdrawn],
      [EventKind.Transferred, GenEventKind.Transferred],
      [EventKind.PendingCreated, GenEventKind.PendingCreated],
      [EventKind.PendingPosted, GenEventKind.PendingPosted],
      [EventKind.PendingVoided, GenEventKind.PendingVoided],
      [EventKind.PendingExpired, GenEventKind.PendingExpired],
      [EventKind.InstrumentAdded, GenEventKind.InstrumentAdded],
      [EventKind.InstrumentHalted, GenEventKind.InstrumentHalted],
      [EventKind.InstrumentResumed, GenEventKind.InstrumentResumed],
      [EventKind.OrderAccepted, GenEventKind.OrderAccepted],
      [EventKind.Trade, GenEventKind.Trade],
      [EventKind.OrderExpired, GenEventKind.OrderExpired],
      [EventKind.OrderCanceled, GenEventKind.OrderCanceled],
      [EventKind.OrderAmended, GenEventKind.OrderAmended],
      [EventKind.Ticked, GenEventKind.Ticked],
      [EventKind.AllCanceled, GenEventKind.AllCanceled],
      [EventKind.CancelOnDisconnectSet, GenEventKind.CancelOnDisconnectSet],
    ],
    GenEventKind,
  );
  assertEnum(
    'TimeInForce',
    [
      [TimeInForce.Gtc, GenTif.Gtc],
      [TimeInForce.Ioc, GenTif.Ioc],
      [TimeInForce.Fok, GenTif.Fok],
    ],
    GenTif,
  );
  assertEnum(
    'SelfTradePrevention',
    [
      [SelfTradePrevention.CancelResting, GenStp.CancelResting],
      [SelfTradePrevention.CancelTaker, GenStp.CancelTaker],
      [SelfTradePrevention.CancelBoth, GenStp.CancelBoth],
    ],
    GenStp,
  );
  assertEnum(
    'CommandFlag',
    [
      [CommandFlag.Linked, GenCommandFlag.Linked],
      [CommandFlag.Sell, GenCommandFlag.Sell],
      [CommandFlag.Market, GenCommandFlag.Market],
      [CommandFlag.PostOnly, GenCommandFlag.PostOnly],
    ],
    GenCommandFlag,
  );
  assertEnum(
    'EventFlag',
    [
      [EventFlag.Head, GenEventFlag.Head],
      [EventFlag.Record, GenEventFlag.Record],
      [EventFlag.Sell, GenEventFlag.Sell],
      [EventFlag.Market, GenEventFlag.Market],
      [EventFlag.PostOnly, GenEventFlag.PostOnly],
      [EventFlag.PriorityKept, GenEventFlag.PriorityKept],
      [EventFlag.Linked, GenEventFlag.Linked],
    ],
    GenEventFlag,
  );
});

test('every Status member in status.ts has the generated value, and none is missing', async () => {
  const { readFile } = await import('node:fs/promises');
  const source = await readFile(
    new URL('../../../../src/protocol/status.ts', import.meta.url),
    'utf8',
  );
  const body = source.slice(source.indexOf('export const enum Status {'));
  const members = [...body.slice(0, body.indexOf('}')).matchAll(/^\s+(\w+) = (\d+),/gm)];
  const generated = GenStatus as unknown as Record<string, number>;
  assert.ok(members.length > 50);
  for (const [, name, value] of members) assert.equal(Number(value), generated[name], name);
  const names = new Set(members.map((m) => m[1]));
  for (const name of Object.keys(generated)) {
    if (Number.isNaN(Number(name))) assert.ok(names.has(name), `missing ${name}`);
  }
});
