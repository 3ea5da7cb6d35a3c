/**
 * A cluster member's /metrics: its transport's and consensus's counters (NAKs, resends,
 * drops, damaged datagrams, foreign messages, elections), read from the live totals when
 * scraped, so that a lossy or corrupting link shows while it lasts, not only in the log line
 * a member writes when it stops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { registerClusterMetrics } from '../../../src/pipeline/cluster-metrics.js';
import type { Consensus } from '../../../src/replication/consensus.js';
import { Role } from '../../../src/replication/messages.js';
import { UdpTransport } from '../../../src/replication/udp-transport.js';
import { seriesValue } from '../../harness/metrics-text.js';

test('transport and consensus counters are on /metrics, as they stand when scraped', async () => {
  const transport = new UdpTransport(1, [], () => {}, new Uint8Array(32)); // only its counters
  const stats = { entriesSent: 0, entriesResent: 0, foreignMessages: 0 };
  const consensus = {
    role: Role.Standby,
    term: 3,
    stats: { ...stats, termChanges: 3, elections: 1 },
  };
  const view = {
    id: 1,
    consensus: consensus as unknown as Consensus,
    committedSequence: 0,
    transportStats: transport.stats,
    memberIds: () => [1, 2, 3],
    otherVersions: () => [],
  };
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
