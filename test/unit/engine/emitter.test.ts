/**
 * Emitter.beginOrder clears only the four payload words an order's head leaves unset
 * (taker-emit.ts sets the other seven), and beginTransfer the seven a transfer leaves unset
 * (ledger-decide.ts sets four): the event each writes, over a buffer holding anything, must be
 * byte for byte the one `begin` writes with the same fields set, fingerprint included. `copy`
 * and `setSequence` write a command's field and its sequence as `set` writes their values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Emitter } from '../../../src/engine/emitter.js';
import { CommandCursor } from '../../../src/engine/cursor.js';
import { RecordBuffer } from '../../../src/stdx/records.js';
import { CommandKind, CommandWord, SequencedWord } from '../../../src/protocol/command-layout.js';
import { readU64 } from '../../../src/stdx/records.js';
import { EventKind, EventWord } from '../../../src/protocol/event-layout.js';
import { Status } from '../../../src/protocol/status.js';

const orderFields = [
  EventWord.account,
  EventWord.id,
  EventWord.price,
  EventWord.quantity,
  EventWord.amount,
  EventWord.release,
  EventWord.aux,
];

/** A PlaceOrder command, every word set, in a SequencedCommand record. */
function command(): Uint32Array {
  const u32 = new Uint32Array(SequencedWord.size);
  for (let i = 0; i < u32.length; i++) u32[i] = (i * 0x9e3779b1 + 7) >>> 0;
  u32[3] = CommandKind.PlaceOrder | (1 << 8) | (2 << 16);
  // Each 64-bit field below 2^53, as the engine checks them: one double, the same words.
  for (const k of [0, 4, 6, 10, 12, 14, 16, 18]) u32[k + 1] &= 0x1fffff;
  return u32;
}

const transferFields = [EventWord.account, EventWord.counterparty, EventWord.id, EventWord.amount];

type Begin = 'begin' | 'order' | 'transfer';

/** An emitter over a buffer filled with `fill`, stamping the command, and the command. */
function start(
  fill: number,
  recorded: boolean,
): { em: Emitter; out: RecordBuffer; c: Uint32Array } {
  const out = RecordBuffer.allocate(4, EventWord.size * 4);
  out.u32.fill(fill);
  const em = new Emitter(4);
  em.reset(out, 1);
  const c = new CommandCursor();
  const cmd = command();
  c.point(cmd, 0);
  em.startCommand(c);
  if (recorded) em.markRecord(0x5eed1234);
  return { em, out, c: cmd };
}

/** The head event of the command, begun with `how`, `fields` set, in words. */
function head(how: Begin, fill: number, recorded: boolean, fields = orderFields): number[] {
  const { em, out } = start(fill, recorded);
  const kind = fields === transferFields ? EventKind.Transferred : EventKind.OrderAccepted;
  const e =
    how === 'order'
      ? em.beginOrder(kind, Status.Ok, 0, 3)
      : how === 'transfer'
        ? em.beginTransfer(kind, Status.Ok, 0, 3)
        : em.begin(kind, Status.Ok, 0, 3);
  fields.forEach((field, i) => em.set(e, field, (i + 1) * 1_000_000_007));
  if (recorded) assert.ok(em.headKeepsFingerprint(), 'the fingerprint survives the sets');
  return Array.from(out.u32.subarray(e, e + EventWord.size));
}

test('beginOrder over a dirty buffer writes the bytes of begin over a clean one', () => {
  for (const recorded of [true, false]) {
    const expected = head('begin', 0, recorded);
    assert.deepEqual(head('order', 0xffffffff, recorded), expected);
    assert.deepEqual(head('order', 0x12345678, recorded), expected);
    assert.deepEqual(head('begin', 0xffffffff, recorded), expected);
  }
});

test('beginTransfer over a dirty buffer writes the bytes of begin over a clean one', () => {
  for (const recorded of [true, false]) {
    const expected = head('begin', 0, recorded, transferFields);
    assert.deepEqual(head('transfer', 0xffffffff, recorded, transferFields), expected);
    assert.deepEqual(head('transfer', 0x12345678, recorded, transferFields), expected);
  }
});

test('copy and setSequence write what set writes of the same values', () => {
  const fields = [CommandWord.account, CommandWord.target, CommandWord.price, CommandWord.aux];
  const copied = start(0xffffffff, false);
  const e = copied.em.begin(EventKind.Transferred, Status.Ok, 0, 3);
  const set = start(0, false);
  const f = set.em.begin(EventKind.Transferred, Status.Ok, 0, 3);
  fields.forEach((from, i) => {
    copied.em.copy(e, EventWord.account + 2 * i, from);
    set.em.set(f, EventWord.account + 2 * i, readU64(set.c, from));
  });
  copied.em.setSequence(e, EventWord.release);
  set.em.set(f, EventWord.release, readU64(set.c, SequencedWord.sequence));
  const words = (r: RecordBuffer, at: number): number[] =>
    Array.from(r.u32.subarray(at, at + EventWord.size));
  assert.deepEqual(words(copied.out, e), words(set.out, f));
  assert.notEqual(copied.out.u32[e + EventWord.release], 0, 'the sequence is not zero');
});

test('a recorded order head carries the fingerprint in its other id word', () => {
  const words = head('order', 0xffffffff, true);
  assert.equal(words[EventWord.otherId], 0x5eed1234);
  assert.equal(words[EventWord.otherId + 1], 0);
  assert.equal(words[EventWord.counterparty], 0);
  assert.equal(words[EventWord.fee + 1], 0);
});
