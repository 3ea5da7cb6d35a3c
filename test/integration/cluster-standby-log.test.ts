/**
 * A cluster whose standbys write a standby log in front of LMDB (replication/standby-log.ts):
 * a standby acknowledges a group once its log holds it, and LMDB takes it afterwards. Here both
 * standbys' LMDB journals lose everything the log holds (as if every one of LMDB's writes since
 * their start had not reached the disk when they crashed), and the primary's disk is lost.
 * Started again, the standbys replay their logs, elect one of them, which is promoted and goes
 * on from the whole history. Without the replay their journals are empty, and the history is
 * gone (the test fails: the new primary's sequences start again).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster } from '../harness/cluster-driver.js';
import { removeDir } from '../harness/node-driver.js';
import { closeJournalDb, openJournalDb } from '../../src/journal/journal-db.js';
import { BourseClient } from '../../src/client/client.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';
import { Status } from '../../src/protocol/status.js';

/** A stopped member's LMDB as at its start: no batch, the log's mark at its first record. */
async function forgetLmdbWrites(dir: string): Promise<number> {
  const db = openJournalDb(dir, { create: false, readOnly: false });
  const batches = db.journal.getKeysCount();
  db.journal.clearSync();
  db.timeIndex.clearSync();
  db.root.openDB('log-index', { keyEncoding: 'binary', encoding: 'binary' }).clearSync();
  db.meta.putSync('standby-log', '1 0'); // its first run's first record, at offset 0
  await closeJournalDb(db);
  return batches;
}

test('standbys replay logs LMDB lost; the one promoted has the whole history', async () => {
  const first = await TestCluster.start(3, undefined, [], undefined, 3_600_000, undefined, true);
  const dirs = [...first.dirs];
  let second: TestCluster | null = null;
  try {
    const client = await first.setUpClient(41, 5);
    const primary = await first.primary();
    const transfer = { account: 1, target: 2, ref: 1, quantity: 1 };
    let last = 0;
    for (let round = 0; round < 20; round++) {
      const r = await client.transferBatch(Array<typeof transfer>(500).fill(transfer));
      assert.equal(r.rejected, 0);
      last = r.sequence[r.count - 1];
    }
    await client.close();
    const standbys = first.nodes.filter((n) => n !== primary) as ClusterNode[];
    for (const n of standbys) await first.balancesAt(n.id, last);
    await Promise.all(first.nodes.map((n) => n?.stop()));
    first.nodes.fill(null);
    for (const n of standbys) assert.ok((await forgetLmdbWrites(dirs[n.id - 1])) > 20);
    // The primary's disk is lost: its folder is not started again.
    second = new TestCluster();
    second.standbyLog = true;
    second.members.push(...first.members);
    second.dirs.push(...dirs);
    second.nodes.push(null, null, null);
    for (const n of standbys) second.nodes[n.id - 1] = await second.boot(n.id, false);
    const elected = await second.primary();
    assert.notEqual(elected.id, primary.id);
    const urls = second.urls();
    const again = await BourseClient.connect(urls[elected.id - 1], { clientId: 42, members: urls });
    const [head] = await again.transfer(transfer);
    assert.equal(head.status, Status.Ok);
    assert.ok(head.sequence > last, 'the history goes on');
    await again.close();
    const said = second.lines.filter((l) => /standby log: \d+ records replayed/.test(l));
    assert.equal(said.length, 2, 'each standby replayed its log');
    for (const n of standbys) {
      const balances = await second.balancesAt(n.id, head.sequence);
      assert.deepEqual(await second.balancesAt(elected.id, head.sequence), balances);
    }
  } catch (error) {
    console.error([...first.lines, ...(second?.lines ?? [])].join('\n'));
    throw error;
  } finally {
    for (const n of second?.nodes ?? []) await n?.stop();
    for (const n of first.nodes) await n?.stop();
    for (const dir of dirs) removeDir(dir);
  }
});
