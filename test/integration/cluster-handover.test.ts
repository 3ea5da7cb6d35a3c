/**
 * A primary stopped cleanly (SIGTERM, Ctrl-C, a rolling restart) hands the cluster over: it
 * takes no more commands, lets what it took in be committed and answered, then names the
 * standby that holds its whole log, which stands at once (src/pipeline/leadership-transfer.ts).
 * Before, it closed its transport first: the standbys noticed only by probing its port, and
 * the commands it had taken in were left for their clients to send again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, TransferLoad } from '../harness/cluster-driver.js';
import { until } from '../harness/wait.js';

test('cluster: a primary stopped cleanly hands over; the load goes on, each once', async () => {
  await TestCluster.with(3, async (cluster) => {
    const client = await cluster.setUpClient(7, 40);
    const load = new TransferLoad(client);
    await until('transfers answered', () => load.acked.length >= 500);
    const first = await cluster.primary();
    const term = first.consensus.term;
    await first.stop();
    cluster.nodes[first.id - 1] = null;
    const second = await cluster.primary(first);
    assert.equal(second.consensus.term, term + 1, 'one election');
    const said = cluster.lines.filter((l) => l.startsWith(`member ${first.id}: handed over`));
    assert.equal(said.length, 1, cluster.lines.join('\n'));
    assert.match(said[0], new RegExp(`member ${second.id} stood; all it took in answered$`));
    const before = load.acked.length;
    await until('the load goes on', () => load.acked.length >= before + 500);
    assert.equal(await load.stop(), null, 'every transfer answered Ok');
    cluster.nodes[first.id - 1] = await cluster.boot(first.id, false);
    await cluster.assertOneHistory(client, load.acked);
    await client.close();
  });
});

test('cluster: a primary that cannot drain stops anyway, and the others elect', async () => {
  await TestCluster.with(3, async (cluster) => {
    const client = await cluster.setUpClient(8, 40);
    const first = await cluster.primary();
    // Cut off from its standbys: nothing it takes in now can be committed.
    first.partition();
    const pending = client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    const c = first.consensus;
    await until('journaled, not committed', () => c.lastIndex > c.commit);
    await first.stop();
    cluster.nodes[first.id - 1] = null;
    const said = cluster.lines.filter((l) => l.startsWith(`member ${first.id}: stopping as`));
    assert.equal(said.length, 1, cluster.lines.join('\n'));
    // Cut off, it may also have stepped down (no majority heard) while it drained.
    const why =
      /not all it took in answered yet; (no standby holds its whole journal|no longer primary)/;
    assert.match(said[0], why);
    const second = await cluster.primary(first);
    const [result] = await pending; // sent again to the new primary once the session closed
    assert.equal(result.status, 0);
    cluster.nodes[first.id - 1] = await cluster.boot(first.id, false);
    await cluster.assertOneHistory(client, [result.sequence]);
    assert.notEqual(second.id, first.id);
    await client.close();
  });
});
