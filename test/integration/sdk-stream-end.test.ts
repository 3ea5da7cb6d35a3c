/**
 * A client of subscriptions only (a book feed, a market maker's account stream) whose node
 * went away for longer than reconnectWaitMs closed for good without a word: no call was
 * pending to reject, and no handler heard that its stream had ended. Each subscription's
 * onError now hears it; a close() of the client's own says nothing to them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, ClientError, ClientErrorCode } from '../../src/client/client.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { freePort } from '../../src/cli/ports.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { until } from '../harness/wait.js';

test('subscriptions hear their end when the client gives up reconnecting', async () => {
  const port = await freePort('tcp');
  const dir = tempDataDir();
  let node: BourseNode | null = await BourseNode.start({
    dataDir: dir,
    config: smallConfig,
    gateway: { host: '127.0.0.1', port },
  });
  try {
    const url = `ws://127.0.0.1:${port}/`;
    const options = { clientId: 9, readOnly: true, reconnectWaitMs: 300 };
    const feed = await BourseClient.connect(url, options);
    const other = await BourseClient.connect(url, { ...options, clientId: 10 });
    const ended: string[] = [];
    const heard = (what: string) => (e: ClientError) => {
      assert.ok(e instanceof ClientError);
      ended.push(`${what} ${e.code}`);
    };
    feed.subscribeBook(1, () => {}, { onError: heard('book') });
    feed.subscribeTrades(1, () => {}, heard('trades'));
    feed.subscribeAccount(1, () => {}, heard('account'));
    feed.subscribeJournal(1, () => {}, heard('journal'));
    other.subscribeTrades(1, () => {}, heard('closed by its own client'));
    await other.close();
    await node.stop();
    node = null;
    await until('every stream heard its end', () => ended.length === 4);
    const lost = ClientErrorCode.NodeStopping; // its close code; none took the session again
    assert.deepEqual(ended.sort(), [
      `account ${lost}`,
      `book ${lost}`,
      `journal ${lost}`,
      `trades ${lost}`,
    ]);
    await feed.close();
  } finally {
    await node?.stop();
    removeDir(dir);
  }
});
