/**
 * Members with different capacities. A standby with smaller ones than its primary's cannot
 * apply what the primary decided (an account past its table): it crashed with "internal error:
 * AssertionError: accounts: table full" (exit 70), and `bourse cluster` would start it again
 * into the same crash. It now stops saying what to mend (CONFIG_REFUSED, exit 64, left down),
 * and the others go on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient } from '../../src/client/client.js';
import { closeJournalDb, openJournalDb } from '../../src/journal/journal-db.js';
import { StorageCode, StorageError } from '../../src/journal/journal-errors.js';
import { memberOfFolder, singleNodeRefusal } from '../../src/journal/member-folder.js';
import { ClusterNode } from '../../src/pipeline/cluster-node.js';
import { secretBytes } from '../../src/replication/datagram-mac.js';
import { TestCluster } from '../harness/cluster-driver.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';

test('a standby with smaller capacities than its primary stops and says so', () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const small = cluster.nodes.find((n) => n !== null && n !== primary);
    assert.ok(small !== undefined && small !== null);
    const id = small.id;
    // It comes back on a new folder with room for 32 accounts; the others have 256.
    await small.stop();
    removeDir(cluster.dirs[id - 1]);
    cluster.dirs[id - 1] = tempDataDir();
    cluster.configs.set(id, { ...smallConfig, accountCountMax: 32 });
    const fresh = await cluster.boot(id, false);
    cluster.nodes[id - 1] = fresh;
    const urls = cluster.urls();
    const client = await BourseClient.connect(urls[primary.id - 1], {
      clientId: 5,
      members: urls,
    });
    for (let account = 1; account <= 40; account++) {
      const events = await client.createAccount({ account });
      assert.equal(events[0].status, 0, `account ${account} created`);
    }
    const failure = await Promise.race([
      fresh.failed,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000)),
    ]);
    assert.ok(failure instanceof StorageError, `it stopped: ${String(failure)}`);
    assert.equal(failure.code, 'CONFIG_REFUSED');
    assert.match(failure.message, /capacities are smaller than those its journal's events/);
    assert.match(failure.message, /\(accounts: table full\)/);
    // The primary and the other standby go on.
    const after = await client.createAccount({ account: 41 });
    assert.equal(after[0].status, 0);
    await client.close();
  }));

/**
 * A member refused at start for its capacities leaves its empty folder no member's: its id
 * was stored before that check, so `bourse start` refused the folder ever after as member 1's,
 * and `bourse member --id 2` refused it as another member's.
 */
test("a member refused for its capacities leaves an empty folder no member's", async () => {
  const dir = tempDataDir();
  try {
    const members = [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', port: 1, replicationPort: 1 }));
    const options = { id: 1, members, dataDir: dir, bootstrap: false };
    const start = ClusterNode.start({
      ...options,
      capacities: { accountCountMax: 1e14 }, // refused before anything is bound
      secret: new Uint8Array(secretBytes),
    });
    await assert.rejects(start, (e: StorageError) => e.code === StorageCode.ConfigRefused);
    const db = openJournalDb(dir, { create: false, readOnly: true });
    try {
      assert.equal(memberOfFolder(db), null, 'no member id, no member flag');
      assert.equal(singleNodeRefusal(db, dir), null, '`bourse start` takes it');
    } finally {
      await closeJournalDb(db);
    }
  } finally {
    removeDir(dir);
  }
});
