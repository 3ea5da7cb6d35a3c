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
  replicationRecovering,
  standbysSeen,
  type ClusterView,
} from '../../../src/pipeline/cluster-metrics.js';
import { MembersHeard } from '../../../src/pipeline/members-heard.js';
import type { Consensus } from '../../../src/replication/consensus.js';
import { Role } from '../../../src/replication/messages.js';
import { UdpTransport } from '../../../src/replication/udp-transport.js';
import { seriesValue } from '../../harness/metrics-text.js';
import { primaryOver, reelected, statusOf } from '../../harness/primary-consensus.js';

/** Member 1 of 3, its consensus `consensus` (the parts read), its transport's counters. */
function viewOf(consensus: object, transport: UdpTransport): ClusterView {
  return {
    id: 1,
    consensus: consensus as unknown as Consensus,
    committedSequence: 0,
    transportStats: transport.stats,
    memberIds: () => [1, 2, 3],
    otherVersions: () => [],
  };
}

test('transport and consensus counters are on /metrics, as they stand when scraped', async () => {
  const transport = new UdpTransport(1, [], () => {}, new Uint8Array(32)); // only its counters
  const stats = { entriesSent: 0, entriesResent: 0, foreignMessages: 0 };
  const consensus = {
    role: Role.Standby,
    term: 3,
    stats: { ...stats, termChanges: 3, elections: 1, votesNotOurs: 0 },
  };
  const view = viewOf(consensus, transport);
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
  // Kept, but before only logged when the member stopped: the primary's side of the repair,
  // whole messages, the peers' addresses, injected faults, entries sent, votes not ours.
  const more = { naksReceived: 12, messagesReceived: 13, connectFailures: 14 };
  Object.assign(transport.stats, { ...more, unconnectedDrops: 15, peersMoved: 16 });
  Object.assign(transport.stats, { faultsInjected: 17 });
  Object.assign(consensus.stats, { entriesSent: 18, votesNotOurs: 19 });
  const names = ['naks_received', 'messages_received', 'connect_failures', 'unconnected_drops'];
  names.push('peers_moved', 'faults_injected', 'entries_sent', 'votes_not_ours');
  // And the peers' probes, and appends sent in another standby's bytes (kept, never shown).
  Object.assign(transport.stats, { probesReceived: 20, appendsShared: 21 });
  names.push('probes_received', 'appends_shared');
  for (const [i, name] of names.entries()) {
    assert.equal(await scrape(`bourse_replication_${name}_total`), 12 + i, name);
  }
  transport.close();
});

/**
 * A recovering standby (it lost its disk) says nothing is durable past its commit, so its lag,
 * counted from its durable, took in every entry not committed when it last heard: it is counted
 * from what it has written, and /metrics says apart that it is recovering. Both are read from
 * the primary's consensus (writtenAt, recoveringAt), here a real one over 12 entries of 10
 * sequences, told the standbys' statuses.
 */
test("a recovering standby's lag counts what it wrote; /metrics says it recovers", async () => {
  const consensus = primaryOver(12, 10);
  const term = consensus.term;
  const transport = new UdpTransport(1, [], () => {}, new Uint8Array(32)); // only its counters
  const view = viewOf(consensus, transport);
  consensus.receive(statusOf(2, term, { match: 10 }));
  // Written to the log's end, durable said only to its commit (6).
  consensus.receive(statusOf(3, term, { match: 12, durable: 6, recovering: true }));
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
  consensus.receive(statusOf(3, term, { match: 12, durable: 6 })); // caught up: durable counts
  assert.equal(replicationLags(view).get(3), 60);
  consensus.receive(statusOf(3, term, { match: 12, durable: 6, recovering: true }));
  reelected(consensus); // a status of an earlier term says nothing of this one
  assert.equal(replicationLags(view).get(3), 120, 'nothing heard of it in this term');
  assert.deepEqual(recoveringShown(), [false, false], 'of this term, it said nothing yet');
  consensus.receive(statusOf(2, consensus.term + 1, { match: 0, ok: false })); // deposed
  assert.deepEqual(recoveringShown(), [null, null], 'a standby does not know');
  transport.close();
});

/**
 * A status read late (sent before one read already: datagrams overtake each other on a lossy
 * link) names less than the standby has written, and one naming past the primary's log is not
 * of its term (consensus drops it). Neither takes back what /metrics says: consensus keeps a
 * standby's match as the most any status in order said. Before, primary-claim.ts kept its own
 * copy of each standby's last status read, whatever it was: the stale status counted the lag
 * from entry 8 (40), and the one past the log showed it not recovering (its lag then 60).
 */
test('a status read late, or past the log, takes back neither its lag nor recovering', () => {
  const consensus = primaryOver(12, 10);
  const term = consensus.term;
  const transport = new UdpTransport(1, [], () => {}, new Uint8Array(32)); // only its counters
  const view = viewOf(consensus, transport);
  const recovering = { durable: 6, recovering: true };
  consensus.receive(statusOf(3, term, { match: 12, ...recovering }));
  consensus.receive(statusOf(3, term, { match: 8, ...recovering })); // sent before: read late
  assert.equal(replicationLags(view).get(3), 0, 'it has written the whole log');
  consensus.receive(statusOf(3, term, { match: 8, ...recovering, ok: false, nak: 12 }));
  assert.equal(replicationLags(view).get(3), 0, 'a NAK read late neither');
  consensus.receive(statusOf(3, term, { match: 13, durable: 6 })); // past the log: garbage
  assert.equal(replicationRecovering(view).get(3), true, 'still recovering');
  assert.equal(replicationLags(view).get(3), 0);
  // The other way: a NAK names entries written (9-12) that no ok status named yet (lost on
  // the way). Counted only once an ok status says so (its answer to the next heartbeat, 30 ms
  // on): the lag shows what the primary's replication has taken as written, which it resends
  // from when stuck (peer.ts rewindStuck), not news it does not act on.
  const other = primaryOver(12, 10);
  const otherView = viewOf(other, transport);
  other.receive(statusOf(3, term, { match: 8, ...recovering }));
  other.receive(statusOf(3, term, { match: 12, ...recovering, ok: false, nak: 12 }));
  assert.equal(replicationLags(otherView).get(3), 40, 'not yet taken as written');
  other.receive(statusOf(3, term, { match: 12, ...recovering }));
  assert.equal(replicationLags(otherView).get(3), 0);
  transport.close();
});
