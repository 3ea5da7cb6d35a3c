/**
 * Trade privacy is written twice, over bytes (streams, binary answers) and over decoded events
 * (HTTP): both must clear the same fields, so that a side hidden on one path is hidden on all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind, EventWord } from '../../../src/protocol/event-layout.js';
import { readEvent } from '../../../src/protocol/event-reader.js';
import {
  hideMaker,
  hideMakerOf,
  hideTaker,
  ownSideOf,
} from '../../../src/gateway/trade-privacy.js';

/** A Trade between accounts 11 (taker) and 22 (maker), every other word non-zero. */
function trade(): Uint32Array {
  const u32 = new Uint32Array(EventWord.size);
  for (let w = 0; w < EventWord.size; w++) u32[w] = 1000 + w;
  u32[EventWord.kindStatus] = EventKind.Trade;
  u32.set([11, 0], EventWord.account);
  u32.set([22, 0], EventWord.counterparty);
  return u32;
}

test('the byte and the decoded versions of trade privacy clear the same fields', () => {
  const maker = trade();
  hideMaker(new Uint8Array(maker.buffer), 0);
  assert.deepEqual(hideMakerOf(readEvent(trade(), 0)), readEvent(maker, 0), 'maker hidden');
  assert.deepEqual(ownSideOf(readEvent(trade(), 0), 11), readEvent(maker, 0), "the taker's side");
  const taker = trade();
  hideTaker(new Uint8Array(taker.buffer), 0);
  assert.deepEqual(ownSideOf(readEvent(trade(), 0), 22), readEvent(taker, 0), "the maker's side");
});
