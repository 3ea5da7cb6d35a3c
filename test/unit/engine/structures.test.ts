import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Levels } from '../../../src/engine/order-book/levels.js';
import { StateChecksum } from '../../../src/engine/checksum.js';
import { Accounts } from '../../../src/engine/ledger/accounts.js';
import { smallConfig } from '../../harness/engine-driver.js';
import { AssertionError } from '../../../src/stdx/assert.js';
import { engineConfigProblem } from '../../../src/constants.js';

test('each book side stays sorted with the best level last, through inserts and removals', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 40 }), fc.constantFrom(0, 1)), {
        maxLength: 200,
      }),
      (ops) => {
        const levels = new Levels({ ...smallConfig, levelsPerSideMax: 64, levelCountMax: 128 });
        const live = [new Map<number, number>(), new Map<number, number>()];
        for (const [add, price, side] of ops) {
          const s = 2 + side; // instrument 1
          const present = live[side].get(price);
          if (add && present === undefined && levels.hasRoom(s))
            live[side].set(price, levels.insert(s, price));
          else if (!add && present !== undefined) {
            levels.remove(s, present);
            live[side].delete(price);
          }
          for (const sd of [0, 1]) {
            const prices = [...live[sd].keys()].sort((a, b) => a - b);
            const best = levels.best(2 + sd);
            if (prices.length === 0) assert.equal(best, -1);
            else assert.equal(levels.price(best), sd === 0 ? prices[prices.length - 1] : prices[0]);
            for (const p of prices) assert.equal(levels.find(2 + sd, p), live[sd].get(p));
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('the checksum does not depend on the order of changes', () => {
  const a = new StateChecksum();
  const b = new StateChecksum();
  a.changeField(1, 2, 0, 0, 10);
  a.changeField(3, 4, 1, 0, 2 ** 40);
  a.changeField(1, 2, 0, 10, 7);
  b.changeField(3, 4, 1, 0, 2 ** 40);
  b.changeField(1, 2, 0, 0, 7);
  assert.ok(a.equals(b));
  assert.equal(a.hex(), b.hex());
});

test('the checksum sees one changed value, even a difference of exactly 2^32', () => {
  const base = new StateChecksum();
  base.changeField(5, 6, 0, 0, 1_000);
  const changed = new StateChecksum();
  changed.changeField(5, 6, 0, 0, 1_000 + 2 ** 32);
  const other = new StateChecksum();
  other.changeField(5, 6, 1, 0, 1_000); // same value, another field
  assert.notEqual(base.hex(), changed.hex());
  assert.notEqual(base.hex(), other.hex());
});

test('stored() agrees with changeField for values read in place', () => {
  const values = new Float64Array([0, 3 * 2 ** 45 + 17]);
  const viaStored = new StateChecksum();
  viaStored.stored(7, 8, 2, values, 1, 1);
  const viaChange = new StateChecksum();
  viaChange.changeField(7, 8, 2, 0, values[1]);
  assert.ok(viaStored.equals(viaChange));
  viaStored.stored(7, 8, 2, values, 1, -1);
  assert.equal(viaStored.hex(), '0000000000000000');
});

test('write() stores the staged value and agrees with stored() around a store', () => {
  const word = fc.oneof(
    fc.integer({ min: 0, max: 2 ** 32 }),
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  );
  fc.assert(
    fc.property(fc.integer(), fc.integer(), fc.nat(40), word, word, (a, b, field, x, y) => {
      const viaStored = new StateChecksum();
      const viaWrite = new StateChecksum();
      const left = new Float64Array([5, x]);
      const right = new Float64Array([5, x]);
      viaStored.stored(a | 0, b | 0, field, left, 1, -1);
      left[1] = y;
      viaStored.stored(a | 0, b | 0, field, left, 1, 1);
      viaWrite.staged[0] = y;
      viaWrite.write(a | 0, b | 0, field, right, 1);
      assert.equal(right[1], y);
      assert.equal(viaWrite.hex(), viaStored.hex());
      // Writing the old value back undoes the change exactly.
      viaWrite.staged[0] = x;
      viaWrite.write(a | 0, b | 0, field, right, 1);
      assert.equal(viaWrite.hex(), '0000000000000000');
    }),
    { seed: 20261202, numRuns: 2000 },
  );
});

test('moveAvailable and moveHeld change one balance and the checksum as move does', () => {
  const amount = fc.integer({ min: -(2 ** 40), max: 2 ** 40 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), amount), { maxLength: 30 }), (ops) => {
      const sumMove = new StateChecksum();
      const sumOne = new StateChecksum();
      const viaMove = new Accounts(smallConfig, sumMove);
      const viaOne = new Accounts(smallConfig, sumOne);
      for (const accounts of [viaMove, viaOne]) {
        accounts.create(7);
        accounts.move(0, 1, 2 ** 41, 2 ** 41);
      }
      for (const [held, delta] of ops) {
        const before = held ? viaMove.held(0, 1) : viaMove.available(0, 1);
        if (before + delta < 0) continue; // below zero: refused, as asserted below
        if (held) {
          viaMove.move(0, 1, 0, delta);
          viaOne.moveHeld(0, 1, delta);
        } else {
          viaMove.move(0, 1, delta, 0);
          viaOne.moveAvailable(0, 1, delta);
        }
        assert.equal(viaOne.available(0, 1), viaMove.available(0, 1));
        assert.equal(viaOne.held(0, 1), viaMove.held(0, 1));
      }
      assert.equal(viaOne.available(0, 2), 0);
      assert.equal(viaOne.held(0, 2), 0);
      assert.equal(sumOne.hex(), sumMove.hex());
    }),
    { seed: 20261206, numRuns: 500 },
  );
  // Neither takes a balance below zero (the ledger invariant, asserted where it changes).
  const accounts = new Accounts(smallConfig, new StateChecksum());
  accounts.create(7);
  accounts.move(0, 1, 5, 5);
  assert.throws(() => accounts.moveAvailable(0, 1, -6), AssertionError);
  assert.throws(() => accounts.moveHeld(0, 1, -6), AssertionError);
});

test('hold moves between available and held, with the checksum of move(-x, x)', () => {
  const amount = fc.integer({ min: -(2 ** 45), max: 2 ** 45 });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 2 }), amount), { maxLength: 30 }),
      (ops) => {
        const sumMove = new StateChecksum();
        const sumHold = new StateChecksum();
        const viaMove = new Accounts(smallConfig, sumMove);
        const viaHold = new Accounts(smallConfig, sumHold);
        for (const accounts of [viaMove, viaHold]) {
          accounts.create(7);
          accounts.move(0, 1, 2 ** 46, 2 ** 46);
          accounts.move(0, 2, 2 ** 46, 2 ** 46);
        }
        for (const [asset, x] of ops) {
          const available = viaMove.available(0, asset) - x;
          if (available < 0 || viaMove.held(0, asset) + x < 0) continue; // refused, as below
          viaMove.move(0, asset, -x, x);
          viaHold.hold(0, asset, x);
          assert.equal(viaHold.available(0, asset), viaMove.available(0, asset));
          assert.equal(viaHold.held(0, asset), viaMove.held(0, asset));
        }
        assert.equal(sumHold.hex(), sumMove.hex());
      },
    ),
    { seed: 20261206, numRuns: 500 },
  );
  const accounts = new Accounts(smallConfig, new StateChecksum());
  accounts.create(7);
  accounts.move(0, 1, 5, 5);
  assert.throws(() => accounts.hold(0, 1, 6), AssertionError);
  assert.throws(() => accounts.hold(0, 1, -6), AssertionError);
});

test('levels: at most 2^27 slots, so that (slot << 3) | field indexes a record', () => {
  const config = { ...smallConfig, levelCountMax: 2 ** 27 + 1 };
  assert.throws(() => new Levels(config), AssertionError);
});

test('config: id maps hold at most 2^29 keys (accounts, pending transfers, clients)', () => {
  const why = /accounts, pending transfers and clients at most 2\^29 each/;
  for (const big of [
    { accountCountMax: 2 ** 29 + 1, assetCountMax: 2 },
    { pendingCountMax: 2 ** 29 + 1 },
    { clientCountMax: 2 ** 29 },
  ]) {
    assert.match(engineConfigProblem({ ...smallConfig, ...big }) ?? '', why);
  }
  assert.doesNotMatch(engineConfigProblem(smallConfig) ?? '', why);
});

test('config: orders above 2^27 are refused as a config problem, not met by an assert', () => {
  // Orders asserts orderCountMax <= 2^27 ((slot << 4) | field), and levels are at most orders:
  // a config past it passed engineConfigProblem (so `--orders-max`, checked by it), and the
  // engine's start failed on the assert instead of a CONFIG_REFUSED naming the capacity.
  const why = /orders at most 2\^27/;
  const big = { ...smallConfig, orderCountMax: 2 ** 27 + 1 };
  assert.match(engineConfigProblem(big) ?? '', why);
  assert.doesNotMatch(engineConfigProblem({ ...smallConfig, orderCountMax: 2 ** 27 }) ?? '', why);
});
