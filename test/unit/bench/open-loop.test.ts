/** The open loop's schedule: command i goes at i / rate, not one interval later. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dueBy } from '../../../bench/lib/open-loop.js';

test('open loop: command i is due at i / rate', () => {
  const perMs = 0.001; // 1 a second
  assert.equal(dueBy(0, perMs), 1, 'command 0 at the start');
  assert.equal(dueBy(999.9, perMs), 1, 'command 1 not before 1 s');
  assert.equal(dueBy(1000, perMs), 2, 'command 1 at 1 s');
  assert.equal(dueBy(2500, 2), 5001, 'at 2,000/s, 2.5 s in: commands 0 to 5,000');
});
