/**
 * An account stream across a failover: the SDK resumes it on the new primary from the last
 * sequence it delivered, and the new primary serves what it missed from its own journal. The
 * stream saw every transfer of the account once, in order, while a load kept transferring
 * through the failover (the live-only stream lost those committed while it reconnected). A
 * read session on a standby resumes from sequence 1 there: its journal and its tail serve it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, type EventRecord } from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { TestCluster, TransferLoad } from '../harness/cluster-driver.js';
import { until } from '../harness/wait.js';

const key = (e: EventRecord): string => `${e.sequence}/${e.kind}/${e.status}`;

/** Member `m`'s journal events naming account 1, from `from` up to `last`. */
async function accountEvents(
  m: { host: string; port: number },
  from: number,
  last: number,
): Promise<EventRecord[]> {
  const want: EventRecord[] = [];
  for (let at = from, pages = 0; at <= last && pages < 1_000; pages++) {
    const res = await fetch(`http://${m.host}:${m.port}/events?account=1&from=${at}&count=1000`);
    const page = (await res.json()) as { events: EventRecord[]; next: number };
    want.push(...page.events.filter((e) => e.sequence <= last));
    at = page.next;
  }
  return want;
}

test('an account stream follows a failover: each event once, in order', async () => {
  const cluster = await TestCluster.start(3);
  try {
    const urls = cluster.urls();
    const writer = await cluster.setUpClient(21, 100);
    const first = await cluster.primary();
    const watcher = await BourseClient.connect(urls[first.id - 1], {
      clientId: 22,
      members: urls,
      reconnectAttempts: 100,
    });
    const seen: EventRecord[] = [];
    watcher.subscribeAccount(1, (events) => seen.push(...events));
    await watcher.submit(CommandKind.Tick, {}); // frames are taken in order: the stream is up
    const standby = cluster.nodes.find((n) => n !== null && n !== first)!;
    const reader = await BourseClient.connect(urls[standby.id - 1], {
      clientId: 23,
      readOnly: true,
    });
    const onStandby: EventRecord[] = [];
    reader.subscribeAccount(1, (events) => onStandby.push(...events), undefined, 1);
    const load = new TransferLoad(writer);
    await until('transfers before', () => load.acked.length >= 200, 20_000);
    first.silence(); // its clients drop, its heartbeats stop
    const second = await cluster.primary(first, 20_000);
    const before = load.acked.length;
    await until('transfers after', () => load.acked.length >= before + 300, 30_000);
    assert.equal(await load.stop(), null, 'every transfer answered Ok');
    const [last] = await writer.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    await until('the stream reached the last', () => seen.at(-1)?.sequence === last.sequence);
    const m = cluster.members[second.id - 1];
    const want = await accountEvents(m, seen[0].sequence, last.sequence);
    assert.ok(want.length > 500);
    assert.deepEqual(seen.map(key), want.map(key), 'each event of account 1 once, in order');
    await until('the standby reader too', () => onStandby.at(-1)?.sequence === last.sequence);
    const all = await accountEvents(m, 1, last.sequence);
    assert.deepEqual(onStandby.map(key), all.map(key), 'from 1 on the standby: each once');
    await Promise.all([writer.close(), watcher.close(), reader.close()]);
  } catch (error) {
    console.error(cluster.lines.join('\n'));
    throw error;
  } finally {
    await cluster.stop();
  }
});
