/**
 * A cluster of three real members on loopback: results only once durable on a majority; the
 * standbys' journals hold the same chain and their state (applied as it commits) answers reads;
 * when the primary goes silent another takes over, and the SDK follows it and sends again what
 * was unanswered, each command applied once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../harness/wait.js';
import { BourseClient, ClientError, type EventRecord } from '../../src/client/client.js';
import { FrameError } from '../../src/protocol/frames.js';
import { EventKind } from '../../src/protocol/event-layout.js';
import { CommandFlag } from '../../src/protocol/command-layout.js';
import { Status } from '../../src/protocol/status.js';
import { Role } from '../../src/replication/messages.js';
import { setupCommands } from '../harness/generators.js';
import { TestCluster } from '../harness/cluster-driver.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';
import { statSync } from 'node:fs';
import { closeJournalDb, dataFile, openJournalDb } from '../../src/journal/journal-db.js';
import { Replica } from '../../src/pipeline/replay.js';
import { smallConfig } from '../harness/engine-driver.js';

test('cluster: quorum-durable results, failover, idempotent resend', async () => {
  // Workers started from now on check a handed-over state against its checksum (handover.ts).
  process.env.BOURSE_VERIFY = '1';
  const cluster = await TestCluster.start(3);
  try {
    const first = await cluster.primary();
    const urls = cluster.urls();
    const client = await BourseClient.connect(urls[0], { clientId: 5, members: urls });
    for (const f of setupCommands()) {
      const [head] = await client.submit(f.kind, f);
      assert.equal(head.status, Status.Ok);
    }
    const [moved] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 10 });
    assert.equal(moved.status, Status.Ok);
    const durableOnMajority = cluster.nodes.filter(
      (n) => n !== null && n.consensus.durableIndex >= first.consensus.commit,
    ).length;
    assert.ok(durableOnMajority >= 2, 'the answer came once a majority held it');
    await until('standbys learn the commit', () =>
      cluster.nodes.every((n) => n!.committedSequence >= moved.sequence),
    );
    await hotStandbysAgree(cluster, first, moved.sequence);
    await standbyServesJournal(cluster, first, moved.sequence, client);
    const watchers = await watchAccount(cluster, first, 1);
    const ask = { account: 2, ref: 2, price: 100, quantity: 5, flags: CommandFlag.Sell };
    const [resting] = await client.placeOrder(ask); // on the book when the primary dies
    assert.equal(resting.status, Status.Ok);
    // A command with several events under its one sequence (an order and its fill): the
    // entries after it must chain on from its last sequence, not from first + events - 1.
    const taken = await client.placeOrder({ account: 1, ref: 2, price: 100, quantity: 2 });
    assert.deepEqual(
      taken.map((e) => e.kind),
      [EventKind.OrderAccepted, EventKind.Trade],
    );
    const [next] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    assert.equal(next.status, Status.Ok, 'the batch after it commits');

    // A client that is gone before the failover (and restarts after it, below).
    const other = await BourseClient.connect(urls[0], { clientId: 6, members: urls });
    const [otherLast] = (
      await Promise.all(
        Array.from({ length: 5 }, () =>
          other.transfer({ account: 1, target: 2, ref: 1, quantity: 1 }),
        ),
      )
    ).at(-1)!;
    await other.close();

    // The primary goes silent: its clients drop, its heartbeats stop.
    const sent: Promise<EventRecord[]>[] = [];
    for (let i = 0; i < 50; i++) {
      sent.push(client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 }));
    }
    first.silence();
    const second = await cluster.primary(first);
    assert.notEqual(second.id, first.id, 'another member took over');
    const tookOver = second.node!.recovery; // the processor's report when it took over
    assert.ok(second.consensus.term > first.consensus.term || first.role !== Role.Primary);
    const results = await Promise.all(sent);
    for (const [head] of results) assert.ok(head.status === Status.Ok, 'answered after failover');
    const [after] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    assert.equal(after.status, Status.Ok);
    // The new primary's book holds the order placed before: a bid at its price trades with it.
    const bid = await client.placeOrder({ account: 1, ref: 2, price: 100, quantity: 3 });
    assert.ok(
      bid.some((e) => e.kind === EventKind.Trade),
      'the resting order was handed over',
    );
    await accountStreamHandedOver(cluster, second, watchers, after.sequence);

    // The live members end with the same chain; the silenced one holds a prefix of it.
    const live = cluster.nodes.filter((n) => n !== null && n !== first) as ClusterNode[];
    await until('the standby catches up', () =>
      live.every((n) => n.consensus.commit === second.consensus.lastIndex),
    );
    for (let i = 1; i <= second.consensus.commit; i++) {
      for (const n of live) assert.equal(n.consensus.hashAt(i), second.consensus.hashAt(i));
    }
    for (let i = 1; i <= first.consensus.commit; i++) {
      assert.equal(first.consensus.hashAt(i), second.consensus.hashAt(i), 'committed stays');
    }

    // Each transfer is in the new primary's journal once, resent or not.
    const self = cluster.members[second.id - 1];
    const page = await fetch(`http://${self.host}:${self.port}/events?from=1&count=1000`);
    const events = (await page.json()) as EventRecord[];
    const transfers = events.filter((e) => e.kind === EventKind.Transferred && e.clientId === 5);
    const seqs = transfers.map((e) => e.clientSeq);
    assert.equal(new Set(seqs).size, seqs.length, 'no command applied twice');
    assert.equal(seqs.length, 54, 'every acknowledged transfer is there'); // 1 + 2 + 50 + 1
    await client.close();
    // Client processes that restart after the failover go on after their last seq: one that
    // followed the new primary, and one last seen by the old one (the table came over).
    const restarted = await BourseClient.connect(urls[0], { clientId: 5, members: urls });
    const [resumed] = await restarted.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    assert.equal(resumed.kind, EventKind.Transferred, 'applied, not answered as a repeat');
    const used = events.filter((e) => e.clientId === 5).map((e) => e.clientSeq);
    assert.equal(resumed.clientSeq, Math.max(...used) + 1, 'after every seq it used');
    const back = await BourseClient.connect(urls[0], { clientId: 6, members: urls });
    const [again] = await back.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    assert.equal(again.kind, EventKind.Transferred, 'applied, not answered as a repeat');
    assert.equal(again.clientSeq, otherLast.clientSeq + 1);
    await Promise.all([restarted.close(), back.close()]);

    // Its processor took the state its snapshotter handed over (handover.ts): what a replay of
    // its journal to that point builds.
    await second.stop();
    cluster.nodes[second.id - 1] = null;
    assert.equal(tookOver.type, 'promoted');
    assert.ok(tookOver.sequence >= moved.sequence, 'handed over with every committed event');
    const replayed = replayTo(cluster.dirs[second.id - 1], tookOver.sequence);
    assert.equal(replayed.sequence, tookOver.sequence);
    assert.equal(tookOver.stateChecksum, replayed.engine.checksum.hex());
  } catch (error) {
    console.error(cluster.lines.join('\n')); // the members' own account of what happened
    throw error;
  } finally {
    await cluster.stop();
    delete process.env.BOURSE_VERIFY;
  }
});

function replayTo(dir: string, sequence: number): Replica {
  const db = openJournalDb(dir, { create: false, readOnly: true });
  try {
    const replica = new Replica(smallConfig);
    replica.replay(db, sequence);
    return replica;
  } finally {
    closeJournalDb(db);
  }
}

/**
 * Hot standbys: each applied what was committed (its read model answers with the primary's
 * balances), says it is a standby, turns commands away with 503, and the primary's /metrics
 * shows its role, term and each standby's lag.
 */
test('cluster: standbys reuse their journal pages (no reader pins an old snapshot)', async () => {
  const cluster = await TestCluster.start(3);
  try {
    const urls = cluster.urls();
    await cluster.primary();
    const client = await BourseClient.connect(urls[0], { clientId: 6, members: urls });
    for (const f of setupCommands()) await client.submit(f.kind, f);
    // One command at a time: each is its own group commit on every member (~230 KB of dirty
    // 64 KB pages). A thread that kept its first read transaction made every commit append
    // those pages to the file instead of reusing freed ones: ~70 MB for these 300.
    for (let i = 0; i < 300; i++) {
      const [head] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
      assert.equal(head.status, Status.Ok);
    }
    await client.close();
    for (const dir of cluster.dirs) {
      const mb = statSync(dataFile(dir)).size / 2 ** 20;
      assert.ok(mb < 16, `${dir}: journal.mdb is ${mb.toFixed(1)} MB after 300 small commits`);
    }
  } catch (error) {
    console.error(cluster.lines.join('\n'));
    throw error;
  } finally {
    await cluster.stop();
  }
});

test('cluster: batches (ResultsOnly) follow a failover, each command applied once', async () => {
  const cluster = await TestCluster.start(3);
  try {
    const urls = cluster.urls();
    const first = await cluster.primary();
    const client = await BourseClient.connect(urls[0], { clientId: 7, members: urls });
    for (const f of setupCommands()) await client.submit(f.kind, f);
    // The test cluster's idempotency window (the SDK's in-flight cap) is small: 60 batches of 8.
    const list = Array.from({ length: 8 }, (_, i) => ({
      account: 1 + (i % 2),
      target: 2 - (i % 2),
      ref: 1,
      quantity: 1,
    }));
    // ResultsOnly frames (the SDK's batches) in flight while the primary goes silent: the SDK
    // resends them to the new primary, whose engine answers a repeat with its first outcome.
    const batches = Array.from({ length: 60 }, () => client.transferBatch(list));
    first.silence();
    const second = await cluster.primary(first);
    for (const r of await Promise.all(batches)) {
      assert.equal(r.count, 8);
      assert.ok(
        r.status.every((status) => status === Status.Ok),
        'each answered Ok',
      );
    }
    const self = cluster.members[second.id - 1];
    const seqs: number[] = [];
    for (let from = 1; ;) {
      const page = await fetch(`http://${self.host}:${self.port}/events?from=${from}&count=1000`);
      const events = (await page.json()) as EventRecord[];
      if (events.length === 0) break;
      from = events[events.length - 1].sequence + 1; // pages hold whole commands
      for (const e of events) {
        if (e.kind === EventKind.Transferred && e.clientId === 7) seqs.push(e.clientSeq);
      }
    }
    assert.equal(seqs.length, 480, 'every batched transfer is in the journal');
    assert.equal(new Set(seqs).size, 480, 'none applied twice');
    await client.close();
  } catch (error) {
    console.error(cluster.lines.join('\n'));
    throw error;
  } finally {
    await cluster.stop();
  }
});

async function hotStandbysAgree(cluster: TestCluster, primary: ClusterNode, sequence: number) {
  const expected = await cluster.balancesAt(primary.id, sequence);
  for (const n of cluster.nodes) {
    if (n === null || n === primary) continue;
    assert.deepEqual(await cluster.balancesAt(n.id, sequence), expected, 'same state');
    const m = cluster.members[n.id - 1];
    const health = (await (await fetch(`http://${m.host}:${m.port}/health`)).json()) as {
      role: string;
      primary: number;
    };
    assert.equal(health.role, 'standby');
    assert.equal(health.primary, primary.id);
    const post = await fetch(`http://${m.host}:${m.port}/commands`, { method: 'POST' });
    assert.equal(post.status, 503, 'a standby takes no commands');
    const ready = await fetch(`http://${m.host}:${m.port}/ready`);
    assert.equal(ready.status, 503, 'a standby is not ready for commands');
    const why = (await ready.json()) as { ready: boolean; role: string; reason: string };
    assert.deepEqual([why.ready, why.role, why.reason], [false, 'standby', 'not the primary']);
    const reads = await fetch(`http://${m.host}:${m.port}/ready?for=reads`);
    assert.equal(reads.status, 200, 'a standby that follows is ready for reads');
    // It was 0 on a standby: only a primary's journal writer counted.
    const text = await (await fetch(`http://${m.host}:${m.port}/metrics`)).text();
    const stored = Number(/^bourse_events_total (\d+)$/m.exec(text)?.[1]);
    assert.ok(stored >= sequence, `a standby counts the events it journals (${stored})`);
  }
  const p = cluster.members[primary.id - 1];
  const metrics = await (await fetch(`http://${p.host}:${p.port}/metrics`)).text();
  assert.match(metrics, /bourse_cluster_role\{role="primary"\} 1/);
  assert.match(metrics, /bourse_cluster_term \d+/);
  assert.match(metrics, /bourse_replication_lag_events\{member="\d"\} \d+/);
  assert.match(metrics, /^bourse_commands_total [1-9]\d*$/m);
  assert.match(metrics, /^nodejs_eventloop_lag_seconds /m);
  const ready = await fetch(`http://${p.host}:${p.port}/ready`);
  assert.equal(ready.status, 200, 'the serving primary is ready');
  assert.equal(((await ready.json()) as { role: string }).role, 'primary');
}

/**
 * A standby serves journal subscriptions on a read-only session (path /read): the journal's
 * committed events from the start, the same as the primary's, then new ones as they commit;
 * commands on that session are refused with Error 5.
 */
async function standbyServesJournal(
  cluster: TestCluster,
  primary: ClusterNode,
  sequence: number,
  writer: BourseClient,
) {
  const standby = cluster.nodes.find((n) => n !== null && n !== primary)!;
  const m = cluster.members[standby.id - 1];
  const reader = await BourseClient.connect(`ws://${m.host}:${m.port}/`, {
    clientId: 77,
    readOnly: true,
  });
  const seen: EventRecord[] = [];
  reader.subscribeJournal(1, (events) => seen.push(...events));
  const account2: EventRecord[] = []; // an account stream on a standby follows its journal
  reader.subscribeAccount(2, (events) => account2.push(...events));
  await until('the standby streams its journal', () => seen.at(-1)!?.sequence >= sequence);
  const p = cluster.members[primary.id - 1];
  const page = await fetch(`http://${p.host}:${p.port}/events?from=1&count=1000`);
  const expected = ((await page.json()) as EventRecord[]).filter((e) => e.sequence <= sequence);
  const key = (e: EventRecord): string => `${e.sequence}:${e.kind}:${e.clientId}:${e.clientSeq}`;
  assert.deepEqual(seen.filter((e) => e.sequence <= sequence).map(key), expected.map(key));
  const [next] = await writer.transfer({ account: 2, target: 1, ref: 1, quantity: 1 });
  await until('a new commit reaches the standby stream', () =>
    seen.some((e) => e.sequence === next.sequence && e.clientSeq === next.clientSeq),
  );
  await until('and the standby account stream', () =>
    account2.some((e) => e.sequence === next.sequence && e.kind === EventKind.Transferred),
  );
  assert.ok(
    account2.every((e) => e.sequence > sequence),
    'only what came after subscribing',
  );
  const refused = await reader.transfer({ account: 1, target: 2, ref: 1, quantity: 1 }).then(
    () => null,
    (error: unknown) => error,
  );
  assert.ok(refused instanceof ClientError && refused.code === FrameError.ReadOnly, 'read-only');
  await reader.close();
  // On the primary, a read-only session may share the client id of a command session.
  const beside = await BourseClient.connect(`ws://${p.host}:${p.port}/`, {
    clientId: writer.clientId,
    readOnly: true,
  });
  const mine: EventRecord[] = [];
  beside.subscribeJournal(next.sequence, (events) => mine.push(...events));
  await until('a reader beside the writer', () => mine.some((e) => e.sequence === next.sequence));
  await beside.close();
}

type Watchers = Map<
  number,
  { reader: BourseClient; events: EventRecord[]; journal: EventRecord[] }
>;

/** A read-only reader on each standby follows one account's stream, and the journal. */
async function watchAccount(cluster: TestCluster, primary: ClusterNode, account: number) {
  const watchers: Watchers = new Map();
  for (const n of cluster.nodes) {
    if (n === null || n === primary) continue;
    const m = cluster.members[n.id - 1];
    const url = `ws://${m.host}:${m.port}/`;
    const reader = await BourseClient.connect(url, { clientId: 200 + n.id, readOnly: true });
    const events: EventRecord[] = [];
    reader.subscribeAccount(account, (batch) => events.push(...batch));
    const journal: EventRecord[] = [];
    reader.subscribeJournal(1, (batch) => journal.push(...batch));
    watchers.set(n.id, { reader, events, journal });
  }
  return watchers;
}

/**
 * The reader on the standby that became primary heard every transfer of the account once,
 * across the hand-over from its journal tail to its publisher: the same transfers, in the
 * same order, as the new primary's journal from the first one it heard.
 */
async function accountStreamHandedOver(
  cluster: TestCluster,
  second: ClusterNode,
  watchers: Watchers,
  last: number,
) {
  const w = watchers.get(second.id)!;
  await until('the new primary streams the last transfer', () =>
    w.events.some((e) => e.sequence === last),
  );
  const heard = w.events.filter((e) => e.kind === EventKind.Transferred).map((e) => e.sequence);
  const m = cluster.members[second.id - 1];
  const page = await fetch(`http://${m.host}:${m.port}/events?from=${heard[0]}&count=1000`);
  const journal = ((await page.json()) as EventRecord[])
    .filter((e) => e.kind === EventKind.Transferred && e.sequence <= last)
    .filter((e) => e.account === 1 || e.counterparty === 1)
    .map((e) => e.sequence);
  assert.ok(heard.length >= 50, 'the stream carried the transfers around the failover');
  assert.deepEqual(heard, journal, 'each transfer once, none missing, across the hand-over');
  // The journal stream too hands over to the live events at the promotion sequence.
  await until('the journal stream reaches the last transfer', () =>
    w.journal.some((e) => e.sequence === last),
  );
  const all = await fetch(`http://${m.host}:${m.port}/events?from=1&count=1000`);
  const key = (e: EventRecord): string => `${e.sequence}:${e.kind}:${e.clientId}:${e.clientSeq}`;
  const expected = ((await all.json()) as EventRecord[]).filter((e) => e.sequence <= last);
  const streamed = w.journal.filter((e) => e.sequence <= last);
  assert.deepEqual(streamed.map(key), expected.map(key), 'the journal stream: no gap, no repeat');
  for (const { reader } of watchers.values()) reader.close().catch(() => {});
}
