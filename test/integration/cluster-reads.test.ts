/**
 * What a cluster member's HTTP reads may show (docs/PROTOCOL.md, "Readiness"; docs/ROLES.md):
 *
 * - a member not ready for reads (a restarted standby replaying its journal from an old
 *   snapshot) answers them 503 with the reason /ready?for=reads gives, not 200 far behind;
 * - the primary's reads show only what a majority holds: a command durable on the primary
 *   alone (its standbys cut off) is not read there until it is committed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster } from '../harness/cluster-driver.js';
import { until } from '../harness/wait.js';
import { electionTimeoutTicksMin, replicationTickMs } from '../../src/constants.js';
import { ProgressSlot } from '../../src/journal/journal-progress.js';
import { Status } from '../../src/protocol/status.js';
import type { ClusterMember, ClusterNode } from '../../src/pipeline/cluster-node.js';

interface Read {
  status: number;
  sequence: number;
  reason?: string;
  balances?: unknown;
}

async function getJson(m: ClusterMember, path: string): Promise<Read> {
  const res = await fetch(`http://${m.host}:${m.port}${path}`);
  return { status: res.status, ...((await res.json()) as Omit<Read, 'status'>) };
}

/**
 * The lag /ready allows, given smaller than readyLagEventsMax (65,536) so that the journal is
 * left that far behind with fewer transfers: 90,000 of them took 17 s of this test in CI.
 */
const readyLagEventsMax = 1_024;
/** Transfers left in the journal past the restart's snapshot: more than the lag ready allows. */
const transfersBehind = 10_000;

test('a restarted standby answers reads 503 until it is ready for them', async () => {
  const limits = { readyLagEventsMax };
  await TestCluster.with(
    3,
    async (cluster) => {
      // Fewer than snapshotAtStopSequencesMin, so that its stop takes no snapshot: the restart
      // loads none and replays its whole journal, far behind its commit meanwhile.
      assert.ok(transfersBehind > readyLagEventsMax);
      const client = await cluster.setUpClient(51, 5);
      const primary = await cluster.primary();
      const transfer = { account: 1, target: 2, ref: 1, quantity: 1 };
      const r = await client.transferBatch(Array<typeof transfer>(transfersBehind).fill(transfer));
      assert.equal(r.rejected, 0);
      const last = r.sequence[r.count - 1];
      assert.ok(last - r.sequence[0] >= readyLagEventsMax, 'the load passed the lag allowed');
      await client.close();
      const standby = cluster.nodes.find((n) => n !== null && n !== primary) as ClusterNode;
      const m = cluster.members[standby.id - 1];
      const expected = await cluster.balancesAt(standby.id, last); // its journal holds it all
      await standby.stop();
      cluster.nodes[standby.id - 1] = null;
      cluster.nodes[standby.id - 1] = await cluster.boot(standby.id, false);
      // From the moment its port opens: 503 with a reason, until the first 200.
      const refused = new Set<string>();
      let read: Read = { status: 0, sequence: -1 };
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        read = await getJson(m, '/balances?account=1');
        if (read.status === 200) break;
        assert.equal(read.status, 503, 'not ready: 503');
        assert.equal(typeof read.reason, 'string', 'with the reason /ready gives');
        refused.add(read.reason as string);
      }
      assert.equal(read.status, 200, 'ready at last');
      // The first 200 stands within the lag /ready allows of what it had committed.
      assert.ok(read.sequence >= last - readyLagEventsMax, `first read at ${read.sequence}`);
      assert.ok(refused.size > 0, 'refused while replaying its journal');
      for (const reason of refused) {
        assert.match(
          reason,
          /^(no primary known|primary silent|catching up|election under way)$/,
          reason,
        );
      }
      const ready = await getJson(m, '/ready?for=reads');
      assert.equal(ready.status, 200, '/ready?for=reads agrees');
      assert.deepEqual(await cluster.balancesAt(standby.id, last), expected);
    },
    undefined,
    undefined,
    limits,
  );
});

test("the primary's reads show only what a majority holds", async () => {
  await TestCluster.with(3, async (cluster) => {
    const client = await cluster.setUpClient(52, 20);
    const primary = await cluster.primary();
    const p = cluster.members[primary.id - 1];
    const [first] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    const before = await cluster.balancesAt(primary.id, first.sequence);
    const node = primary.node!;
    const durable = (): number => node.progress.get(ProgressSlot.sequenceDurable);
    await until('the first transfer is durable on the primary', () => durable() >= first.sequence);
    const durableBefore = durable();
    // The standbys cut off: the primary journals the next transfer alone, and never hears
    // that a majority holds it (it steps down after an election timeout, 0.5 s at the least).
    const standbys = cluster.nodes.filter((n) => n !== null && n !== primary) as ClusterNode[];
    for (const s of standbys) s.partition();
    const second = client.transfer({ account: 1, target: 2, ref: 1, quantity: 7 });
    await until('the second is durable on the primary alone', () => durable() > durableBefore);
    const cutoff = Date.now() + 200; // the read model had long applied it, behind the journal
    while (Date.now() < cutoff) {
      const read = await getJson(p, '/balances?account=1');
      if (read.status !== 200) break; // stepped down: it serves no reads then
      assert.ok(read.sequence <= primary.committedSequence, `read at ${read.sequence}`);
      assert.ok(read.sequence < durable(), 'not what only its own disk holds');
      assert.deepEqual(read.balances, before, 'balances as committed');
    }
    for (const s of standbys) s.heal();
    const [head] = await second;
    assert.equal(head.status, Status.Ok);
    const serving = await cluster.primary();
    assert.notDeepEqual(await cluster.balancesAt(serving.id, head.sequence), before);
    await client.close();
  });
});

/**
 * A standby cut off from its primary and from the other standby (both SIGKILLed, in the audit)
 * kept naming the dead primary in /health and answered reads 200, for as long as its term
 * lasted: it can elect no one alone. After an election timeout unheard, it names no primary and
 * is not ready for reads ("primary silent"); it is ready again once it hears a primary.
 */
test('a standby that no longer hears its primary names none and serves no reads', async () => {
  await TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const [other, survivor] = cluster.nodes.filter((n) => n !== primary) as ClusterNode[];
    const m = cluster.members[survivor.id - 1];
    await until(
      'the survivor follows',
      async () => (await getJson(m, '/ready?for=reads')).status === 200,
    );
    primary.partition();
    other.partition();
    const cutAt = Date.now();
    await until(
      'the survivor is not ready for reads',
      async () => {
        const ready = await getJson(m, '/ready?for=reads');
        return ready.status === 503;
      },
      5_000,
    );
    const silentMs = Date.now() - cutAt;
    const health = (await getJson(m, '/health')) as Read & { primary?: number; role?: string };
    assert.equal(health.primary, -1, 'no primary named');
    const ready = await getJson(m, '/ready?for=reads');
    assert.equal(ready.reason, 'primary silent');
    const read = await getJson(m, '/balances?account=1');
    assert.deepEqual([read.status, read.reason], [503, 'primary silent']);
    assert.ok(silentMs >= electionTimeoutTicksMin * replicationTickMs - 50, `after ${silentMs} ms`);
    primary.heal();
    other.heal();
    await until(
      'ready again once it hears a primary',
      async () => {
        return (await getJson(m, '/ready?for=reads')).status === 200;
      },
      10_000,
    );
    const again = (await getJson(m, '/health')) as Read & { primary?: number };
    assert.ok((again.primary ?? -1) >= 0, 'names its primary again');
  });
});
