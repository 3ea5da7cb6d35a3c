/**
 * A batch's field names are checked in every command, not only the first: a misspelt `flag` on
 * a later one went out without its Sell. Commands with the same names are walked against the
 * last one's; a command built otherwise (other names, another order) is looked up name by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchCommandError } from '../../../src/client/input-check.js';
import { CommandKind } from '../../../src/protocol/command-layout.js';

type Fields = Parameters<typeof batchCommandError>[1][number];

function firstError(list: readonly Fields[]): string | null {
  const keys: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const error = batchCommandError(CommandKind.PlaceOrder, list, i, keys);
    if (error !== null) return error.message;
  }
  return null;
}

const order = { account: 1, target: 7, quantity: 10, price: 100, flags: 1 };

test('every command of a batch has its names checked, wherever it stands', () => {
  const misspelt = { account: 1, target: 7, quantity: 10, price: 100, flag: 1 };
  assert.match(firstError([order, order, order, misspelt]) ?? '', /^\[3\]\.flag: not a command/);
  assert.match(firstError([misspelt, order]) ?? '', /^\[0\]\.flag: not a command/);
  // Same names, one more: the extra one is looked up.
  const extra = { ...order, sid: 2 };
  assert.match(firstError([order, extra]) ?? '', /^\[1\]\.sid: not a command/);
});

test('commands built otherwise (other order, fewer names) pass when their names do', () => {
  const reordered = { price: 100, account: 1, quantity: 10, target: 7 };
  const fewer = { account: 1, target: 7, quantity: 10 };
  assert.equal(firstError([order, reordered, fewer, order, {}]), null);
  // Bad values are still found after a change of names.
  assert.match(firstError([order, fewer, { ...fewer, quantity: 1.5 }]) ?? '', /\[2\]\.quantity/);
});
