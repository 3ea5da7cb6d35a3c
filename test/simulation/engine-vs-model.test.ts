/**
 * The engine against the reference model, on seeded random workloads (fast-check prints the
 * seed and the shrunk operation list on failure; rerun with that seed to reproduce). After every
 * command: identical events, identical balances, conservation of every asset, an uncrossed book,
 * fills at the makers' prices within the takers' limits, and duplicates that change nothing. At
 * the end: the incremental checksum equals a full rescan, and a replica built from the journal
 * reaches the same checksum. See test/harness/model-run.ts.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { smallConfig } from '../harness/engine-driver.js';
import { opArbitrary } from '../harness/generators.js';
import { play } from '../harness/model-run.js';
import type { EngineConfig } from '../../src/constants.js';

const tight: EngineConfig = Object.freeze({
  ...smallConfig,
  accountCountMax: 8,
  orderCountMax: 8,
  levelCountMax: 6,
  levelsPerSideMax: 3,
  pendingCountMax: 3,
  clientCountMax: 2,
  idempotencyWindow: 4,
  chainLengthMax: 3,
  fillsPerCommandMax: 3,
  expiriesPerCommandMax: 1,
});

test('the engine agrees with the reference model on random workloads', () => {
  fc.assert(
    fc.property(fc.array(opArbitrary, { minLength: 20, maxLength: 150 }), (ops) => {
      play(smallConfig, ops);
    }),
    { numRuns: 200 },
  );
});

test('the engine agrees with the reference model when a CancelAll stops at its bounds', () => {
  // One fill, so one cancel and four looks per CancelAll: its bounds are reached often.
  const oneFill = { ...tight, orderCountMax: 16, fillsPerCommandMax: 1 };
  fc.assert(
    fc.property(fc.array(opArbitrary, { minLength: 20, maxLength: 120 }), (ops) => {
      play(oneFill, ops);
    }),
    { numRuns: 100 },
  );
});

test('the engine agrees with the reference model at tight capacities', () => {
  fc.assert(
    fc.property(fc.array(opArbitrary, { minLength: 20, maxLength: 120 }), (ops) => {
      play(tight, ops);
    }),
    { numRuns: 200 },
  );
});
