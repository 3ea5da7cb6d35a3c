/**
 * An account stream subscribed without `from` is "from now on" (client.ts subscribeAccount).
 * When it had delivered nothing before a drop, the SDK resumed it from the session's Welcome
 * sequence: a subscription made long after login was sent, after the reconnect, the account's
 * events from between the login and the subscribe, as if new (a maker that subscribes after
 * reading its fills over HTTP counted them twice). It now resumes from the highest sequence the
 * client had heard of on that connection (its answers, its streams), which precedes the
 * subscribe: none of that history comes, and nothing durable after it is missed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventRecord } from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { setUp, withNode } from '../harness/gateway-node.js';
import { proxiedWatcher } from '../harness/proxied-watcher.js';
import { until } from '../harness/wait.js';

test('a stream that delivered nothing resumes from the subscribe, not from the login', () =>
  withNode(async (_node, url) => {
    const { root, watcher, dropAndReturn, close } = await proxiedWatcher(url, 60, 61);
    try {
      await setUp(root);
      const pay = () => root.transfer({ account: 3, target: 1, ref: 1, quantity: 1 });
      const before = [await pay(), await pay(), await pay()].map(([e]) => e.sequence);
      await watcher.submit(CommandKind.Tick, {}); // its answer: a sequence after those
      const seen: EventRecord[] = [];
      watcher.subscribeAccount(1, (events) => seen.push(...events));
      await watcher.submit(CommandKind.Tick, {}); // frames are taken in order: the stream is up
      await dropAndReturn(); // dropped with nothing delivered
      const [after] = await pay();
      await until('the live transfer', () => seen.some((e) => e.sequence === after.sequence));
      await watcher.submit(CommandKind.Tick, {}); // anything sent before it has come
      const got = seen.map((e) => e.sequence);
      assert.ok(!got.some((s) => before.includes(s)), `history from before the subscribe: ${got}`);
      assert.deepEqual(got, [after.sequence]);
    } finally {
      await close();
    }
  }));
