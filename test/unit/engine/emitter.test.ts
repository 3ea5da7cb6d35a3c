/**
 * Emitter.beginOrder clears only the four payload words an order's head leaves unset
 * (taker-emit.ts sets the other seven): the event it writes, over a buffer holding anything,
 * must be byte for byte the one `begin` writes with the same seven fields set, fingerprint
 * included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Emitter } from '../../../src/engine/emitter.js';
import { CommandCursor } from '../../../src/engine/cursor.js';
import { RecordBuffer } from '../../../src/stdx/records.js';
import { CommandKind, SequencedWord } from '../../../src/protocol/command-layout.js';
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
  return u32;
}

/** The head event of the command, written with `order` (beginOrder) or `begin`, in words. */
function head(order: boolean, fill: number, recorded: boolean): number[] {
  const out = RecordBuffer.allocate(4, EventWord.size * 4);
  out.u32.fill(fill);
  const em = new Emitter(4);
  em.reset(out, 1);
  const c = new CommandCursor();
  c.point(command(), 0);
  em.startCommand(c);
  if (recorded) em.markRecord(0x5eed1234);
  const kind = EventKind.OrderAccepted;
  const e = order ? em.beginOrder(kind, Status.Ok, 0, 3) : em.begin(kind, Status.Ok, 0, 3);
  orderFields.forEach((field, i) => em.set(e, field, (i + 1) * 1_000_000_007));
  if (recorded) assert.ok(em.headKeepsFingerprint(), 'the fingerprint survives the sets');
  return Array.from(out.u32.subarray(e, e + EventWord.size));
}

test('beginOrder over a dirty buffer writes the bytes of begin over a clean one', () => {
  for (const recorded of [true, false]) {
    const expected = head(false, 0, recorded);
    assert.deepEqual(head(true, 0xffffffff, recorded), expected);
    assert.deepEqual(head(true, 0x12345678, recorded), expected);
    assert.deepEqual(head(false, 0xffffffff, recorded), expected);
  }
});

test('a recorded order head carries the fingerprint in its other id word', () => {
  const words = head(true, 0xffffffff, true);
  assert.equal(words[EventWord.otherId], 0x5eed1234);
  assert.equal(words[EventWord.otherId + 1], 0);
  assert.equal(words[EventWord.counterparty], 0);
  assert.equal(words[EventWord.fee + 1], 0);
});
