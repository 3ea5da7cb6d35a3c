import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amountStatus, idStatus, nonNegativeStatus } from '../../../src/protocol/command-fields.js';
import { Status } from '../../../src/protocol/status.js';
import { writeCommand } from '../../../src/protocol/command-writer.js';
import { CommandKind, CommandWord } from '../../../src/protocol/command-layout.js';

/** Two words (lo, hi) of a 64-bit field. */
const words = (lo: number, hi: number): Uint32Array => new Uint32Array([lo >>> 0, hi >>> 0]);

test('amounts: zero, negative, positive, and beyond +-(2^53 - 1)', () => {
  const cases: Array<[number, number, Status]> = [
    [0, 0, Status.CommandAmountZero],
    [1, 0, Status.Ok],
    [0xffffffff, 0x1fffff, Status.Ok], // 2^53 - 1
    [0, 0x200000, Status.CommandAmountTooLarge], // 2^53
    [0xffffffff, 0x7fffffff, Status.CommandAmountTooLarge], // 2^63 - 1
    [0xffffffff, 0xffffffff, Status.CommandAmountNegative], // -1
    [1, -0x200000, Status.CommandAmountNegative], // -(2^53 - 1)
    [0, -0x200000, Status.CommandAmountTooLarge], // -2^53
    [0, 0x80000000, Status.CommandAmountTooLarge], // -2^63
  ];
  for (const [lo, hi, status] of cases)
    assert.equal(amountStatus(words(lo, hi), 0), status, `${lo},${hi}`);
});

test('non-negative values allow zero and nothing else that amounts refuse', () => {
  assert.equal(nonNegativeStatus(words(0, 0), 0), Status.Ok);
  assert.equal(nonNegativeStatus(words(5, 0), 0), Status.Ok);
  assert.equal(nonNegativeStatus(words(0xffffffff, 0xffffffff), 0), Status.CommandAmountNegative);
  assert.equal(nonNegativeStatus(words(0, 0x200000), 0), Status.CommandAmountTooLarge);
});

test('ids: 1 .. 2^53 - 1 are valid, 0 and anything above are not', () => {
  assert.equal(idStatus(words(0, 0), 0), Status.CommandIdInvalid);
  assert.equal(idStatus(words(1, 0), 0), Status.Ok);
  assert.equal(idStatus(words(0xffffffff, 0x1fffff), 0), Status.Ok);
  assert.equal(idStatus(words(0, 0x200000), 0), Status.CommandIdInvalid);
  assert.equal(idStatus(words(0xffffffff, 0xffffffff), 0), Status.CommandIdInvalid);
});

test('the writer refuses a narrow field past its bytes, whole and unchanged otherwise', () => {
  const u32 = new Uint32Array(16);
  const base = { kind: CommandKind.PlaceOrder, clientId: 1, clientSeq: 1 };
  const wide: Array<Record<string, number>> = [
    { flags: 0x102 },
    { tif: 256 },
    { stp: -1 },
    { ref: 2 ** 32 },
    { makerFeeBps: 0x1_0000 },
    { takerFeeBps: 1.5 },
    { flags: Number.NaN },
  ];
  for (const f of wide) {
    assert.throws(() => writeCommand(u32, 0, { ...base, ...f }), /narrow fields/, String(f));
  }
  writeCommand(u32, 0, { ...base, flags: 0xff, tif: 0xff, stp: 0xff, ref: 2 ** 32 - 1 });
  assert.equal(u32[CommandWord.bits], (0xffffff00 | CommandKind.PlaceOrder) >>> 0);
  assert.equal(u32[CommandWord.ref], 2 ** 32 - 1);
  writeCommand(u32, 0, { ...base, makerFeeBps: 0xffff, takerFeeBps: 0xffff });
  assert.equal(u32[CommandWord.feeBps], 0xffffffff);
});
