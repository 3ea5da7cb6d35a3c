/**
 * Reads at a sequence (docs/PROTOCOL.md, "Reading your own writes"): GET /balances, /orders and
 * /book with `at=SEQ` answer from a state at SEQ or past it, waiting for the read model, on a
 * single node and on a cluster's standby; past the wait, 503 READ_MODEL_BEHIND with the
 * sequence reached, never an older answer. The parameter was ignored: each answered at once, at
 * whatever the read model stood at (the harness's readAt polled until the sequence came).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient } from '../../src/client/client.js';
import { setUp, withNode } from '../harness/gateway-node.js';
import { TestCluster } from '../harness/cluster-driver.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';

type Json = Record<string, unknown> & { sequence: number };

async function get(url: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Json };
}

const pay = { account: 1, target: 2, ref: 1, quantity: 1 };

/** Account 1's balance of asset 1 (setupCommands funds it), from a /balances answer. */
function available(body: Json): number {
  const rows = body.balances as { asset: number; available: number }[];
  return rows.find((b) => b.asset === 1)?.available ?? 0;
}

/**
 * Asks `base`'s three reads at three sequences past `last` (none decided yet), then has
 * `client` transfer three times: each answer stands at its `at` or past, and the balances show
 * the transfers. Ignored, `at` was answered at once, at `last` or before.
 */
async function readsAhead(base: string, client: BourseClient, last: number): Promise<void> {
  const at = last + 3;
  const before = await get(`${base}/balances?account=1&at=${last}`);
  const reads = [
    get(`${base}/balances?account=1&at=${at}`),
    get(`${base}/orders?account=1&at=${at}`),
    get(`${base}/book?instrument=1&depth=5&at=${at}`),
  ];
  const sent = [await client.transfer(pay), await client.transfer(pay), await client.transfer(pay)];
  assert.equal(sent[2][0].sequence, at, 'one sequence per transfer');
  for (const read of await Promise.all(reads)) {
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.ok(read.body.sequence >= at, `answered at ${read.body.sequence}, asked at ${at}`);
  }
  const balances = (await reads[0]).body;
  assert.equal(available(balances), available(before.body) - 3, 'the three transfers');
}

/** A node, and a client of it with the usual set-up (`last`: its highest sequence). */
function withSetUp(
  clientId: number,
  run: (base: string, client: BourseClient, last: number) => Promise<void>,
): Promise<void> {
  return withNode(async (_node, url) => {
    const base = url.replace('ws://', 'http://').replace(/\/$/, '');
    const client = await BourseClient.connect(url, { clientId });
    try {
      await run(base, client, await setUp(client));
    } finally {
      await client.close();
    }
  });
}

test('reads at a sequence wait for the read model to reach it', () =>
  withSetUp(171, async (base, client, last) => {
    await readsAhead(base, client, last);
    // Read your own write: the result's sequence, asked at once.
    const [mine] = await client.transfer(pay);
    const read = await get(`${base}/balances?account=1&at=${mine.sequence}`);
    assert.equal(read.status, 200);
    assert.ok(read.body.sequence >= mine.sequence, `at ${read.body.sequence}`);
    // At 0, or an empty `at`, asks nothing more than a read without it.
    for (const at of ['0', '']) {
      assert.equal((await get(`${base}/orders?account=1&at=${at}`)).status, 200, at);
    }
  }));

test('a read at a sequence the read model does not reach in time is 503, never older', () =>
  withSetUp(172, async (base, _client, last) => {
    // All at once: each waits the whole bound (readQueryTimeoutMs). 2^53 - 1 is a sequence.
    const paths = ['/balances?account=1', '/orders?account=1', '/book?instrument=1'];
    const asked = paths.map((path) => [path, last + 1_000_000] as const);
    asked.push(['/balances?account=2', 2 ** 53 - 1]);
    const reads = await Promise.all(asked.map(([path, at]) => get(`${base}${path}&at=${at}`)));
    for (const [i, { status, body }] of reads.entries()) {
      const [path, at] = asked[i];
      assert.equal(status, 503, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.code, 'READ_MODEL_BEHIND');
      assert.equal(body.at, at);
      assert.ok(body.sequence >= last && body.sequence < at, `reached ${body.sequence}`);
    }
  }));

test('a malformed, negative or too large `at` is 400', () =>
  withSetUp(173, async (base) => {
    const bad = ['-1', '1e3', '0x10', '1.5', 'abc', '%201', '9007199254740992', '1'.repeat(17)];
    for (const path of ['/balances?account=1', '/orders?account=1', '/book?instrument=1']) {
      for (const at of bad) {
        const { status, body } = await get(`${base}${path}&at=${at}`);
        assert.equal(status, 400, `${path}&at=${at}: ${JSON.stringify(body)}`);
        assert.match(String(body.error), /^at: /);
      }
    }
  }));

test("a standby's reads at a sequence wait for it to apply its primary's commits", async () => {
  await TestCluster.with(3, async (cluster) => {
    const client = await cluster.setUpClient(174, 5);
    try {
      const primary = await cluster.primary();
      const standby = cluster.nodes.find((n) => n !== null && n !== primary) as ClusterNode;
      const m = cluster.members[standby.id - 1];
      const base = `http://${m.host}:${m.port}`;
      const [last] = await client.transfer(pay);
      await readsAhead(base, client, last.sequence);
      const [mine] = await client.transfer(pay);
      const read = await get(`${base}/balances?account=1&at=${mine.sequence}`);
      assert.equal(read.status, 200, JSON.stringify(read.body));
      assert.ok(read.body.sequence >= mine.sequence, `at ${read.body.sequence}`);
    } finally {
      await client.close();
    }
  });
});
