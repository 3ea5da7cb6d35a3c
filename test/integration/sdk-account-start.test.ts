/**
 * Where an account stream taken without `from` starts (Hello flag AccountStarts: the server
 * answers its Subscribe with Subscribed, the sequence it starts after).
 *
 * A quiet client (nothing heard since its login) resumed such a stream after a drop from its
 * Welcome's sequence: the account's events between its login and its subscribe came, as new.
 * And a second handler added without `from` while another handler's resume backlog streamed
 * got that backlog (one stream per account and session), events older than its subscribe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, type EventRecord } from '../../src/client/client.js';
import { setUp, withNode } from '../harness/gateway-node.js';
import { proxiedWatcher } from '../harness/proxied-watcher.js';
import { until } from '../harness/wait.js';

test('a quiet client resumes a stream from where the server said it started', () =>
  withNode(async (_node, url) => {
    const { root, watcher, dropAndReturn, close } = await proxiedWatcher(url, 62, 63);
    try {
      await setUp(root);
      const pay = () => root.transfer({ account: 3, target: 1, ref: 1, quantity: 1 });
      const before = [await pay(), await pay(), await pay()].map(([e]) => e.sequence);
      // The watcher hears no sequence: no command, no event; a book view says its stream is up
      // (the server takes a session's frames in order), and is not a sequence heard.
      const seen: EventRecord[] = [];
      watcher.subscribeAccount(1, (events) => seen.push(...events));
      let views = 0;
      watcher.subscribeBook(1, () => void views++);
      await until('the book view after the Subscribe', () => views > 0);
      await dropAndReturn(); // dropped with nothing delivered
      const [after] = await pay();
      await until('the live transfer', () => seen.some((e) => e.sequence === after.sequence));
      const got = seen.map((e) => e.sequence);
      assert.ok(!got.some((s) => before.includes(s)), `history from before the subscribe: ${got}`);
      assert.deepEqual(got, [after.sequence]);
    } finally {
      await close();
    }
  }));

test('a handler added during a resume does not get its backlog', () =>
  withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 64 });
    const watcher = await BourseClient.connect(url, { clientId: 65 });
    try {
      await setUp(root);
      const pay = () => root.transfer({ account: 3, target: 1, ref: 1, quantity: 1 });
      const before = [await pay(), await pay(), await pay()].map(([e]) => e.sequence);
      const resumed: EventRecord[] = [];
      const fresh: EventRecord[] = [];
      watcher.subscribeAccount(1, (events) => resumed.push(...events), undefined, 1);
      watcher.subscribeAccount(1, (events) => fresh.push(...events)); // while it resumes
      const [after] = await pay();
      const has = (list: EventRecord[]) => list.some((e) => e.sequence === after.sequence);
      await until('the live transfer, to both', () => has(resumed) && has(fresh));
      const backlog = resumed.map((e) => e.sequence);
      assert.ok(
        before.every((s) => backlog.includes(s)),
        `the resume's backlog: ${backlog}`,
      );
      assert.deepEqual(
        fresh.map((e) => e.sequence),
        [after.sequence],
        'only what followed its own subscribe',
      );
    } finally {
      await Promise.all([root.close(), watcher.close()]);
    }
  }));
