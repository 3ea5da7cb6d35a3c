/**
 * The SDK's connect to a cluster that has no primary yet. Started right after `bourse
 * cluster`, or during an election, every member answered 503 and connect failed at once ("no
 * member took the session"), though a primary came up a moment later. A standby's 503 names the
 * primary: the SDK goes there when it was given that address (members), and otherwise says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { BourseClient } from '../../src/client/client.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { freePort } from '../../src/cli/ports.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { TestCluster } from '../harness/cluster-driver.js';
import { FreezableProxy } from '../harness/freezable-proxy.js';
import { setupCommands } from '../harness/generators.js';
import { ProgressSlot } from '../../src/journal/journal-progress.js';

/** An HTTP server that answers every request, upgrades too, with 503: a standing member. */
async function standingMember(): Promise<{ server: Server; url: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(503, { 'content-type': 'application/json' });
    response.end('{"role":"standby"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { server, url: `ws://127.0.0.1:${address.port}/` };
}

test('the SDK waits while members answer 503, and takes the primary once one is up', async () => {
  const standby = await standingMember();
  const port = await freePort('tcp');
  const primaryUrl = `ws://127.0.0.1:${port}/`;
  const dir = tempDataDir();
  let node: BourseNode | null = null;
  // The primary comes up 600 ms after the client starts looking.
  const up = new Promise((resolve) => setTimeout(resolve, 600)).then(async () => {
    node = await BourseNode.start({
      dataDir: dir,
      config: smallConfig,
      gateway: { host: '127.0.0.1', port },
    });
  });
  try {
    const members = [standby.url, primaryUrl];
    const started = performance.now();
    const client = await BourseClient.connect(standby.url, { clientId: 7, members });
    assert.ok(performance.now() - started >= 500, 'it waited for the primary');
    await up;
    const events = await client.addAsset({ asset: 1, scale: 2 });
    assert.equal(events[0].status, 0, 'the session it found takes commands');
    await client.close();
    // A cluster that stays without a primary: the wait ends, naming every member's refusal.
    await (node as BourseNode | null)?.stop();
    node = null;
    await assert.rejects(
      BourseClient.connect(standby.url, { clientId: 7, members, connectWaitMs: 400 }),
      /^Error: no member took the session in 0\.[3-9] s: .*HTTP 503.*; .*nothing listens there/,
    );
    // Nothing standing (no member up at all): no wait, as for a single node.
    standby.server.close();
    const quick = performance.now();
    await assert.rejects(
      BourseClient.connect(standby.url, { clientId: 7, members }),
      /^Error: no member took the session: .*nothing listens there.*; .*nothing listens there/,
    );
    assert.ok(performance.now() - quick < 1_000, 'it failed at once');
  } finally {
    await up;
    await (node as BourseNode | null)?.stop();
    standby.server.close();
    removeDir(dir);
  }
});

/**
 * close() while the SDK reconnects to a node that went away: its pending calls hung until every
 * attempt failed (about 17 s for one node), and a node back meanwhile got the session again and
 * the calls, after the client was closed.
 */
/** A single node on `port`, its data in `dir`. */
function nodeOn(port: number, dir: string): Promise<BourseNode> {
  return BourseNode.start({
    dataDir: dir,
    config: smallConfig,
    gateway: { host: '127.0.0.1', port },
  });
}

test('close() while reconnecting answers at once, and never reconnects', async () => {
  const port = await freePort('tcp');
  const dir = tempDataDir();
  let node: BourseNode | null = await nodeOn(port, dir);
  try {
    const client = await BourseClient.connect(`ws://127.0.0.1:${port}/`, { clientId: 7 });
    for (const f of setupCommands()) assert.equal((await client.submit(f.kind, f))[0].status, 0);
    await node.stop(); // 1001: a drop, so the client tries again
    node = null;
    const call = client.transfer({ from: 1, to: 2, asset: 1, amount: 1 });
    const settled = call.then(
      () => 'applied',
      (error: Error) => error.message,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await client.close();
    const late = new Promise((resolve) => setTimeout(() => resolve('still pending'), 1_000));
    assert.equal(
      await Promise.race([settled, late]),
      'closed by the client: not sent, not applied',
    );
    node = await nodeOn(port, dir);
    const durable = node.progress.get(ProgressSlot.sequenceDurable);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // past the next rounds
    assert.equal(client.reconnects, 0, 'the closed client did not come back');
    assert.equal(
      node.progress.get(ProgressSlot.sequenceDurable),
      durable,
      'nothing was sent after close',
    );
  } finally {
    await node?.stop();
    removeDir(dir);
  }
});

test('the SDK goes on reconnecting for reconnectWaitMs: seconds without a node', async () => {
  const port = await freePort('tcp');
  const dead = `ws://127.0.0.1:${await freePort('tcp')}/`; // nothing listens there
  const dir = tempDataDir();
  let node: BourseNode | null = await nodeOn(port, dir);
  try {
    const url = `ws://127.0.0.1:${port}/`;
    // Two members: rounds of 5 ms doubling to 100 ms, of which 20 (1.7 s) were all it made.
    const client = await BourseClient.connect(url, { clientId: 8, members: [url, dead] });
    for (const f of setupCommands()) assert.equal((await client.submit(f.kind, f))[0].status, 0);
    await node.stop(); // every member gone, as when a cluster lost its quorum or restarts
    node = null;
    const call = client.transfer({ from: 1, to: 2, asset: 1, amount: 1 });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    node = await nodeOn(port, dir);
    const [head] = await call;
    assert.equal(head.status, 0, 'answered once the node was back');
    assert.equal(client.reconnects, 1);
    await client.close();
  } finally {
    await node?.stop();
    removeDir(dir);
  }
});

test('silenceMs 0: opening on a port that never answers ends after connectWaitMs', async () => {
  const proxy = await FreezableProxy.start(await freePort('tcp'));
  proxy.freeze(); // accepts TCP, answers nothing
  try {
    const opening = BourseClient.connect(proxy.url, {
      clientId: 9,
      silenceMs: 0,
      connectWaitMs: 300,
    }).then(
      () => 'connected',
      (error: Error) => error.message,
    );
    const hung = new Promise((resolve) => setTimeout(() => resolve('still pending'), 3_000));
    assert.match(String(await Promise.race([opening, hung])), /no answer within 300 ms/);
  } finally {
    proxy.close();
  }
});

test('the SDK goes to the primary a standby’s 503 names only if it was given', () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const standby = cluster.nodes.find((n) => n !== null && n !== primary);
    assert.ok(standby !== undefined && standby !== null);
    const urls = cluster.urls();
    const health = await fetch(urls[standby.id - 1].replace('ws://', 'http://') + 'health');
    const body = (await health.json()) as { primaryUrl?: string };
    assert.equal(body.primaryUrl, urls[primary.id - 1], '/health names the primary too');
    // Only the standby given: the API key must not go wherever a node says (sdk-redirect).
    await assert.rejects(
      BourseClient.connect(urls[standby.id - 1], { clientId: 9, connectWaitMs: 300 }),
      /HTTP 503.*; its primary: ws:\S+ \(not followed: not among the addresses given/,
    );
    const members = urls;
    const client = await BourseClient.connect(urls[standby.id - 1], { clientId: 9, members });
    const events = await client.addAsset({ asset: 1, scale: 2 });
    assert.equal(events[0].status, 0, 'its session is on the primary');
    await client.close();
  }));

/**
 * A primary that hangs, or is cut off by a partition, keeps its TCP connections open: the SDK
 * waited on it for as long as that lasted (8 s of SIGSTOP: 8 s without a result, though a
 * standby had taken over within a second). The client here reaches the primary through a TCP
 * proxy that freezes (forwards nothing, closes nothing); then the primary stops, unseen.
 */
async function silentPrimary(silenceMs: number, clientId: number): Promise<string> {
  let drop = '';
  await TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const proxy = await FreezableProxy.start(cluster.members[primary.id - 1].port);
    const members = cluster.urls().map((u, i) => (i === primary.id - 1 ? proxy.url : u));
    const client = await BourseClient.connect(proxy.url, { clientId, members, silenceMs });
    try {
      for (const f of setupCommands()) assert.equal((await client.submit(f.kind, f))[0].status, 0);
      // Quiet, but watched (a subscription awaits frames): pings keep it.
      const end = client.subscribeJournal(client.durableSequence + 1_000_000, () => {});
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(client.reconnects, 0, 'a quiet connection that answers pings is kept');
      end();
      proxy.freeze(); // from here the client hears nothing from the primary...
      await primary.stop(); // ...which goes, unseen; the others elect
      cluster.nodes[primary.id - 1] = null;
      const answered = client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
      const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000));
      const result = await Promise.race([answered, timeout]);
      assert.ok(result !== null, 'answered by the new primary (not after the partition heals)');
      assert.equal(result[0].status, 0);
      drop = client.lastDrop;
      await client.close();
    } finally {
      proxy.close();
    }
  });
  return drop;
}

test('the SDK drops a connection silent for silenceMs, and finds the new primary', async () => {
  assert.match(await silentPrimary(500, 12), /no answer for \d+ ms/);
});

test('the SDK leaves a quiet primary once another member says it took over', async () => {
  // Silence would take 10 s; the other members' /health says sooner who is primary now.
  assert.match(await silentPrimary(10_000, 15), /quiet; ws:\/\/127\.0\.0\.1:\d+\/ is primary/);
});
