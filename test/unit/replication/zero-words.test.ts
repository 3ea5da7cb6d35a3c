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

/** Bytes whose 8-byte words are zero about half the time, of any length. */
const payloads = fc
  .array(fc.tuple(fc.boolean(), fc.uint8Array({ minLength: 8, maxLength: 8 })), { maxLength: 80 })
  .chain((words) =>
    fc.uint8Array({ maxLength: 7 }).map((tail) => {
      const out = new Uint8Array(words.length * 8 + tail.length);
      words.forEach(([zero, word], i) => (zero ? null : out.set(word, i * 8)));
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

test('zero words: a transfer-like event packs to about 60%', () => {
  const event = new Uint8Array(128);
  const dv = new DataView(event.buffer);
  for (const word of [0, 1, 2, 3, 4, 6, 7, 12]) dv.setUint32(word * 8, 1000 + word, true);
  const { packed } = pack(event);
  assert.equal(packed, 2 + 8 * 8);
});

test('zero words: malformed packed bytes give null or the length asked, never a throw', () => {
  // Whatever the bytes and lengths, the result is null or exactly `length` bytes (a datagram
  // cannot make the receiver throw or allocate past 64 bytes per packed byte, codec.ts); the
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
  assert.equal(unpackZeroWords(Uint8Array.of(0b11, 1, 2, 3, 4, 5, 6, 7, 8), 0, 9, 8), null);
  assert.equal(unpackZeroWords(Uint8Array.of(0), 0, 5, 8), null);
  assert.equal(unpackZeroWords(Uint8Array.of(1, 1, 2), 0, 3, 8), null);
  assert.equal(unpackZeroWords(Uint8Array.of(0, 9, 9), 0, 3, 9), null);
  assert.deepEqual(
    unpackZeroWords(Uint8Array.of(0, 9), 0, 2, 9),
    Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 9),
  );
});
