/**
 * The SDK keeps linked chains whole (src/client/chains.ts): single calls are held until the
 * call that closes their chain, a chain left open at the end of its tick is refused, and a
 * batch is cut into parts only between chains.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChainGather,
  chainLength,
  chainParts,
  type ChainMember,
} from '../../../src/client/chains.js';
import { CommandFlag } from '../../../src/protocol/command-layout.js';

const linked = { account: 1, flags: CommandFlag.Linked };
const closer = { account: 1 };

test('chainLength: a chain runs to its first command without the flag', () => {
  const list = [closer, linked, linked, closer, linked, closer];
  assert.deepEqual(
    list.map((_, i) => chainLength(list, i)),
    [1, 3, 2, 1, 2, 1],
  );
});

test('chainParts: parts of about the size asked, cut only between chains', () => {
  // Chains of 3, 1, 3, 2 (the last closes the list).
  const list = [linked, linked, closer, closer, linked, linked, closer, linked, closer];
  assert.deepEqual(chainParts(list, 2, 4), [3, 4, 2]);
  assert.deepEqual(chainParts(list, 100, 100), [9]);
  assert.deepEqual(chainParts(list, 1, 3), [3, 1, 3, 2]);
  assert.equal(
    (chainParts(list, 2, 4) as number[]).reduce((a, b) => a + b),
    list.length,
  );
  const tooLong = chainParts(list, 1, 2);
  assert.ok(tooLong instanceof RangeError);
  assert.match(tooLong.message, /\[0\]: a linked chain of 3 commands; at most 2/);
  // The limits are named: "at most 2" alone left the caller to guess which limit it was.
  assert.match(tooLong.message, /at most 2 \(inFlightMax: .* chainLengthMax members, 128/);
  // No chains: plain parts.
  const plain = Array(10).fill(closer);
  assert.deepEqual(chainParts(plain, 4, 8), [4, 4, 2]);
});

test('ChainGather: held until the closing call, then sent whole, in call order', async () => {
  const sent: ChainMember[][] = [];
  const gather = new ChainGather((members) => sent.push(members));
  const calls = [gather.add(5, linked), gather.add(5, linked)];
  assert.equal(gather.open, true);
  assert.equal(sent.length, 0, 'nothing sent while the chain is open');
  calls.push(gather.add(5, closer));
  assert.equal(gather.open, false);
  assert.equal(sent.length, 1);
  assert.deepEqual(
    sent[0].map((m) => m.fields),
    [linked, linked, closer],
  );
  sent[0].forEach((m, i) => m.resolve([{ sequence: i } as never]));
  const answers = await Promise.all(calls);
  assert.deepEqual(
    answers.map((a) => a[0].sequence),
    [0, 1, 2],
  );
});

test('ChainGather: a chain still open when its tick ends is refused, nothing sent', async () => {
  const sent: ChainMember[][] = [];
  const gather = new ChainGather((members) => sent.push(members));
  const first = gather.add(5, linked);
  const second = gather.add(5, linked);
  await assert.rejects(first, /linked chain of 2 calls refused, nothing sent: an await or the/);
  await assert.rejects(second, /the end of the tick came with the chain open/);
  await assert.rejects(second, /made with no await since its first call$/);
  assert.equal(sent.length, 0);
  assert.equal(gather.open, false);
  // The next chain, closed within its tick, goes.
  const next = [gather.add(5, linked), gather.add(5, closer)];
  assert.equal(sent.length, 1);
  sent[0].forEach((m) => m.resolve([]));
  await Promise.all(next);
});

test('ChainGather: a call of a chain refused before it is held refuses all of it', async () => {
  const sent: ChainMember[][] = [];
  const gather = new ChainGather((members) => sent.push(members));
  const bad = new TypeError("transfer: 'amount' is missing");
  // The middle call is refused: the one held and the one after it are refused too. (No await
  // between a chain's calls: a chain lives in one tick.)
  const first = gather.add(5, linked);
  const middle = gather.refuse(bad, { from: 1, linked: true });
  assert.equal(gather.open, true, 'the rest of the chain is still to come');
  const last = gather.add(5, closer);
  assert.equal(gather.open, false, 'its last call ended it');
  await assert.rejects(middle, /'amount' is missing/);
  await assert.rejects(first, /refused, nothing sent: one of its calls was refused \(transfer/);
  await assert.rejects(last, /linked chain refused, nothing sent: an earlier call of it was/);
  // The first call refused: the rest (protocol fields) is refused up to the closing call.
  const calls = [gather.refuse(bad, linked), gather.add(5, linked), gather.add(5, closer)];
  await assert.rejects(calls[0], TypeError);
  for (const call of calls.slice(1)) await assert.rejects(call, /an earlier call of it was/);
  // A refused call outside any chain changes nothing; the next chain goes.
  await assert.rejects(gather.refuse(bad, closer), TypeError);
  assert.equal(gather.open, false);
  const next = [gather.add(5, linked), gather.add(5, closer)];
  assert.equal(sent.length, 1);
  sent[0].forEach((m) => m.resolve([]));
  await Promise.all(next);
});
