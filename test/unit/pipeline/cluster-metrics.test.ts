/**
 * A cluster member's /metrics: its transport's and consensus's counters (NAKs, resends,
 * drops, damaged datagrams, foreign messages, elections), read from the live totals when
 * scraped, so that a lossy or corrupting link shows while it lasts, not only in the log line
 * a member writes when it stops. And on a primary, each standby's lag, and whether it is
 * recovering (it lost its disk).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import {
  registerClusterMetrics,
  replicationLags,
  standbysSeen,
  type ClusterView,
} from '../../../src/pipeline/cluster-metrics.js';
import { MembersHeard } from '../../../src/pipeline/members-heard.js';
import { PrimaryClaim } from '../../../src/pipeline/primary-claim.js';
import type { Consensus } from '../../../src/replication/consensus.js';
import { Role, type Status } from '../../../src/replication/messages.js';
import { UdpTransport } from '../../../src/replication/udp-transport.js';
import { seriesValue } from '../../harness/metrics-text.js';

/** Member 1 of 3, its consensus `consensus` (the parts read), its transport's counters. */
function viewOf(consensus: object, transport: UdpTransport, claim: PrimaryClaim): ClusterView {
  return {
    id: 1,
    consensus: consensus as unknown as Consensus,
    committedSequence: 0,
    transportStats: transport.stats,
    memberIds: () => [1, 2, 3],
    otherVersions: () => [],
    claim,
  };
}

test('transport and consensus counters are on /metrics, as they stand when scraped', async () => {
  const transport = new UdpTransport(1, [], () => {}, new Uint8Array(32)); // only its counters
  const stats = { entriesSent: 0, entriesResent: 0, foreignMessages: 0 };
  const consensus = {
    role: Role.Standby,
    term: 3,
    stats: { ...stats, termChanges: 3, elections: 1 },
  };
  const view = viewOf(consensus, transport, new PrimaryClaim(1, [1, 2, 3]));
  const registry = new Registry();
  registerClusterMetrics(registry, view);
  const scrape = async (name: string): Promise<number> => {
    const value = seriesValue(await registry.metrics(), name);
    assert.ok(!Number.isNaN(value), `${name} is on /metrics`);
    return value;
  };
  assert.equal(await scrape('bourse_replication_checksum_failures_total'), 0);
  Object.assign(transport.stats, { checksumFailures: 7, naksSent: 4, fragmentsResent: 9 });
  transport.stats.messagesDropped = 11;
  consensus.stats.foreignMessages = 2;
  assert.equal(await scrape('bourse_replication_checksum_failures_total'), 7);
  assert.equal(await scrape('bourse_replication_naks_sent_total'), 4);
  assert.equal(await scrape('bourse_replication_fragments_resent_total'), 9);
  Object.assign(transport.stats, { nakWindowsFull: 5, resendsCoalesced: 8 });
  assert.equal(await scrape('bourse_replication_nak_windows_full_total'), 5);
  assert.equal(await scrape('bourse_replication_resends_coalesced_total'), 8);
  assert.equal(await scrape('bourse_replication_dropped_total'), 11);
  assert.equal(await scrape('bourse_replication_foreign_messages_total'), 2);
  assert.equal(await scrape('bourse_cluster_term_changes_total'), 3);
  assert.equal(await scrape('bourse_cluster_elections_total'), 1);
  assert.equal(await scrape('bourse_replication_other_version_total'), 0);
  const refused = transport.stats.refused as Record<string, number>;
  refused.address = 6;
  refused.mac = 5;
  refused.stale = 4;
  transport.stats.duplicates = 3;
  assert.equal(await scrape('bourse_replication_refused_total{reason="member"}'), 0);
  assert.equal(await scrape('bourse_replication_refused_total{reason="stale"}'), 4);
  assert.equal(await scrape('bourse_replication_duplicates_total'), 3);
  assert.equal(await scrape('bourse_replication_refused_total{reason="address"}'), 6);
  assert.equal(await scrape('bourse_replication_refused_total{reason="mac"}'), 5);
  transport.close();
});

/**
 * A recovering standby (it lost its disk) says nothing is durable past its commit, so its lag,
 * counted from its durable, took in every entry not committed when it last heard: it is counted
 * from what it has written, and /metrics says apart that it is recovering.
 */
test("a recovering standby's lag counts what it wrote; /metrics says it recovers", async () => {
  const term = 4;
  const durable = new Map([
    [2, 10],
    [3, 6], // recovering: its commit
  ]);
  const consensus = {
    role: Role.Primary,
    term,
    lastIndex: 12,
    stats: { entriesSent: 0, entriesResent: 0, foreignMessages: 0, termChanges: 0, elections: 0 },
    lastSequence: () => 120,
    durableAt: (id: number) => durable.get(id) ?? -1,
    entry: (index: number) => ({ last: index * 10 }), // 10 sequences an entry
  };
  const transport = new UdpTransport(1, [], () => {}, new Uint8Array(32)); // only its counters
  const claim = new PrimaryClaim(1, [1, 2, 3]);
  const view = viewOf(consensus, transport, claim);
  const said = (from: number, match: number, recovering: boolean): Status => {
    const fields = {
      cluster: 0,
      members: 7,
      term,
      from,
      ok: true,
      match,
      nak: 0,
      recovering,
      life: 0,
    };
    return { kind: 'status', ...fields, durable: durable.get(from) ?? 0 };
  };
  claim.status(said(2, 10, false), 0);
  claim.status(said(3, 12, true), 0); // written to the log's end, durable said only to 6
  assert.deepEqual(
    [...replicationLags(view)],
    [
      [2, 20],
      [3, 0],
    ],
  );
  const registry = new Registry();
  registerClusterMetrics(registry, view);
  const text = await registry.metrics();
  assert.equal(seriesValue(text, 'bourse_replication_recovering{member="2"}'), 0);
  assert.equal(seriesValue(text, 'bourse_replication_recovering{member="3"}'), 1);
  assert.equal(seriesValue(text, 'bourse_replication_lag_events{member="3"}'), 0);
  // /health's peers say it too, on the primary (before, they showed no such flag).
  const recoveringShown = (): (boolean | null)[] =>
    new MembersHeard([1, 2, 3]).peersOf(1, consensus.role, 1, standbysSeen(view), 0).map((p) => {
      return p.recovering;
    });
  assert.deepEqual(recoveringShown(), [false, true]);
  claim.status(said(3, 12, false), 0); // caught up: its durable counts again
  assert.equal(replicationLags(view).get(3), 60);
  claim.status(said(3, 12, true), 0);
  consensus.term = term + 1; // a status of an earlier term says nothing of this one
  assert.equal(replicationLags(view).get(3), 60);
  assert.deepEqual(recoveringShown(), [false, false], 'of this term, it said nothing yet');
  consensus.role = Role.Standby;
  assert.deepEqual(recoveringShown(), [null, null], 'a standby does not know');
  transport.close();
});
