/**
 * Clusters of real members (src/pipeline/cluster-node.ts) in one process, on loopback ports
 * picked free, each with its own data folder.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { secretBytes } from '../../src/replication/datagram-mac.js';
import { freePort } from '../../src/cli/ports.js';
import { ClusterNode, type ClusterMember } from '../../src/pipeline/cluster-node.js';
import type { ClusterNodeOptions } from '../../src/pipeline/cluster-options.js';
import type { EngineConfig } from '../../src/constants.js';
import { smallConfig } from './engine-driver.js';
import { removeDir, tempDataDir } from './node-driver.js';
import { until } from './wait.js';
import { BourseClient } from '../../src/client/client.js';
import { setupCommands } from './generators.js';
import { Status, statusName } from '../../src/protocol/status.js';
import { noFaultPlan, type FaultPlan } from '../../src/replication/udp-transport.js';

/** Limits a test may give the members smaller (ClusterNodeOptions; default: the constants). */
export type ClusterLimits = Pick<
  ClusterNodeOptions,
  'snapshotAtStopSequencesMin' | 'readyLagEventsMax'
>;

/** start()'s snapshotIntervalMs, basePort, standbyLog and journalLog left to their defaults. */

export class TestCluster {
  readonly members: ClusterMember[] = [];
  readonly dirs: string[] = [];
  readonly nodes: (ClusterNode | null)[] = [];
  readonly lines: string[] = [];
  /** Committed entries each member's consensus keeps in memory (undefined: the default). */
  logRetain: number | undefined;
  /** The members' periodic snapshots (undefined: the default, snapshotIntervalMs). */
  snapshotIntervalMs: number | undefined;
  /** Whether the members write a standby log (ClusterNodeOptions; undefined: the default). */
  standbyLog: boolean | undefined;
  /** Whether the members' journal writers write through that log (undefined: the default). */
  journalLog: boolean | undefined;
  /** Limits given to every member, smaller than src/constants.ts's to cross them sooner. */
  limits: ClusterLimits = {};
  /** Capacities by member id, for a member booted on a new folder (default: smallConfig). */
  readonly configs = new Map<number, EngineConfig>();
  /**
   * Each member's transport faults, by id: none at each boot (a partition() is not carried
   * into the member's next life), then change them at will.
   */
  readonly faults = new Map<number, FaultPlan>();
  /** Each member's wall clock (ms) for its transport starts, by id (default: Date.now). */
  readonly clocks = new Map<number, () => number>();
  /** Members whose folder a test put in place (copied): started as moved (`--folder-moved`). */
  readonly foldersMoved = new Set<number>();
  /** The cluster's replication secret, the same for every member (unless a test says not). */
  readonly secrets = new Map<number, Uint8Array>();
  readonly secret = randomBytes(secretBytes);

  /**
   * `dirs`: data folders to use, by member id (a fresh temporary one for any not given);
   * `config`: every member's capacities (default: smallConfig); `snapshotIntervalMs`: the
   * members' periodic snapshots (default: a node's); `basePort`: member `id` on basePort +
   * 2 (id - 1) and its replication on the port after (default: free ports); `standbyLog`,
   * `journalLog`: the members' (default: theirs); `limits`: theirs (default: the constants).
   */
  static async start(
    size: number,
    logRetain?: number,
    dirs: readonly string[] = [],
    config?: EngineConfig,
    snapshotIntervalMs?: number,
    basePort?: number,
    standbyLog?: boolean,
    journalLog?: boolean,
    limits: ClusterLimits = {},
  ): Promise<TestCluster> {
    const cluster = new TestCluster();
    cluster.limits = limits;
    cluster.logRetain = logRetain;
    cluster.standbyLog = standbyLog;
    cluster.journalLog = journalLog;
    cluster.snapshotIntervalMs = snapshotIntervalMs;
    if (config !== undefined) for (let id = 1; id <= size; id++) cluster.configs.set(id, config);
    for (let id = 1; id <= size; id++) {
      const at = basePort === undefined ? -1 : basePort + 2 * (id - 1);
      const port = at === -1 ? await freePort('tcp') : at;
      const replicationPort = at === -1 ? await freePort('udp') : at + 1;
      cluster.members.push({ id, host: '127.0.0.1', port, replicationPort });
      cluster.dirs.push(dirs[id - 1] ?? tempDataDir());
    }
    // All at once, as `bourse cluster` starts them. One after another, the first two could
    // elect and commit before the last was up (a loaded machine), which then took its empty
    // folder for a lost disk: recovering, no vote, and no majority once a member was cut off.
    const ids = cluster.members.map((m) => m.id);
    const booted = await Promise.allSettled(ids.map((id) => cluster.boot(id, true)));
    for (const b of booted) cluster.nodes.push(b.status === 'fulfilled' ? b.value : null);
    const failed = booted.find((b) => b.status === 'rejected');
    if (failed === undefined) return cluster;
    // The members that came up kept the process alive, and the folders made here stayed behind
    // (those given are the caller's: a small disk is still mounted).
    for (const n of cluster.nodes) await n?.stop();
    for (let i = 0; i < size; i++) if (dirs[i] === undefined) removeDir(cluster.dirs[i]);
    throw (failed as PromiseRejectedResult).reason;
  }

  /** `members`: the cluster file member `id` is given (default: the cluster's). */
  boot(id: number, bootstrap: boolean, members = this.members): Promise<ClusterNode> {
    return ClusterNode.start({
      id,
      members,
      dataDir: this.dirs[id - 1],
      config: this.configs.get(id) ?? smallConfig,
      bootstrap,
      folderMoved: this.foldersMoved.has(id),
      log: (line) => this.lines.push(line),
      logRetain: this.logRetain,
      snapshotIntervalMs: this.snapshotIntervalMs,
      faults: this.newFaultPlan(id),
      secret: this.secrets.get(id) ?? this.secret,
      clockMs: this.clocks.get(id),
      standbyLog: this.standbyLog,
      journalLog: this.journalLog,
      ...this.limits,
    });
  }

  /**
   * Stops `member`, empties its folder (a lost disk) and starts it again: the new member.
   * `bootstrap`: started with --bootstrap (by mistake: a member that lost its disk is not).
   */
  async wipe(member: ClusterNode, bootstrap = false): Promise<ClusterNode> {
    await member.stop();
    removeDir(this.dirs[member.id - 1]);
    this.dirs[member.id - 1] = tempDataDir();
    this.nodes[member.id - 1] = null;
    const fresh = await this.boot(member.id, bootstrap);
    this.nodes[member.id - 1] = fresh;
    return fresh;
  }

  private newFaultPlan(id: number): FaultPlan {
    const plan = noFaultPlan(id);
    this.faults.set(id, plan);
    return plan;
  }

  /** The faults of member `id` as it runs now (its last boot's). */
  faultPlan(id: number): FaultPlan {
    const plan = this.faults.get(id);
    assert.ok(plan !== undefined, 'a member that was booted');
    return plan;
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
   * members' own account of what happened is printed first. `basePort`: as start()'s.
   */
  static async with(
    size: number,
    body: (cluster: TestCluster) => Promise<void>,
    logRetain?: number,
    config?: EngineConfig,
    limits: ClusterLimits = {},
    basePort?: number,
  ): Promise<void> {
    const options = [undefined, basePort, undefined, undefined] as const;
    const cluster = await TestCluster.start(size, logRetain, [], config, ...options, limits);
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

  /**
   * The SDK on the primary, knowing every member (it follows failovers for up to
   * `reconnectAttempts` tries), with the usual accounts and instruments set up.
   */
  async setUpClient(clientId: number, reconnectAttempts: number): Promise<BourseClient> {
    const urls = this.urls();
    const primary = await this.primary();
    const client = await BourseClient.connect(urls[primary.id - 1], {
      clientId,
      members: urls,
      reconnectAttempts,
    });
    for (const f of setupCommands()) {
      assert.equal((await client.submit(f.kind, f))[0].status, Status.Ok);
    }
    return client;
  }

  /**
   * After faults: a last transfer through `client`, then every member holds the serving
   * primary's whole chain and its balances, each acknowledged transfer (its sequence in
   * `acked`) is there once, and no member's node failed.
   */
  async assertOneHistory(client: BourseClient, acked: readonly number[]): Promise<void> {
    const primary = await this.primary();
    const [last] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    const members = this.nodes as ClusterNode[];
    await until('every member holds the whole chain', () =>
      members.every((n) => n.consensus.durableIndex >= primary.consensus.commit),
    );
    for (let i = 1; i <= primary.consensus.commit; i++) {
      for (const n of members) {
        assert.equal(n.consensus.hashAt(i), primary.consensus.hashAt(i), `entry ${i}`);
      }
    }
    const expected = await this.balancesAt(primary.id, last.sequence);
    for (const n of members) {
      assert.deepEqual(await this.balancesAt(n.id, last.sequence), expected, `member ${n.id}`);
    }
    assert.equal(new Set(acked).size, acked.length, 'each acknowledged transfer once');
    const failed = this.lines.filter((l) => / failed|cannot write/.test(l));
    assert.deepEqual(failed, [], 'no member failed');
  }

  async stop(): Promise<void> {
    try {
      for (const n of this.nodes) await n?.stop();
    } finally {
      for (const dir of this.dirs) removeDir(dir);
    }
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

/** `count` transfers of 1 from account 1 to 2, one after another; the sequence of the last. */
export async function transfers(client: BourseClient, count: number): Promise<number> {
  let sequence = 0;
  for (let i = 0; i < count; i++) {
    const [head] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    assert.equal(head.status, Status.Ok);
    sequence = head.sequence;
  }
  return sequence;
}
