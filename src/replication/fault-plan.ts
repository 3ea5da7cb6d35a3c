/** Faults the replication transport injects (udp-transport.ts), for tests and drills. */

/** Faults the transport injects (tests, drills); all drawn from `seed`. Mutable at run time. */
export interface FaultPlan {
  seed: number;
  drop: number;
  duplicate: number;
  /** Chance a datagram is held back and sent after the next one. */
  reorder: number;
  /** Extra delay, uniform in [0, delayMsMax]. */
  delayMsMax: number;
  /** Chance a datagram is sent with one bit flipped (`corruptBit`, else one drawn). */
  corrupt: number;
  corruptBit?: number;
  /** Peers this node cannot send to, and cannot hear from (one-way partitions). */
  blockTo: Set<number>;
  blockFrom: Set<number>;
}

export function noFaultPlan(seed = 1): FaultPlan {
  return {
    seed,
    drop: 0,
    duplicate: 0,
    reorder: 0,
    delayMsMax: 0,
    corrupt: 0,
    blockTo: new Set(),
    blockFrom: new Set(),
  };
}
