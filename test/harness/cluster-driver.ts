/**
 * Clusters of real members (src/pipeline/cluster-node.ts) in one process, on loopback ports
 * picked free, each with its own data folder.
 */
import { freePort } from '../../src/cli/ports.js';
import { ClusterNode, type ClusterMember } from '../../src/pipeline/cluster-node.js';
import { smallConfig } from './engine-driver.js';
import { removeDir, tempDataDir } from './node-driver.js';
import { until } from './wait.js';
import type { BourseClient } from '../../src/client/client.js';
import { Status, statusName } from '../../src/protocol/status.js';

export class TestCluster {
  readonly members: ClusterMember[] = [];
  readonly dirs: string[] = [];
  readonly nodes: (ClusterNode | null)[] = [];
  readonly lines: string[] = [];
  /** Committed entries each member's consensus keeps in memory (undefined: the default). */
  logRetain: number | undefined;

  static async start(size: number, logRetain?: number): Promise<TestCluster> {
    const cluster = new TestCluster();
    cluster.logRetain = logRetain;
    for (let id = 1; id <= size; id++) {
      const port = await freePort('tcp');
      const replicationPort = await freePort('udp');
      cluster.members.push({ id, host: '127.0.0.1', port, replicationPort });
      cluster.dirs.push(tempDataDir());
    }
    for (let id = 1; id <= size; id++) cluster.nodes.push(await cluster.boot(id, true));
    return cluster;
  }

  boot(id: number, bootstrap: boolean): Promise<ClusterNode> {
    return ClusterNode.start({
      id,
      members: this.members,
      dataDir: this.dirs[id - 1],
      config: smallConfig,
      bootstrap,
      log: (line) => this.lines.push(line),
      logRetain: this.logRetain,
    });
  }

  urls(): string[] {
    return this.members.map((m) => `ws://${m.host}:${m.port}/`);
  }

  /** The member serving clients (other than `not`), once there is one. */
  async primary(not: ClusterNode | null = null, timeoutMs = 10_000): Promise<ClusterNode> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = this.nodes.find((n) => n !== null && n !== not && n.accepting);
      if (p !== undefined && p !== null) return p;
      if (Date.now() > deadline) throw new Error(`no primary: ${this.lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * Runs `body` on a new cluster of `size` members and stops the cluster; on a failure the
   * members' own account of what happened is printed first.
   */
  static async with(
    size: number,
    body: (cluster: TestCluster) => Promise<void>,
    logRetain?: number,
  ): Promise<void> {
    const cluster = await TestCluster.start(size, logRetain);
    try {
      await body(cluster);
    } catch (error) {
      console.error(cluster.lines.join('\n'));
      throw error;
    } finally {
      await cluster.stop();
    }
  }

  /** Balances of account 1 as a member's read model sees them, once it stands at `sequence`. */
  async balancesAt(id: number, sequence: number): Promise<unknown> {
    const m = this.members[id - 1];
    let body: { sequence: number; balances: unknown } = { sequence: -1, balances: null };
    await until(`member ${id} reads at ${sequence}`, async () => {
      const res = await fetch(`http://${m.host}:${m.port}/balances?account=1`);
      body = (await res.json()) as typeof body;
      return res.status === 200 && body.sequence >= sequence;
    });
    return body.balances;
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) await n?.stop();
    for (const dir of this.dirs) removeDir(dir);
  }
}

/** A client's transfers of 1 from account 1 to 2, 50 at a time, until stopped. */
export class TransferLoad {
  /** The sequence of each acknowledged transfer. */
  readonly acked: number[] = [];
  private running = true;
  private failure: unknown = null;
  private readonly done: Promise<void>;

  constructor(client: BourseClient) {
    this.done = this.run(client).catch((error: unknown) => {
      this.failure = error;
    });
  }

  /** Stops; resolves with what went wrong (null: every transfer was answered Ok). */
  async stop(): Promise<unknown> {
    this.running = false;
    await this.done;
    return this.failure;
  }

  private async run(client: BourseClient): Promise<void> {
    while (this.running) {
      const batch = Array.from({ length: 50 }, () =>
        client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 }),
      );
      for (const [head] of await Promise.all(batch)) {
        if (head.status !== Status.Ok) throw new Error(`a transfer got ${statusName(head.status)}`);
        this.acked.push(head.sequence);
      }
    }
  }
}
