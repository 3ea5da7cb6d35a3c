/**
 * The failover drill with real processes (bourse drill failover): three member processes, the
 * primary SIGKILLed twice under load and restarted, the second time on an empty folder (a lost
 * disk: it catches up from the others); nothing acknowledged is lost or applied twice, and
 * every replica ends with the same chain and state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drill } from '../../src/cli/drill.js';

test('drill: two SIGKILLs of the primary under load, one with its disk lost', async () => {
  const r = await drill({
    kills: 2,
    nodes: 3,
    seed: 11,
    accounts: 50,
    window: 32,
    loseDiskEvery: 2,
  });
  assert.equal(r.kills, 2);
  assert.equal(r.disks_lost, 1, 'the second killed member restarted on an empty folder');
  assert.ok(r.acked > 100, `load went on: ${r.acked} acknowledged`);
  assert.equal(r.lost, 0, 'no acknowledged command lost');
  assert.equal(r.duplicated, 0, 'no command applied twice');
  assert.equal(r.replicas_identical, true, 'same chain and state checksum on every replica');
  assert.equal(r.conserved, true, 'the asset is conserved');
  assert.ok(r.takeover_ms_max > 0 && r.takeover_ms_max < 30_000, 'each takeover was timed');
});
