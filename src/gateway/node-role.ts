/**
 * The role of the node behind the gateway (a cluster member's changes as it runs), and what
 * GET /ready asks it to be ready for. Out of gateway.ts, which had reached 800 lines.
 */
export interface NodeRole {
  /** True while the node takes commands: a single node, or a cluster's primary. */
  accepting(): boolean;
  /** What /health (and a refusal) says of the role: role, term, primary, positions. */
  describe(): Record<string, unknown>;
  /** Last sequence committed on a majority (a cluster member); reads show no further. */
  committed?(): number;
  /** Once promoted, the last sequence decided before (null while a standby). */
  handOver?(): number | null;
  /** Adds the role's own gauges (term, role, replication lag) to /metrics. */
  register?(registry: import('prom-client').Registry): void;
  /** On a cluster's primary: each standby's replication lag in events (else empty). */
  replicationLags?(): ReadonlyMap<number, number>;
  /**
   * Why the node is not ready for `use` (GET /ready), or null when it is: commands only on a
   * serving primary, reads also on a standby that follows one. Absent: ready for commands while
   * accepting, always ready for reads.
   */
  notReady?(use: ReadyUse): string | null;
}

/** What GET /ready asks a node to be ready for. */
export type ReadyUse = 'commands' | 'reads';
