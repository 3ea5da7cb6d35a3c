/**
 * Reads at a sequence (gateway/read-at.ts): `at` as a query gives it, and SequenceWaits, which
 * holds reads until the read model reaches their sequence, for a bounded time and number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readAtOf, SequenceWaits } from '../../../src/gateway/read-at.js';
import { readQueriesPendingMax } from '../../../src/constants.js';

test('`at`: absent, a sequence from 0 to 2^53 - 1, or refused', () => {
  assert.equal(readAtOf(undefined), null);
  assert.equal(readAtOf(''), null);
  assert.equal(readAtOf('0'), 0);
  assert.equal(readAtOf('42'), 42);
  assert.equal(readAtOf('9007199254740991'), 2 ** 53 - 1);
  for (const bad of ['-1', '+1', ' 1', '1e3', '0x10', '1.5', '9007199254740992', '1'.repeat(17)]) {
    assert.equal(typeof readAtOf(bad), 'string', bad);
  }
});

test('a wait ends once the read model reaches its sequence, or after the bound', async () => {
  let applied = 10;
  const waits = new SequenceWaits(() => applied);
  const ended: [string, boolean][] = [];
  assert.ok(waits.wait(12, (reached) => ended.push(['12', reached])) !== null);
  assert.ok(waits.wait(13, (reached) => ended.push(['13', reached])) !== null);
  const never = waits.wait(1_000, (reached) => ended.push(['1000', reached]));
  assert.ok(never !== null);
  assert.deepEqual(ended, [], 'never at once');
  applied = 12;
  while (ended.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.deepEqual(ended, [['12', true]]);
  applied = 20;
  while (ended.length === 1) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.deepEqual(ended, [
    ['12', true],
    ['13', true],
  ]);
  while (ended.length === 2) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(ended[2], ['1000', false], 'not reached: told so, once');
  assert.equal(waits.count, 0);
});

test('waits are bounded, and a cancelled one is not answered', async () => {
  const waits = new SequenceWaits(() => 0);
  const ended: number[] = [];
  const handles: object[] = [];
  for (let i = 0; i < readQueriesPendingMax; i++) {
    const handle = waits.wait(1 + i, () => ended.push(i));
    assert.ok(handle !== null);
    handles.push(handle);
  }
  assert.equal(
    waits.wait(1, () => ended.push(-1)),
    null,
    'one more is refused',
  );
  for (const handle of handles) waits.cancel(handle);
  assert.equal(waits.count, 0);
  const last = waits.wait(1, () => ended.push(-2));
  assert.ok(last !== null, 'room again');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(ended, [], 'cancelled: never answered; the last still waits');
  waits.cancel(handles[0]); // twice: nothing
  assert.equal(waits.count, 1);
  waits.cancel(last);
});
