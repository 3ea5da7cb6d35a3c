/**
 * The snapshots a node's snapshotter took, as the main thread hears of them (one message per
 * snapshot), for the log and /metrics (`bourse_snapshot_*`): how many, the newest one's age,
 * sequence and stored size, and how long it took in its parts.
 */

/** What the snapshotter posts once a snapshot is stored (snapshot-worker.ts). */
export interface SnapshotTaken {
  sequence: number;
  /** From when it fell due to stored: touchMs + copyMs + writeMs. */
  ms: number;
  /** Touching its pages ahead of the copy, a few per turn while the replica applies. */
  touchMs: number;
  /**
   * Encoding the replica's state into the buffer the pool reads, its body (snapshot-body.ts;
   * the replica waits).
   */
  copyMs: number;
  /** The pool's hashing and paced LMDB writes. */
  writeMs: number;
  /** Bytes stored. */
  bytes: number;
}

export class SnapshotStats {
  taken = 0;
  failed = 0;
  /** The newest snapshot this node took, or null before the first. */
  last: SnapshotTaken | null = null;
  /** Wall-clock time (ms) of the newest, or of the node's start before the first. */
  lastAtMs: number;

  constructor(nowMs: number) {
    this.lastAtMs = nowMs;
  }

  /** Notes a snapshot stored at `nowMs`; returns the line for the log. */
  onTaken(taken: SnapshotTaken, nowMs: number): string {
    this.taken += 1;
    this.last = taken;
    this.lastAtMs = nowMs;
    const ms = (n: number): string => n.toFixed(0);
    const mb = (taken.bytes / 1e6).toFixed(1);
    return (
      `snapshot at sequence ${taken.sequence} (${ms(taken.ms)} ms: touch ${ms(taken.touchMs)}, ` +
      `copy ${ms(taken.copyMs)}, write ${ms(taken.writeMs)}; ${mb} MB)`
    );
  }

  /** Seconds since the newest snapshot (since the start while there is none). */
  ageSeconds(nowMs: number): number {
    return Math.max(0, (nowMs - this.lastAtMs) / 1000);
  }
}
