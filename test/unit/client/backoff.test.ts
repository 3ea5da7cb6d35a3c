/**
 * The SDK's reconnect backoff (client/backoff.ts) and Busy resend waits (busy-resend.ts) take
 * their bounds from src/constants.ts, where every limit lives (STYLE rule 1); they were
 * literals in those files (5/100 ms over a cluster, 25/1,000 ms to one node, 1/100 ms).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { reconnectPauseMs } from '../../../src/client/backoff.js';
import {
  sdkReconnectClusterCapMs,
  sdkReconnectClusterFirstMs,
  sdkReconnectNodeCapMs,
  sdkReconnectNodeFirstMs,
} from '../../../src/constants.js';

const unjittered = 0.5; // a draw of 0.5: the pause itself

test('reconnect rounds double from the first pause to the cap, as the constants say', () => {
  assert.equal(reconnectPauseMs(0, 3, 0, unjittered), sdkReconnectClusterFirstMs);
  assert.equal(reconnectPauseMs(3, 3, 0, unjittered), 2 * sdkReconnectClusterFirstMs);
  assert.equal(reconnectPauseMs(1, 3, 0, unjittered), 0, 'none within a round');
  assert.equal(reconnectPauseMs(3 * 30, 3, 0, unjittered), sdkReconnectClusterCapMs);
  assert.equal(reconnectPauseMs(0, 1, 0, unjittered), sdkReconnectNodeFirstMs);
  assert.equal(reconnectPauseMs(30, 1, 0, unjittered), sdkReconnectNodeCapMs);
  assert.equal(reconnectPauseMs(30, 1, 8_000, unjittered), 8_000, "a shed login's wait");
});

/** Fails on the old code: backoff.ts and busy-resend.ts held their bounds as literals. */
test('the backoff files hold no bound of their own', () => {
  for (const name of ['backoff.ts', 'busy-resend.ts']) {
    const url = new URL(`../../../../src/client/${name}`, import.meta.url);
    const code = readFileSync(url, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    const literals = code.match(/(?<![\w.])\d[\d_]*(?![\w.])/g) ?? [];
    const bounds = literals.filter((n) => Number(n.replace(/_/g, '')) > 2);
    assert.deepEqual(bounds, [], `${name}: numbers that belong in src/constants.ts`);
  }
});
