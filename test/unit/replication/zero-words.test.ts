/**
 * Zero-word suppression of entry payloads (src/replication/zero-words.ts): any bytes round-trip
 * exactly, a journal-like payload shrinks, and malformed packed bytes give null, never a throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  packedBytesMax,
  packZeroWords,
  unpackZeroWords,
} from '../../../src/replication/zero-words.js';

/** Bytes whose 8-byte words are zero (or repeat the word 128 bytes back) often, any length. */
const payloads = fc
  .array(fc.tuple(fc.nat(2), fc.uint8Array({ minLength: 8, maxLength: 8 })), { maxLength: 80 })
  .chain((words) =>
    fc.uint8Array({ maxLength: 7 }).map((tail) => {
      const out = new Uint8Array(words.length * 8 + tail.length);
      words.forEach(([how, word], i) => {
        if (how === 1) out.set(word, i * 8);
        if (how === 2 && i >= 16) out.copyWithin(i * 8, (i - 16) * 8, (i - 15) * 8);
      });
      out.set(tail, words.length * 8);
      return out;
    }),
  );

function pack(src: Uint8Array, offset = 0): { out: Uint8Array; packed: number } {
  const out = new Uint8Array(offset + packedBytesMax(src.byteLength));
  return { out, packed: packZeroWords(src, out, offset) };
}

test('zero words: any payload round-trips exactly, at any offset', () => {
  fc.assert(
    fc.property(payloads, fc.nat(9), (src, offset) => {
      const { out, packed } = pack(src, offset);
      assert.ok(packed <= packedBytesMax(src.byteLength));
      const back = unpackZeroWords(out, offset, packed, src.byteLength);
      assert.deepEqual(back, src);
    }),
    { numRuns: 500 },
  );
  // An unaligned view into a larger buffer packs the same as a copy of it.
  const big = new Uint8Array(100).map((_, i) => (i % 16 < 8 ? 0 : i));
  const view = big.subarray(3, 91);
  assert.deepEqual(pack(view).out, pack(view.slice()).out);
});

test('zero words: a run of transfer-like events packs to a fifth', () => {
  // Two events as a journal batch holds them: the second differs from the first in its
  // sequence, client seq, accounts and amount (5 words of 32).
  const events = new Uint8Array(256);
  const dv = new DataView(events.buffer);
  const fill = (e: number, sequence: number, account: number, amount: number): void => {
    dv.setUint32(e + 0, sequence, true); // sequence
    dv.setUint32(e + 8, 1_700_000_000, true); // timestamp (the batch's)
    dv.setUint32(e + 16, sequence - 10, true); // client seq
    dv.setUint32(e + 24, 7, true); // client id
    dv.setUint32(e + 28, 0x0505, true); // kind, command kind
    dv.setUint32(e + 36, 1, true); // ref (asset)
    dv.setUint32(e + 40, account, true); // account
    dv.setUint32(e + 48, account + 1, true); // counterparty
    dv.setUint32(e + 80, amount, true); // amount
  };
  fill(0, 100, 11, 5);
  fill(128, 101, 12, 6);
  const { packed } = pack(events);
  assert.equal(packed, 4 + 9 * 4 + 4 + 5 * 4, 'first: 9 words; second: 5');
  assert.ok(packed / 256 < 0.26);
});

test('zero words: fields that count up by one cost nothing from the third event on', () => {
  // Three events alike but for the sequence and the client seq, each one more than before:
  // the first goes as it is, the second sends the two words that moved, the third only its
  // mask (the line through the two before predicts both).
  const events = new Uint8Array(384);
  const dv = new DataView(events.buffer);
  for (let e = 0; e < 3; e++) {
    dv.setUint32(e * 128 + 0, 0xffff_fffe + e, true); // wraps modulo 2^32 at the third
    dv.setUint32(e * 128 + 16, 500 + e, true);
    dv.setUint32(e * 128 + 40, 77, true);
  }
  const { out, packed } = pack(events);
  assert.equal(packed, 4 + 3 * 4 + (4 + 2 * 4) + 4);
  assert.deepEqual(unpackZeroWords(out, 0, packed, events.byteLength), events);
});

test('zero words: malformed packed bytes give null or the length asked, never a throw', () => {
  // Whatever the bytes and lengths, the result is null or exactly `length` bytes (a datagram
  // cannot make the receiver throw or allocate past 32 bytes per packed byte, codec.ts); the
  // entry's hash, checked next, catches bytes that decode but are not the entry's.
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 64 }),
      fc.nat(70),
      fc.nat(600),
      (src, packed, length) => {
        const back = unpackZeroWords(src, 0, packed, length);
        if (back !== null) assert.equal(back.byteLength, length);
      },
    ),
    { numRuns: 1000 },
  );
  // A mask bit for a word past the end, a packed length past the buffer, a word cut short,
  // and a tail longer than the payload's.
  const words = Uint8Array.of(0b11, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8);
  assert.equal(unpackZeroWords(words, 0, 12, 4), null);
  assert.equal(unpackZeroWords(Uint8Array.of(0), 0, 5, 8), null);
  assert.equal(unpackZeroWords(Uint8Array.of(1, 0, 0, 0, 1, 2), 0, 6, 8), null);
  assert.equal(unpackZeroWords(Uint8Array.of(0, 0, 0, 0, 9, 9), 0, 6, 9), null);
  assert.equal(unpackZeroWords(Uint8Array.of(0, 0, 0), 0, 3, 9), null, 'a mask cut short');
  assert.deepEqual(
    unpackZeroWords(Uint8Array.of(0, 0, 0, 0, 9), 0, 5, 9),
    Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 9),
  );
  // Two groups: the second repeats the first but for its last word (bit 31 of its mask).
  const twoGroups = new Uint8Array(256).fill(7);
  twoGroups[255] = 8;
  const { out, packed } = pack(twoGroups);
  assert.equal(packed, 4 + 128 + 4 + 4);
  assert.deepEqual(unpackZeroWords(out, 0, packed, 256), twoGroups);
});
