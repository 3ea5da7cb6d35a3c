/**
 * Faults of a real deployment that the first mixes (sim-scenario.ts) drew only by chance, if at
 * all, each its own knob of a `Mix` (unset: no draw, so the older mixes' seeds replay as before):
 *
 *   clocks      each replica's consensus clock runs at its own rate: a loaded process's
 *               setInterval fires late and once (ClusterNode.onTick), so its election timer,
 *               heartbeats and resends run slow against the others'; the load moves at times
 *   disks       one replica's disk is slow for good, and any disk stalls at times (an fsync
 *               of seconds) while its process runs on, receiving and sending
 *   flapping    a replica catching up (behind its primary's commit, or without its disk)
 *               crashes again and again, its disk lost at times, and restarts soon after
 *   partitions  shaped partitions held for a while: a replica (the primary, mostly) that
 *               hears no one, or that no one hears; a bridge replica between two halves that
 *               do not hear each other; a minority cut from the majority one way or both
 *   primary-pauses  the primary stops for longer than an election timeout (up to several),
 *               and messages come late now and then (a backed-up send queue, NAK repair)
 */
import { electionTimeoutTicksMin } from '../../src/constants.js';
import type { Rng, SimCluster } from './sim-cluster.js';

/** A mix's knobs for these faults (each unset in the first mixes). */
export interface DeploymentKnobs {
  /** Each replica's clock rate is drawn in [clockRateMin, 1]. */
  clockRateMin?: number;
  /** Per tick: one replica's clock rate is drawn again (its load moved). */
  clockShiftChance?: number;
  /** One replica's disk makes a write durable within [1, slowDiskFlushMax] ticks. */
  slowDiskFlushMax?: number;
  /** Per tick: a replica's disk stalls for up to diskStallTicksMax ticks. */
  diskStallChance?: number;
  diskStallTicksMax?: number;
  /** Per tick: each replica catching up crashes with this chance... */
  flapChance?: number;
  /** ...and each replica down restarts with this one. */
  flapRestartChance?: number;
  /** Per tick, while none is held: a shaped partition begins, held for min + [0, spread). */
  partitionChance?: number;
  partitionTicksMin?: number;
  partitionTicksSpread?: number;
  /** Per tick: the primary stops for [electionTimeoutTicksMin, primaryPauseTicksMax) ticks. */
  primaryPauseChance?: number;
  primaryPauseTicksMax?: number;
  /** A message comes late by up to straggleTicksMax ticks with this chance. */
  straggle?: number;
  straggleTicksMax?: number;
}

function shuffled(ids: readonly number[], rng: Rng): number[] {
  const out = [...ids];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Links cut between each member of `a` and each of `b`: b to a (ways 0), a to b (1), or both. */
function between(a: readonly number[], b: readonly number[], out: string[], ways: number): void {
  for (const x of a) {
    for (const y of b) {
      if (ways !== 1) out.push(`${y}>${x}`); // b does not reach a
      if (ways !== 0) out.push(`${x}>${y}`); // a does not reach b
    }
  }
}

/** The links of one shaped partition around `target` (the primary, mostly). */
function shapeLinks(ids: readonly number[], target: number, rng: Rng): string[] {
  const others = shuffled(
    ids.filter((id) => id !== target),
    rng,
  );
  const links: string[] = [];
  const shape = rng.int(4);
  if (shape === 0) between([target], others, links, 0); // it hears no one; all hear it
  if (shape === 1) between([target], others, links, 1); // no one hears it; it hears all
  if (shape === 2) {
    // `target` bridges two halves that do not hear each other (each hears it, it hears each).
    const half = others.length >> 1;
    between(others.slice(0, half), others.slice(half), links, 2);
  }
  if (shape === 3) {
    // A minority with `target` in it, cut from the majority one way (either) or both.
    const minority = [target, ...others.slice(0, ((ids.length - 1) >> 1) - 1)];
    const majority = others.slice(minority.length - 1);
    between(minority, majority, links, rng.int(3));
  }
  return links;
}

/** The deployment faults of one scenario, drawn from the scenario's rng tick by tick. */
export class DeploymentFaults {
  private held: string[] = [];
  private heldUntil = 0;

  constructor(
    private readonly sim: SimCluster,
    private readonly rng: Rng,
    private readonly knobs: DeploymentKnobs,
  ) {
    for (const r of sim.replicas) r.clockRate = this.clockRate();
    if ((knobs.slowDiskFlushMax ?? 0) > 0) {
      const slow = sim.replicas[rng.int(sim.size)];
      slow.disk.flushMax = 1 + rng.int(knobs.slowDiskFlushMax!);
    }
    sim.faults.straggle = knobs.straggle ?? 0;
    sim.faults.straggleTicksMax = knobs.straggleTicksMax ?? 0;
  }

  private clockRate(): number {
    const min = this.knobs.clockRateMin ?? 1;
    return min >= 1 ? 1 : min + this.rng.next() * (1 - min);
  }

  /** One tick's draws (before the cluster steps). */
  step(): void {
    const { sim, rng, knobs } = this;
    const r = sim.replicas[rng.int(sim.size)];
    if (rng.chance(knobs.clockShiftChance ?? 0)) r.clockRate = this.clockRate();
    if (rng.chance(knobs.diskStallChance ?? 0)) {
      const until = sim.now + 1 + rng.int(knobs.diskStallTicksMax ?? 1);
      r.disk.stallUntil = Math.max(r.disk.stallUntil, until);
    }
    if ((knobs.flapChance ?? 0) > 0) this.flap();
    if ((knobs.partitionChance ?? 0) > 0) this.partition();
    const p = sim.primary();
    if (p !== undefined && rng.chance(knobs.primaryPauseChance ?? 0)) {
      const spread = Math.max(1, (knobs.primaryPauseTicksMax ?? 0) - electionTimeoutTicksMin);
      sim.pause(p, electionTimeoutTicksMin + rng.int(spread));
    }
  }

  /** Replicas catching up crash; replicas down restart soon. */
  private flap(): void {
    const { sim, rng, knobs } = this;
    const p = sim.primary();
    const commit = p?.consensus.commit ?? 0;
    for (const r of sim.replicas) {
      if (!r.up) {
        if (rng.chance(knobs.flapRestartChance ?? 0)) sim.restart(r);
        continue;
      }
      const behind = r.disk.recovering || (r !== p && r.consensus.durableIndex < commit);
      if (!behind || !rng.chance(knobs.flapChance!)) continue;
      // Disks lost at once stay within what the cluster tolerates (faultPhase's rule).
      const mayWipe = sim.recoveringCount() < Math.floor((sim.size - 1) / 2);
      sim.crash(r, (mayWipe || r.disk.recovering) && rng.chance(0.3));
    }
  }

  /** Ends a partition held long enough, or begins one. */
  private partition(): void {
    const { sim, rng, knobs } = this;
    if (this.held.length > 0) {
      if (sim.now < this.heldUntil) return;
      for (const link of this.held) sim.cut.delete(link);
      this.held = [];
      return;
    }
    if (!rng.chance(knobs.partitionChance!)) return;
    const ids = sim.replicas.map((r) => r.id);
    const p = sim.primary();
    const target = p !== undefined && rng.chance(0.7) ? p.id : ids[rng.int(ids.length)];
    this.held = shapeLinks(ids, target, rng).filter((link) => !sim.cut.has(link));
    for (const link of this.held) sim.cut.add(link);
    this.heldUntil =
      sim.now + (knobs.partitionTicksMin ?? 0) + rng.int(knobs.partitionTicksSpread ?? 1);
  }

  /** The faults heal: stalls end, messages stop coming late (slow clocks and disks stay). */
  heal(): void {
    for (const r of this.sim.replicas) r.disk.stallUntil = 0;
    this.sim.faults.straggle = 0;
    this.held = [];
  }
}
