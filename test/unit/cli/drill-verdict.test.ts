/**
 * A drill's last word on stderr (verdict): every rule that failed is named, or it says that
 * every one held. Before, a drill that passed ended on its JSON and said nothing of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verdict, type HistoryFigures } from '../../../src/cli/drill.js';

const held: HistoryFigures = {
  acked: 13_504,
  lost: 0,
  duplicated: 0,
  takeover_ms_p50: 337,
  takeover_ms_p99: 353,
  takeover_ms_max: 353,
  replicas_identical: true,
  conserved: true,
  last_sequence: 13_811,
};

test('a drill whose every rule held says so', () => {
  assert.equal(
    verdict(held),
    'drill: passed: every rule held (13,504 acknowledged, none lost or twice)\n',
  );
});

test('a failed drill names every rule that failed, its own ones too', () => {
  const broken = { ...held, lost: 2, replicas_identical: false };
  assert.equal(
    verdict(broken, [[false, 'a former primary did not come back a standby']]),
    'drill: FAILED: 2 acknowledged command(s) lost; the replicas differ (hash chain or state); ' +
      'a former primary did not come back a standby\n',
  );
  assert.match(verdict({ ...held, duplicated: 1 }), /^drill: FAILED: 1 command\(s\) applied twice/);
  assert.match(verdict({ ...held, conserved: false }), /FAILED: the assets are not conserved\n$/);
});
