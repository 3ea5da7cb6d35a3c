/**
 * An account's open orders (GET /orders, from the read model) are found through the account's
 * list of orders, not a walk of every book nor a pass over every record; they must come in the
 * order the walk gives them: instrument, buys then sells, best price first, then time priority
 * (an amend that lost priority keeps its id, so ids alone would misorder a level).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { smallConfig } from '../../harness/engine-driver.js';
import { opArbitrary } from '../../harness/generators.js';
import { playOps, start } from '../../harness/model-run.js';
import { openOrders } from '../../../src/pipeline/state-view.js';
import type { Engine } from '../../../src/engine/engine.js';
import type { Orders } from '../../../src/engine/order-book/orders.js';
import { buy, market, sell } from '../../harness/fixtures.js';

test("an account's open orders are the walk's, in the walk's order", () => {
  let compared = 0;
  fc.assert(
    fc.property(fc.array(opArbitrary, { minLength: 20, maxLength: 200 }), (ops) => {
      const run = start(smallConfig);
      playOps(run, ops);
      const all = openOrders(run.d.engine);
      for (const account of [1, 2, 3, 4, 5, 6, 8, 999]) {
        const mine = openOrders(run.d.engine, account);
        assert.deepEqual(
          mine,
          all.filter((row) => row.account === account),
          `account ${account}`,
        );
        compared += mine.length;
      }
    }),
    { numRuns: 300 },
  );
  assert.ok(compared > 100, `orders compared: ${compared}`);
});

test("an account's open orders are found without reading other accounts' orders", () => {
  // Account 10 rests three orders, at three prices; accounts 11 and 12 rest 300 others.
  const d = market();
  const mine = [buy(d, 10, 100, 10), buy(d, 10, 105, 10), sell(d, 10, 900, 10)];
  for (let i = 0; i < 150; i++) buy(d, 11, 200 + 5 * (i % 40), 10);
  for (let i = 0; i < 150; i++) sell(d, 12, 1_000 + 5 * (i % 40), 10);
  const ids = new Set(mine.map((events) => events[0].id));
  const touched = new Set<number>();
  const engine = Object.create(d.engine, { orders: { value: touching(d.engine, touched) } });
  const rows = openOrders(engine as Engine, 10);
  assert.deepEqual(new Set(rows.map((row) => row.id)), ids);
  const read = [...touched].map((o) => d.engine.orders.id(o));
  // A pass over the records read all 303 of them (each one's account, to keep its own).
  assert.ok(
    read.every((id) => ids.has(id)),
    `records read: ${read.length}`,
  );
});

/** The engine's orders, noting each order slot a method of them is asked about. */
function touching(engine: Engine, touched: Set<number>): Orders {
  const orders = engine.orders;
  return new Proxy(orders, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function' || name === 'firstOfAccount') return value;
      return (...args: unknown[]): unknown => {
        if (typeof args[0] === 'number') touched.add(args[0]);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
