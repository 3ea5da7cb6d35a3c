/**
 * Reads at a sequence (gateway/read-at.ts): `at` as a query gives it, and SequenceWaits, which
 * holds reads until the read model reaches their sequence, for a bounded time and number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readAtOf, SequenceWaits } from '../../../src/gateway/read-at.js';
import { readAtWaitsPerAddressMax, readQueriesPendingMax } from '../../../src/constants.js';

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
  assert.equal(typeof waits.wait(12, 'a', (reached) => ended.push(['12', reached])), 'object');
  assert.equal(typeof waits.wait(13, 'a', (reached) => ended.push(['13', reached])), 'object');
  const never = waits.wait(1_000, 'a', (reached) => ended.push(['1000', reached]));
  assert.equal(typeof never, 'object');
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
    const handle = waits.wait(1 + i, `10.0.0.${i % 16}`, () => ended.push(i));
    assert.ok(typeof handle === 'object');
    handles.push(handle);
  }
  assert.equal(
    waits.wait(1, '10.0.1.1', () => ended.push(-1)),
    'busy: too many reads waiting for a sequence',
    'one more is refused, from any address',
  );
  for (const handle of handles) waits.cancel(handle);
  assert.equal(waits.count, 0);
  const last = waits.wait(1, 'a', () => ended.push(-2));
  assert.ok(typeof last === 'object', 'room again');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(ended, [], 'cancelled: never answered; the last still waits');
  waits.cancel(handles[0]); // twice: nothing
  assert.equal(waits.count, 1);
  waits.cancel(last);
});

// GET /book needs no key: one address asking far-off sequences held every wait (5 s each),
// and reads at a sequence from everyone else were refused READ_BUSY.
test('one address holds at most readAtWaitsPerAddressMax waits; others still wait', async () => {
  let applied = 0;
  const waits = new SequenceWaits(() => applied);
  const ended: string[] = [];
  const far = 2 ** 53 - 1;
  const handles: object[] = [];
  for (let i = 0; i < readAtWaitsPerAddressMax; i++) {
    const handle = waits.wait(far, 'a', () => ended.push('a'));
    assert.ok(typeof handle === 'object', 'the address may wait up to its max');
    handles.push(handle);
  }
  const refused = waits.wait(far, 'a', () => ended.push('refused'));
  assert.equal(typeof refused, 'string', 'one more from it is refused');
  assert.match(refused as string, /reads from your address wait for a sequence already/);
  const other = waits.wait(1, 'b', (reached) => ended.push(`b ${reached}`));
  assert.equal(typeof other, 'object', 'another address still waits');
  waits.cancel(handles[0]);
  const again = waits.wait(far, 'a', () => ended.push('a again'));
  assert.equal(typeof again, 'object', 'a cancelled wait gives its address room again');
  applied = 1;
  while (ended.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.deepEqual(ended, ['b true']);
  assert.equal(typeof waits.wait(2, 'b', () => ended.push('b2')), 'object', 'b answered: room');
  for (const handle of [...handles.slice(1), again]) waits.cancel(handle as object);
  assert.equal(waits.count, 1);
  applied = 2;
  while (ended.length === 1) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.deepEqual(ended, ['b true', 'b2']);
  assert.equal(waits.count, 0);
});
