/**
 * An account's open orders (GET /orders, from the read model) are found by one pass over the
 * order records, not a walk of every book; they must come in the order the walk gives them:
 * instrument, buys then sells, best price first, then time priority (an amend that lost
 * priority keeps its id, so ids alone would misorder a level).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { smallConfig } from '../../harness/engine-driver.js';
import { opArbitrary } from '../../harness/generators.js';
import { playOps, start } from '../../harness/model-run.js';
import { openOrders } from '../../../src/pipeline/state-view.js';

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
