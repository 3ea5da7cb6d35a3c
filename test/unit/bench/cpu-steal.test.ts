import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCpuTimes, stealPercentSince } from '../../../bench/lib/cpu-steal.js';

test('steal is the stolen share of all CPU time between two readings', () => {
  const from = { steal: 100, total: 10_000 };
  assert.equal(stealPercentSince(from, { steal: 350, total: 11_000 }), 25);
  assert.equal(stealPercentSince(from, { steal: 100, total: 10_400 }), 0);
  assert.equal(stealPercentSince(from, { steal: 101, total: 10_300 }), 0.3, 'one decimal');
  assert.equal(stealPercentSince(from, from), 0, 'no time passed');
  assert.equal(stealPercentSince(null, from), null, 'unknown without a first reading');
  assert.equal(stealPercentSince(from, null), null, 'unknown without a second reading');
});

test('this machine reports its CPU times, steal included, and they only go up', () => {
  const first = readCpuTimes();
  if (first === null) return assert.equal(process.platform === 'linux', false, '/proc/stat');
  let spin = 0;
  for (let i = 0; i < 2e7; i++) spin += i; // let some CPU time pass
  const second = readCpuTimes();
  assert.ok(spin > 0 && second !== null);
  assert.ok(first.steal >= 0 && first.total > first.steal);
  assert.ok(second.total >= first.total && second.steal >= first.steal);
  const pct = stealPercentSince(first, second);
  assert.ok(pct !== null && pct >= 0 && pct <= 100);
});
