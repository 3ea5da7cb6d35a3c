/**
 * A member stops in order: its inputs first (UDP, the consensus clock, feeding), then the work
 * in flight (role changes, the group commit's writes), then its LMDB environment. Here a
 * member that lost its disk starts again, and its start fails (its workers refuse its
 * capacities) while it catches up from the primary on a slow disk. Its storage used to be
 * closed under the write in flight, whose group commit then queued the next one (and noted
 * compacted entries): lmdb-js threw "The environment is already closed." from a setImmediate,
 * an uncaught exception that ends the process (cluster-faults, seed 3, once in CI, where a
 * worker's start failed for another reason: lmdb-meta.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, TransferLoad } from '../harness/cluster-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { Status } from '../../src/protocol/status.js';
import { testMemoryEnv } from '../../src/pipeline/state-memory.js';
import { ReplicaStore } from '../../src/replication/replica-store.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long each group commit of the failing member takes (its disk is slow). */
const slowWriteMs = 400;

test('cluster: a member whose start fails while catching up closes its storage last', () =>
  TestCluster.with(
    3,
    async (cluster) => {
      const client = await cluster.setUpClient(5, 50);
      const load = new TransferLoad(client);
      await sleep(1_000);
      const primary = await cluster.primary();
      const victim = cluster.nodes.find((n) => n !== primary && n !== null);
      assert.ok(victim !== undefined && victim !== null);
      const i = victim.id - 1;
      await victim.stop();
      cluster.nodes[i] = null;
      removeDir(cluster.dirs[i]);
      cluster.dirs[i] = tempDataDir();
      const thrown: unknown[] = [];
      const keep = (error: unknown): void => void thrown.push(error);
      process.on('uncaughtException', keep);
      const restore = slowDisk(cluster.dirs[i]);
      // Its workers refuse the capacities it keeps anew (an empty folder keeps none) as too
      // large for the memory: the start fails while a write of the catch-up is in flight.
      process.env[testMemoryEnv] = '1'; // workers copy the environment when they start
      try {
        await assert.rejects(cluster.boot(i + 1, false), /does not fit in this machine's memory/);
        delete process.env[testMemoryEnv];
        await sleep(3 * slowWriteMs); // late callbacks of the failed start, if any, run now
      } finally {
        delete process.env[testMemoryEnv];
        restore();
        process.off('uncaughtException', keep);
      }
      assert.deepEqual(thrown.map(String), [], 'nothing thrown after the member stopped');
      assert.equal(await load.stop(), null, 'the others served on');
      cluster.nodes[i] = await cluster.boot(i + 1, false); // the folder was released
      const [last] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
      assert.equal(last.status, Status.Ok);
      await client.close();
    },
    4,
  ));

/** Group commits into `dir` resolve `slowWriteMs` late (a busy disk); the result undoes it. */
function slowDisk(dir: string): () => void {
  const write = ReplicaStore.prototype.writeMany;
  ReplicaStore.prototype.writeMany = async function (this: ReplicaStore, ...args) {
    const done = write.apply(this, args);
    if (this.db.path.startsWith(dir)) await sleep(slowWriteMs);
    return done;
  };
  return () => (ReplicaStore.prototype.writeMany = write);
}
