/**
 * The memory check counts what a node allocates at full size: three copies of the engine's
 * tables (state-memory.ts) and the read model's join stamps (Orders.joinedAt, 8 bytes an
 * order, kept by the read model alone and never snapshotted), which it left out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stateCopiesCount, stateMemoryPercentMax } from '../../../src/constants.js';
import { Engine } from '../../../src/engine/engine.js';
import { StorageError } from '../../../src/journal/journal-errors.js';
import {
  refuseStateTooLarge,
  stateBytes,
  testMemoryEnv,
} from '../../../src/pipeline/state-memory.js';
import { smallConfig } from '../../harness/engine-driver.js';

/** Runs `body` with the machine's memory said to be `bytes`. */
function withMemory(bytes: number, body: () => void): void {
  process.env[testMemoryEnv] = String(bytes);
  try {
    body();
  } finally {
    delete process.env[testMemoryEnv];
  }
}

/** The memory whose share holds exactly `needed` bytes. */
function memoryFor(needed: number): number {
  return Math.ceil((needed * 100) / stateMemoryPercentMax);
}

test("the memory check counts the read model's join stamps", () => {
  const engine = new Engine(smallConfig);
  const copies = stateBytes(engine) * stateCopiesCount;
  const stamps = smallConfig.orderCountMax * 8;
  withMemory(memoryFor(copies + stamps), () => refuseStateTooLarge(engine)); // fits
  // The copies alone fit here; with the stamps they do not.
  withMemory(memoryFor(copies + stamps) - 100, () =>
    assert.throws(
      () => refuseStateTooLarge(engine),
      (e) => e instanceof StorageError && /with the read model's join stamps/.test(e.message),
    ),
  );
  withMemory(memoryFor(copies), () => assert.throws(() => refuseStateTooLarge(engine)));
});
