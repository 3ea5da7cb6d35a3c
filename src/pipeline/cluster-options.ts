/** What a cluster member is started with (cluster-node.ts): its place and its options. */
import type { EngineConfig } from '../constants.js';
import type { Capacities } from './engine-config.js';
import type { FaultPlan } from '../replication/udp-transport.js';
import type { NodeLog } from './node.js';

export interface ClusterMember {
  id: number;
  host: string;
  /** Client port (binary WebSocket and HTTP) and UDP replication port. */
  port: number;
  replicationPort: number;
}

export interface ClusterNodeOptions {
  id: number;
  members: readonly ClusterMember[];
  dataDir: string;
  /** As for a single node (NodeOptions): every member must run with the same. */
  config?: EngineConfig;
  capacities?: Capacities;
  /**
   * True while the cluster is being formed: a folder that was never a member is new. Otherwise
   * a member without its data lost its disk, and comes back recovering (it does not vote).
   */
  bootstrap: boolean;
  /**
   * The member's folder was moved (copied) here, and the one it came from never starts again:
   * taken though its journal file is not the one the member ran on (member-folder.ts).
   */
  folderMoved?: boolean;
  /**
   * The address the client and replication ports are bound to (default: this member's host).
   * In a container the host is a name other members resolve, and 0.0.0.0 also takes the
   * image's health check on 127.0.0.1 and published ports.
   */
  listen?: string;
  /**
   * The cluster's replication secret (secretBytes, the same on every member): every datagram
   * carries a MAC under it, and one without it is refused (src/replication/datagram-mac.ts).
   */
  secret: Uint8Array;
  faults?: FaultPlan;
  /** The largest chunk of a replication datagram it sends (default udpPayloadBytesDefault). */
  datagramPayloadBytes?: number;
  log?: NodeLog;
  /** Committed entries consensus keeps in memory (default `logRetainEntries`; tests: few). */
  logRetain?: number;
  /** As for a single node (NodeOptions; default `snapshotIntervalMs`). */
  snapshotIntervalMs?: number;
  /** As for a single node (NodeOptions; default `snapshotAtStopSequencesMin`). Tests. */
  snapshotAtStopSequencesMin?: number;
  /** A standby further behind is not ready for reads (default `readyLagEventsMax`). Tests. */
  readyLagEventsMax?: number;
  /**
   * A standby's writes go to a log in front of LMDB (replication/standby-log.ts; default
   * `standbyLogOn`), of `standbyLogBytes` (default the constant's; tests: small, to wrap).
   */
  standbyLog?: boolean;
  standbyLogBytes?: number;
  /** The journal writer's too, as primary (pipeline/journal-log.ts; default `journalLogOn`). */
  journalLog?: boolean;
  /** As for a single node (NodeOptions.gateway; default `cancelOnDisconnectGraceMs`). */
  cancelGraceMs?: number;
  /**
   * The wall clock (ms) this member's transport starts are drawn from (replay-window.ts
   * startAbove; default Date.now): a test's may be set back, as on a host whose clock is.
   */
  clockMs?: () => number;
}
