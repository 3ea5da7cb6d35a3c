/**
 * The CLI's plain tables (drill results, keys list, replay's balances and books): numbers line
 * up on the right, words on the left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table } from '../../../src/cli/output.js';

test('table: a column of numbers is right-aligned, a column of words left-aligned', () => {
  const drill = table([
    { measure: 'kills (SIGKILL, victim: primary)', value: '2' },
    { measure: 'lost', value: '0' },
    { measure: 'takeover p50 / p99 / max (ms)', value: '163 / 189 / 189' },
  ]);
  assert.equal(
    drill,
    [
      'measure                           value',
      'kills (SIGKILL, victim: primary)  2',
      'lost                              0',
      'takeover p50 / p99 / max (ms)     163 / 189 / 189',
    ].join('\n'),
  );
  const balances = table([
    { account: 1, asset: 1, available: 14_469, held: 0 },
    { account: 12, asset: 2, available: -5, held: '-' },
  ]);
  assert.equal(
    balances,
    [
      'account  asset  available  held',
      '      1      1      14469     0',
      '     12      2         -5     -',
    ].join('\n'),
  );
  assert.equal(table([]), '(none)');
});

/**
 * The benches print the same table (bench/lib/table.ts), with a rule under the header and
 * their numbers with separators; a figure not measured is an empty cell, which leaves its
 * column of numbers on the right. Before, the benches had a table of their own that pushed
 * every column but the first right, words too.
 */
test('table: a rule under the header when asked; empty cells leave numbers on the right', () => {
  const bench = table(
    [
      { case: 'default, empty', stored_kb: '1,234', write_ms: '12.5', goal: '<= 100' },
      { case: 'large', stored_kb: '99', write_ms: '', goal: '' },
    ],
    true,
  );
  assert.equal(
    bench,
    [
      'case            stored_kb  write_ms  goal',
      '--------------  ---------  --------  ------',
      'default, empty      1,234      12.5  <= 100',
      'large                  99',
    ].join('\n'),
  );
});
