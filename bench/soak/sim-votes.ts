/**
 * Votes held by the network across disk losses of a candidate and its voter, delivered to
 * their next lives in a term they stand in again: the history dfd8391 fixed (two lost disks
 * of five; a vote granted by a lost life, read by the candidate's next life, made two primaries
 * in one term), which random holds never drew (bench/RESULTS.md, forty-third session: 0 such
 * votes in 20,000 seeds of lost-disks and held-others). One episode, its members and times
 * drawn from the scenario's rng:
 *
 *   q (primary, term t), c (the member q hands over to), r (a voter of c), x, y (the rest)
 *   1. q hands over to c: c stands in t + 1 and r votes for it; r's votes to c are held, and
 *      c's requests to the others (c does not win); nothing else of c's or r's reaches them,
 *      and some of c's and r's appends and statuses are held too
 *   2. c and r crash and come back after a while, both with their disks lost (five members, at
 *      times one; three members: one), and recover under q, still primary of t
 *   3. q hands over to c again: c's new life stands in t + 1, and what the network held from
 *      c's and r's lost lives is delivered; c's new requests reach one member (x) only
 *   4. q hands over to another (y): it stands in t + 1 too, with q's vote and r's new life's
 *   5. a while later the episode's cuts heal
 *
 * Counted as is (before dfd8391), step 3's held vote made c primary of t + 1 with x's, and
 * step 4 made y another. An episode that gets no further (a handover lost, a crash, no
 * recovery in time) ends there: what it held goes on, late, to whatever lives are there.
 */
import { Role, type Message } from '../../src/replication/messages.js';
import type { Replica, Rng, SimCluster } from './sim-cluster.js';

/** A mix's knobs for held-vote episodes (HeldKnobs.votes; unset: no draw). */
export interface VoteKnobs {
  /** Per tick, while none runs: one begins (if there is a primary and no lost disk). */
  chance: number;
  /** Ticks c is given to stand and r to vote for it (step 1), and y to stand (step 4). */
  standTicksMax: number;
  /** c and r come back within [1, downTicksMax] ticks of their crash. */
  downTicksMax: number;
  /** Ticks the lost lives are given to recover under q. */
  recoverTicksMax: number;
  /** Five members: only one of c and r loses its disk (the other restarts with it). */
  oneLostChance: number;
  /** Ticks q hears only the member it is to hand over to, before it does. */
  heardTicks: number;
  /** Ticks between c's second stand and the handover to y, and after it, at most. */
  settleTicksMax: number;
  /** Chance one of c's or r's appends and statuses in step 1 is held. */
  otherHeld: number;
}

const enum Phase {
  Idle,
  Standing,
  Down,
  Recovering,
  Aiming,
  Handed,
  Settling,
}

/**
 * A candidate `c` and its voter `r` crash together, their disks lost: both (five members,
 * but with `oneLostChance`), else one of them (three members: f = 1), the other's kept.
 * Returns the tick they are to come back by.
 */
export function crashLosing(
  sim: SimCluster,
  rng: Rng,
  c: Replica,
  r: Replica,
  knobs: { oneLostChance: number; downTicksMax: number },
): number {
  const f = Math.floor((sim.size - 1) / 2);
  const both = f >= 2 && !rng.chance(knobs.oneLostChance);
  const lost = both || rng.chance(0.5) ? c : r;
  sim.crash(c, both || lost === c);
  sim.crash(r, both || lost === r);
  return sim.now + 1 + rng.int(knobs.downTicksMax);
}

/** One scenario's held-vote episodes, one at a time. */
export class HeldVotes {
  private phase = Phase.Idle;
  private q!: Replica;
  private c!: Replica;
  private r!: Replica;
  /** q's term when the episode began (t). */
  private term = 0;
  /** The member q is to hand over to next (c, then y; 0: none, the episode settles). */
  private target = 0;
  private handovers = 0;
  /** The phase's end (a tick). */
  private until = 0;
  /** Links the episode cuts, whatever random cuts do. */
  private readonly cuts = new Set<string>();
  /** Links cut only until the next handover (q hears its target last). */
  private readonly quiet = new Set<string>();

  constructor(
    private readonly sim: SimCluster,
    private readonly rng: Rng,
    private readonly knobs: VoteKnobs,
  ) {}

  /** Whether an episode runs with `from` as its candidate or voter (their links hold). */
  covers(from: number): boolean {
    return this.phase !== Phase.Idle && (from === this.c.id || from === this.r.id);
  }

  /** Whether the network holds `message` (step 1: r's votes to c, c's requests, some more). */
  holds(from: number, to: number, message: Message): boolean {
    if (this.phase !== Phase.Standing) return false;
    const { c, r } = this;
    if (message.kind === 'vote') return from === r.id && to === c.id;
    if (message.kind === 'vote-request') return from === c.id && to !== r.id;
    if (from !== c.id && from !== r.id) return false;
    return message.kind !== 'timeout-now' && this.rng.chance(this.knobs.otherHeld);
  }

  /** One tick's moves, just before the cluster steps; returns how many held datagrams went on. */
  step(): number {
    const { sim } = this;
    for (const link of this.cuts) sim.cut.add(link);
    for (const link of this.quiet) sim.cut.add(link);
    if (this.phase === Phase.Idle) {
      if (this.rng.chance(this.knobs.chance)) this.begin();
      return 0;
    }
    const { q, c, r } = this;
    const expired = sim.now >= this.until;
    if (this.phase === Phase.Standing) {
      const stood = c.consensus.term === this.term + 1 && c.consensus.role === Role.Candidate;
      if (stood && r.consensus.votedFor === c.id && r.consensus.term === this.term + 1) {
        return this.lose();
      }
      if (expired) return this.end();
    } else if (this.phase === Phase.Down) {
      if (expired) this.restart();
    } else if (this.phase === Phase.Recovering) {
      if (!c.consensus.recovering && !r.consensus.recovering) return this.recovered();
      if (expired) return this.end();
    } else if (this.phase === Phase.Aiming) {
      if (expired) return this.handOver();
    } else if (this.phase === Phase.Handed) {
      return this.handed();
    } else if (expired || !q.up) {
      return this.end();
    }
    return 0;
  }

  /** Step 1: q hands over to c; r is to vote for it, and the others are to hear none of it. */
  private begin(): void {
    const { sim, rng } = this;
    const q = sim.primary();
    if (q === undefined || sim.now < q.pausedUntil || sim.recoveringCount() > 0) return;
    const to = q.consensus.transferLeadership();
    if (to === -1) return;
    const voters = sim.replicas.filter((m) => m !== q && m.id !== to);
    this.q = q;
    this.c = sim.replicas[to - 1];
    this.r = voters[rng.int(voters.length)];
    this.term = q.consensus.term;
    this.handovers = 0;
    for (const m of [this.c, this.r]) {
      for (const o of sim.replicas) if (o !== this.c && o !== this.r) this.cut(m.id, o.id);
    }
    this.until = sim.now + 1 + rng.int(this.knobs.standTicksMax);
    this.phase = Phase.Standing;
  }

  /** Step 2: c and r crash, their disks lost (f of them at most), and stay down a while. */
  private lose(): number {
    const { sim, rng, c, r } = this;
    if (!c.up || !r.up || sim.recoveringCount() > 0) return this.end();
    this.until = crashLosing(sim, rng, c, r, this.knobs);
    this.phase = Phase.Down;
    return 0;
  }

  /** Both come back; the cuts heal (what the network holds stays held). */
  private restart(): void {
    const { sim } = this;
    for (const m of [this.c, this.r]) if (!m.up) sim.restart(m);
    this.heal();
    this.until = sim.now + this.knobs.recoverTicksMax;
    this.phase = Phase.Recovering;
  }

  /** Both recovered: under q, still primary of t, the handovers begin (else it ends here). */
  private recovered(): number {
    const q = this.q.consensus;
    if (!this.q.up || q.role !== Role.Primary || q.term !== this.term) return this.end();
    this.aim(this.c.id);
    return 0;
  }

  /** q hears only `target` for a while, then hands over (the successor heard last). */
  private aim(target: number): void {
    const { sim, q } = this;
    for (const m of sim.replicas) {
      if (m !== q && m.id !== target) this.quiet.add(`${m.id}>${q.id}`);
    }
    this.target = target;
    this.until = sim.now + this.knobs.heardTicks;
    this.phase = Phase.Aiming;
  }

  private handOver(): number {
    const { sim, q } = this;
    for (const link of this.quiet) sim.cut.delete(link);
    this.quiet.clear();
    if (!q.up || q.consensus.role !== Role.Primary) return this.end();
    this.target = q.consensus.transferLeadership();
    this.handovers++;
    this.until = sim.now + 1 + this.rng.int(this.knobs.standTicksMax);
    this.phase = Phase.Handed;
    return 0;
  }

  /**
   * Step 3 (c stood again: the held datagrams of the lost lives go on, and c's new requests
   * reach one member), or step 4 (y stood), or the handover went elsewhere: settle.
   */
  private handed(): number {
    const { sim, rng, c } = this;
    const stood = sim.replicas[this.target - 1]?.consensus;
    const standing = stood?.term === this.term + 1 && stood.role !== Role.Standby;
    if (!standing && sim.now < this.until) return 0;
    this.until = sim.now + 1 + rng.int(this.knobs.settleTicksMax);
    this.phase = Phase.Settling;
    const sent = sim.release(this.r.id) + sim.release(c.id);
    if (!standing || this.target !== c.id || this.handovers > 1) return sent;
    const rest = sim.replicas.filter((m) => m !== c && m !== this.q && m !== this.r);
    if (rest.length === 0) return sent; // three members: no x, no y
    const x = rest[rng.int(rest.length)];
    for (const m of sim.replicas) {
      if (m !== c && m !== x) this.cut(c.id, m.id);
      if (m !== c && m !== x) this.cut(x.id, m.id);
    }
    const others = rest.filter((m) => m !== x);
    if (others.length > 0) this.aim(others[rng.int(others.length)].id);
    return sent;
  }

  private cut(from: number, to: number): void {
    this.cuts.add(`${from}>${to}`);
    this.sim.cut.add(`${from}>${to}`);
  }

  private heal(): void {
    for (const link of this.cuts) this.sim.cut.delete(link);
    for (const link of this.quiet) this.sim.cut.delete(link);
    this.cuts.clear();
    this.quiet.clear();
  }

  /** Heals the episode's cuts and sends on what c and r sent that is still held. */
  end(): number {
    if (this.phase === Phase.Idle) return 0;
    this.heal();
    this.phase = Phase.Idle;
    return this.sim.release(this.c.id) + this.sim.release(this.r.id);
  }
}
