/**
 * The dashboard's members table, read from the role's description and the node's own
 * Prometheus text (src/pipeline/cluster-metrics.ts writes the gauges it reads).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { membersOf } from '../../../src/gateway/dashboard/members.js';

const clusterMetrics = [
  '# HELP bourse_replication_lag_events On the primary: events ...',
  '# TYPE bourse_replication_lag_events gauge',
  'bourse_replication_lag_events{member="2"} 0',
  'bourse_replication_lag_events{member="3"} 1234',
  'bourse_cluster_term 4',
].join('\n');

test('a single node is one member, the primary, with no lag', () => {
  assert.deepEqual(membersOf({ role: 'primary' }, 'bourse_journal_events_total 9\n'), [
    { id: null, role: 'primary', self: true, lagEvents: 0 },
  ]);
});

test("a cluster's primary lists each standby with its replication lag", () => {
  assert.deepEqual(membersOf({ role: 'primary', member: 1, term: 4, primary: 1 }, clusterMetrics), [
    { id: 1, role: 'primary', self: true, lagEvents: 0 },
    { id: 2, role: 'standby', self: false, lagEvents: 0 },
    { id: 3, role: 'standby', self: false, lagEvents: 1234 },
  ]);
});

test('a standby knows its primary but not its own lag', () => {
  const describe = { role: 'standby', member: 2, term: 4, primary: 1 };
  assert.deepEqual(membersOf(describe, 'bourse_cluster_term 4\n'), [
    { id: 2, role: 'standby', self: true, lagEvents: null },
    { id: 1, role: 'primary', self: false, lagEvents: 0 },
  ]);
  const leaderless = { role: 'candidate', member: 2, term: 5, primary: -1 };
  assert.deepEqual(membersOf(leaderless, ''), [
    { id: 2, role: 'candidate', self: true, lagEvents: null },
  ]);
});
