/**
 * The repair on /metrics, on real members in one process: the primary's transport drops one
 * datagram in five under load, while a standby cut off for a while catches up; the standbys NAK
 * what they lack, and the primary resends. Before,
 * /metrics showed the standbys' NAKs sent but not the primary's side: how many resend requests
 * it took (bourse_replication_naks_received_total), so a lossy link to one standby showed only
 * on that standby. Now both sides show, and once the repair is quiet they agree: every NAK the
 * primary took was sent by a standby (loopback may lose one, never make one up).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, TransferLoad, transfers } from '../harness/cluster-driver.js';
import { seriesValue } from '../harness/metrics-text.js';
import { until } from '../harness/wait.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Member `id` on basePort + 2 (id - 1), its replication on the port after (30900-30905). */
const basePort = 30900;

/** Member `id`'s /metrics series `name` (NaN when it is not there). */
async function scraped(cluster: TestCluster, id: number, name: string): Promise<number> {
  const m = cluster.members[id - 1];
  const text = await (await fetch(`http://${m.host}:${m.port}/metrics`)).text();
  return seriesValue(text, name);
}

test('cluster: NAKs the standbys send, the primary shows received, and resends', () =>
  TestCluster.with(
    3,
    async (cluster) => {
      const client = await cluster.setUpClient(8, 400);
      const load = new TransferLoad(client);
      const primary = await cluster.primary();
      const standbys = cluster.nodes.filter((n) => n !== null && n !== primary) as ClusterNode[];
      // A standby cut off while the log grows is sent it in appends of many fragments when it
      // comes back: a gap in those is NAKed (a lost message of one fragment is not: consensus
      // resends it).
      standbys[0].partition();
      await sleep(1_500);
      const plan = cluster.faultPlan(primary.id);
      plan.drop = 0.2;
      standbys[0].heal();
      await sleep(2_000);
      plan.drop = 0;
      assert.equal(await load.stop(), null, 'every transfer answered Ok');
      await transfers(client, 1);
      const sent = async (): Promise<number> => {
        const each = standbys.map((n) =>
          scraped(cluster, n.id, 'bourse_replication_naks_sent_total'),
        );
        return (await Promise.all(each)).reduce((sum, v) => sum + v, 0);
      };
      // Quiet: every standby holds the primary's log, and no NAK was sent in the last 200 ms.
      let last = -1;
      await until('the repair is quiet', async () => {
        const now = await sent();
        const quiet = now === last;
        last = now;
        await sleep(200);
        const held = (n: ClusterNode) => n.consensus.durableIndex === primary.consensus.lastIndex;
        return quiet && standbys.every(held);
      });
      const received = await scraped(cluster, primary.id, 'bourse_replication_naks_received_total');
      const resent = await scraped(
        cluster,
        primary.id,
        'bourse_replication_fragments_resent_total',
      );
      const faults = await scraped(cluster, primary.id, 'bourse_replication_faults_injected_total');
      assert.ok(received > 0, `the primary took ${received} NAKs`);
      assert.ok(faults > 0, `the primary dropped ${faults} datagrams`);
      assert.ok(received <= last, `no more than the standbys sent (${received} of ${last})`);
      assert.ok(resent > 0, `and resent ${resent} fragments`);
      await client.close();
    },
    undefined,
    undefined,
    {},
    basePort,
  ));
