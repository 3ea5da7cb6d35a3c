/**
 * An account's open orders (GET /orders, from the read model) are found through the account's
 * list of orders, not a walk of every book nor a pass over every record; they must come in the
 * order the walk gives them: instrument, buys then sells, best price first, then time priority
 * (an amend that lost priority keeps its id, so ids alone would misorder a level). A read
 * model's engine (a Replica's) ranks an account's orders in a level by their join stamps, and
 * walks no level: a level of 1M orders took 20 ms a query to walk from its head.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import { engineConfigDefault } from '../../../src/constants.js';
import { Replica } from '../../../src/pipeline/replay.js';
import { RecordBuffer } from '../../../src/stdx/records.js';
import { EventWord } from '../../../src/protocol/event-layout.js';
import { CommandKind } from '../../../src/protocol/command-layout.js';
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

/** Applies `d`'s journal from event `from` on to `engine`, as a replica does; returns its end. */
function follow(engine: Engine, d: EngineDriver, from: number): number {
  const one = RecordBuffer.allocate(1, EventWord.size * 4);
  for (let i = from; i < d.journal.length; i++) {
    one.u32.set(d.journal[i]);
    engine.apply(one, 0);
  }
  return d.journal.length;
}

/** A fresh replica restored from `engine`'s image (its arrays copied). */
function restored(engine: Engine): Replica {
  const image = engine.image();
  const arrays = image.arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const twin = new Replica(engine.config);
  twin.engine.restore(
    arrays.map((a) => a.slice()),
    [...image.counters],
    arrays.map((a) => a.byteLength),
  );
  return twin;
}

function assertSameAsWalk(engine: Engine, what: string): number {
  const all = openOrders(engine);
  let compared = 0;
  for (const account of [1, 2, 3, 4, 5, 6, 8, 999]) {
    const mine = openOrders(engine, account);
    assert.deepEqual(
      mine,
      all.filter((row) => row.account === account),
      `${what} ${account}`,
    );
    compared += mine.length;
  }
  return compared;
}

test("a replica's open orders are the walk's, replayed, restored and after both", () => {
  let compared = 0;
  const ops = fc.array(opArbitrary, { minLength: 20, maxLength: 150 });
  fc.assert(
    fc.property(ops, ops, (before, after) => {
      const run = start(smallConfig);
      playOps(run, before);
      const replica = new Replica(smallConfig);
      let at = follow(replica.engine, run.d, 0);
      compared += assertSameAsWalk(replica.engine, 'replayed');
      const twin = restored(replica.engine);
      compared += assertSameAsWalk(twin.engine, 'restored');
      playOps(run, after); // amends that lose priority move orders behind restored ones
      follow(twin.engine, run.d, at);
      at = follow(replica.engine, run.d, at);
      compared += assertSameAsWalk(replica.engine, 'replayed on');
      compared += assertSameAsWalk(twin.engine, 'restored, then on');
    }),
    { numRuns: 150 },
  );
  assert.ok(compared > 200, `orders compared: ${compared}`);
});

test("a replica finds an account's orders in a deep level without walking it", () => {
  const depth = 20_000;
  const d = market(engineConfigDefault, 1e12);
  const [first] = buy(d, 10, 500, 10);
  for (let i = 0; i < depth / 2; i++) buy(d, 11, 500, 10);
  const [middle] = buy(d, 10, 500, 10);
  for (let i = 0; i < depth / 2; i++) buy(d, 11, 500, 10);
  const [last] = buy(d, 10, 500, 10);
  // The first goes behind the last: a higher quantity loses priority and keeps its id.
  const amend = { kind: CommandKind.AmendOrder, account: 10, target: first.id, price: 500 };
  d.submit({ ...amend, quantity: 20 });
  const replica = new Replica(engineConfigDefault);
  follow(replica.engine, d, 0);
  let steps = 0;
  const engine = Object.create(replica.engine, {
    orders: { value: counting(replica.engine.orders, () => steps++) },
  });
  const level = replica.engine.orders.level(replica.engine.orders.slotOf(first.id));
  assert.equal(replica.engine.levels.orderCount(level), depth + 3, 'one level holds them all');
  const rows = openOrders(engine as Engine, 10);
  assert.deepEqual(
    rows.map((row) => row.id),
    [middle.id, last.id, first.id],
  );
  assert.deepEqual(
    rows,
    openOrders(replica.engine).filter((row) => row.account === 10),
  );
  assert.ok(steps <= rows.length, `steps along a level: ${steps}, for ${rows.length} orders`);
});

/** The engine's orders, counting each step along a level (`next`, `prev`). */
function counting(orders: Orders, step: () => void): Orders {
  return new Proxy(orders, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        if (name === 'next' || name === 'prev') step();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
