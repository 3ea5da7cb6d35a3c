/**
 * Clusters of real members (src/pipeline/cluster-node.ts) in one process, on loopback ports
 * picked free, each with its own data folder.
 */
import { freePort } from '../../src/cli/ports.js';
import { ClusterNode, type ClusterMember } from '../../src/pipeline/cluster-node.js';
import { smallConfig } from './engine-driver.js';
import { removeDir, tempDataDir } from './node-driver.js';

export class TestCluster {
  readonly members: ClusterMember[] = [];
  readonly dirs: string[] = [];
  readonly nodes: (ClusterNode | null)[] = [];
  readonly lines: string[] = [];

  static async start(size: number): Promise<TestCluster> {
    const cluster = new TestCluster();
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
    });
  }

  urls(): string[] {
    return this.members.map((m) => `ws://${m.host}:${m.port}/`);
  }

  /** The member serving clients (other than `not`), once there is one. */
  async primary(not: ClusterNode | null = null, timeoutMs = 10_000): Promise<ClusterNode> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = this.nodes.find(
        (n) => n !== null && n !== not && n.accepting,
      );
      if (p !== undefined && p !== null) return p;
      if (Date.now() > deadline) throw new Error(`no primary: ${this.lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) await n?.stop();
    for (const dir of this.dirs) removeDir(dir);
  }
}
