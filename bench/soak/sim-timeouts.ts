/**
 * The history of held-votes (sim-votes.ts: a vote of a lost life, held, read by the candidate's
 * next life), with every election started by an election timeout, not a handover: the primary
 * stops (a pause) or is cut off (it steps down when it hears no majority), and a follower's
 * clock jumps, so that it is the first to find the primary gone. Pre-votes run as in any
 * timeout (a handover skips them), and the network holds pre-vote traffic too, and the
 * primary's appends and heartbeats to the lives it loses, delivered to the next lives and,
 * after a new term, as appends of an old term. One episode, drawn from the scenario's rng:
 *
 *   q (primary, term t), c (candidate), r (a voter of c), x, y (the rest, five members)
 *   1. random cuts heal, and q stops for a while (two election timeouts or more); once c (of
 *      the most complete logs) and a majority with it hear no primary, c's clock jumps to its
 *      election timeout: it asks for pre-votes, stands in t + 1, and r votes for it. r's
 *      vote to c is held, and c's requests to the others (c does not win); whatever else c
 *      and r send the others is held too, but pre-vote requests and grants (some of r's
 *      pre-vote grants to c are held as well); q's appends to c and r at times
 *   2. c and r crash and come back after a while, both with their disks lost (five members, at
 *      times one; three members: one), read q's held appends to their lost lives, and recover
 *      under q, still primary of t (it resumed)
 *   3. once c's log is as complete as x's and r's, q is cut off from c, x and r (both ways);
 *      once they hear no primary c's clock jumps again: c's new life asks for pre-votes (r's
 *      lost life's held pre-vote grants reach it meanwhile) and stands in t + 1; then r's
 *      lost life's held vote reaches it, and c's lost life's held requests x; c's messages
 *      reach x alone from then on, and x's c alone
 *   4. q steps down (it hears y alone, no majority); its links with r heal, and once y and r
 *      hear no primary, q's clock jumps: it stands in t + 1 with y's vote and r's new life's
 *   5. a while later the episode's cuts heal, and what it held goes on (some of q's appends of
 *      term t to y in steps 3 and 4 among it)
 *
 * Counted as is (before dfd8391), step 3's held vote made c primary of t + 1 with x's, and
 * step 4 another. An episode that gets no further (another member timed out first, a crash,
 * no recovery in time) ends there: what it held goes on, late, to whatever lives are there.
 */
import { electionTimeoutTicksMax } from '../../src/constants.js';
import { Role, type Message } from '../../src/replication/messages.js';
import type { Replica, Rng, SimCluster } from './sim-cluster.js';
import { crashLosing } from './sim-votes.js';

/** A mix's knobs for held-timeout episodes (HeldKnobs.timeouts; unset: no draw). */
export interface TimeoutKnobs {
  /** Per tick, while none runs: one begins (if there is a primary and no lost disk). */
  chance: number;
  /** q stops for two election timeouts (the longest) and up to this many ticks more. */
  pauseTicksMax: number;
  /** Ticks c is given to stand and r to vote for it (step 1), and each stand after. */
  standTicksMax: number;
  /** c and r come back within [1, downTicksMax] ticks of their crash. */
  downTicksMax: number;
  /** Ticks the lost lives are given to recover under q. */
  recoverTicksMax: number;
  /** Five members: only one of c and r loses its disk (the other restarts with it). */
  oneLostChance: number;
  /** Ticks after q's stand (or the episode's last move), at most, before it ends. */
  settleTicksMax: number;
  /** Chance one of q's appends to c or r in step 1 is held (to their next lives), or to y. */
  appendHeld: number;
  /** Chance one of r's pre-vote grants to c in step 1 is held (five members). */
  preHeld: number;
}

/**
 * Episodes that got to: c stood with r's vote (step 1), c and r lost (2), both recovered under
 * q (3 begins), c's new life stood in t + 1 again (3), q stood in t + 1 too (4).
 */
export interface EpisodeSteps {
  stood: number;
  lost: number;
  recovered: number;
  restood: number;
  second: number;
}

const enum Phase {
  Idle,
  /** Step 1: q paused; c's clock jumps once it hears no primary. */
  Quieting,
  Standing,
  Down,
  Recovering,
  /** Step 3: q cut off; c's clock jumps once it hears no primary. */
  Isolating,
  Restanding,
  /** Step 4: q's clock jumps once it stood down and y and r hear no primary. */
  Waiting,
  Settling,
}

const pauseTicksMin = 2 * electionTimeoutTicksMax;

/** Whether `a`'s log is more complete than `b`'s (last term, then last index): b's loses. */
function longer(a: Replica, b: Replica): boolean {
  const [ta, tb] = [lastTerm(a), lastTerm(b)];
  return ta > tb || (ta === tb && a.consensus.lastIndex > b.consensus.lastIndex);
}

function lastTerm(m: Replica): number {
  const c = m.consensus;
  return c.lastIndex === 0 ? 0 : c.entry(c.lastIndex).term;
}

function isPre(message: Message): boolean {
  return message.kind === 'vote' && message.pre;
}

/** One scenario's held-timeout episodes, one at a time. */
export class HeldTimeouts {
  private phase = Phase.Idle;
  private q!: Replica;
  private c!: Replica;
  private r!: Replica;
  /** x and y (five members; undefined with three). */
  private x: Replica | undefined;
  private y: Replica | undefined;
  /** q's term when the episode began (t). */
  private term = 0;
  /** The phase's end (a tick). */
  private until = 0;
  /** Whether the member whose clock jumps has asked for pre-votes (seen at send). */
  private asked = false;
  private jumping = 0;
  /** Links the episode cuts, whatever random cuts do. */
  private readonly cuts = new Set<string>();
  /** Episodes that reached each step (bench:simulation prints them: how far they get). */
  readonly reached: EpisodeSteps = { stood: 0, lost: 0, recovered: 0, restood: 0, second: 0 };

  constructor(
    private readonly sim: SimCluster,
    private readonly rng: Rng,
    private readonly knobs: TimeoutKnobs,
  ) {}

  /** Whether an episode runs with `from` as its q, c or r (their links hold). */
  covers(from: number): boolean {
    if (this.phase === Phase.Idle) return false;
    return from === this.c.id || from === this.r.id || from === this.q.id;
  }

  /** Whether the network holds `message` (step 1's holds); sees every send. */
  holds(from: number, to: number, message: Message): boolean {
    const pre = message.kind === 'vote-request' && message.pre;
    if (from === this.jumping && pre) this.asked = true;
    if (this.phase >= Phase.Isolating && this.phase <= Phase.Waiting) {
      // q's appends of term t to y, held past the elections of t + 1 (the episode's end).
      const toY = from === this.q.id && to === this.y?.id && message.kind === 'append';
      return toY && this.rng.chance(this.knobs.appendHeld);
    }
    if (this.phase !== Phase.Standing && this.phase !== Phase.Quieting) return false;
    const { c, r, q } = this;
    const ours = (id: number): boolean => id === c.id || id === r.id;
    if (from === q.id && ours(to)) {
      return message.kind === 'append' && this.rng.chance(this.knobs.appendHeld);
    }
    if (!ours(from)) return false;
    const preGrant = message.kind === 'vote' && message.pre && message.granted;
    // To the others: pre-vote requests and grants only (nothing says t + 1 to q, x or y).
    if (!ours(to)) return !pre && !preGrant;
    if (from !== r.id || to !== c.id || message.kind !== 'vote') return false;
    return (
      !message.pre || (preGrant && this.x !== undefined && this.rng.chance(this.knobs.preHeld))
    );
  }

  /** One tick's moves, just before the cluster steps; returns how many held datagrams went on. */
  step(): number {
    for (const link of this.cuts) this.sim.cut.add(link);
    if (this.phase === Phase.Idle) {
      if (this.rng.chance(this.knobs.chance)) this.begin();
      return 0;
    }
    const expired = this.sim.now >= this.until;
    switch (this.phase) {
      case Phase.Quieting:
      case Phase.Isolating:
        return this.quieting(expired);
      case Phase.Standing:
        return this.standing(expired);
      case Phase.Down:
        return expired ? this.restart() : 0;
      case Phase.Recovering:
        if (this.caughtUp()) return this.isolate();
        return expired ? this.end() : 0;
      case Phase.Restanding:
        return this.restanding(expired);
      case Phase.Waiting:
        return this.waiting(expired);
      default:
        return expired || !this.q.up ? this.end() : 0;
    }
  }

  /** Step 1: q stops; c is to stand first, r to vote for it. */
  private begin(): void {
    const { sim, rng } = this;
    const q = sim.primary();
    if (q === undefined || sim.now < q.pausedUntil || sim.recoveringCount() > 0) return;
    const others = sim.replicas.filter((m) => m !== q);
    this.q = q;
    // c: one of those whose logs are the most complete (the others grant it pre-votes).
    const best = others.filter((m) => !others.some((o) => longer(o, m)));
    this.c = best[rng.int(best.length)];
    const voters = others.filter((m) => m !== this.c);
    this.r = voters[rng.int(voters.length)];
    const rest = voters.filter((m) => m !== this.r);
    this.x = rest.length > 0 ? rest[rng.int(rest.length)] : undefined;
    this.y = rest.find((m) => m !== this.x);
    this.term = q.consensus.term;
    sim.cut.clear(); // random cuts heal: the episode's alone stand (c must hear its voters)
    sim.pause(q, pauseTicksMin + rng.int(this.knobs.pauseTicksMax));
    this.until = q.pausedUntil;
    this.phase = Phase.Quieting;
  }

  /** c's clock jumps once it hears no primary (steps 1 and 3); else the phase runs out. */
  private quieting(expired: boolean): number {
    const { c } = this;
    if (!c.up || expired) return this.end();
    if (c.consensus.role !== Role.Standby || !this.unheard()) return 0;
    const again = this.phase === Phase.Isolating;
    this.jump(c);
    // r's lost life's pre-vote grants for t + 1, held: they reach c while it asks.
    const sent = again ? this.sim.release(this.r.id, c.id, isPre) : 0;
    this.until = this.sim.now + 1 + this.rng.int(this.knobs.standTicksMax);
    this.phase = again ? Phase.Restanding : Phase.Standing;
    return sent;
  }

  /**
   * c and enough others to make a majority with it hear no primary and hold no more of the
   * log than c (they grant its pre-votes; q stopped or cut off, their logs stand still).
   */
  private unheard(): boolean {
    const { sim, c, q } = this;
    if (c.consensus.heardPrimaryId !== -1) return false;
    let free = 1;
    for (const m of sim.replicas) {
      if (m === c || m === q || !m.up || m.consensus.recovering) continue;
      if (m.consensus.heardPrimaryId === -1 && !longer(m, c)) free++;
    }
    return 2 * free > sim.size;
  }

  /** `m`'s clock runs on to its election timeout (at most one), as after a jump. */
  private jump(m: Replica): void {
    this.asked = false;
    this.jumping = m.id;
    for (let k = 0; k < electionTimeoutTicksMax && !this.asked && m.up; k++) m.consensus.tick();
    this.jumping = 0;
  }

  private standing(expired: boolean): number {
    const { c, r } = this;
    const t1 = this.term + 1;
    const stood = c.consensus.term === t1 && c.consensus.role === Role.Candidate;
    if (stood && r.consensus.votedFor === c.id && r.consensus.term === t1) return this.lose();
    return expired ? this.end() : 0;
  }

  /** Step 2: c and r crash, their disks lost (f of them at most), and stay down a while. */
  private lose(): number {
    const { sim, rng, c, r } = this;
    if (!c.up || !r.up || sim.recoveringCount() > 0) return this.end();
    this.reached.stood++;
    this.until = crashLosing(sim, rng, c, r, this.knobs);
    this.phase = Phase.Down;
    return 0;
  }

  /** Both come back (what the network holds stays held) and recover. */
  private restart(): number {
    const { sim } = this;
    this.reached.lost++;
    for (const m of [this.c, this.r]) if (!m.up) sim.restart(m);
    // q's appends to the lost lives, held: the new lives read them as they recover.
    const sent = sim.release(this.q.id, this.c.id) + sim.release(this.q.id, this.r.id);
    this.until = Math.max(sim.now, this.q.pausedUntil) + this.knobs.recoverTicksMax;
    this.phase = Phase.Recovering;
    return sent;
  }

  /** Both recovered, and c holds as much of the log as x and r: it will win their pre-votes. */
  private caughtUp(): boolean {
    const { c, r, x } = this;
    if (c.consensus.recovering || r.consensus.recovering) return false;
    return !longer(r, c) && (x === undefined || !longer(x, c));
  }

  /** Step 3: both recovered under q, still primary of t: q is cut off from c, x and r. */
  private isolate(): number {
    const { q, sim } = this;
    if (!q.up || q.consensus.role !== Role.Primary || q.consensus.term !== this.term) {
      return this.end();
    }
    this.reached.recovered++;
    for (const m of sim.replicas) {
      if (m !== q && m !== this.y) this.cutBoth(q, m);
    }
    this.until = sim.now + 2 * electionTimeoutTicksMax;
    this.phase = Phase.Isolating;
    return 0;
  }

  /** Step 3's end: c stood in t + 1; its lost life's requests reach x; c and x are cut off. */
  private restanding(expired: boolean): number {
    const { sim, c, x } = this;
    const stood = c.consensus.term === this.term + 1 && c.consensus.role !== Role.Standby;
    if (!stood) return expired ? this.end() : 0;
    this.reached.restood++;
    // r's lost life's vote for c in t + 1, held: it reaches c's new life, standing there.
    const sent = sim.release(this.r.id, c.id);
    if (x === undefined) return this.settle(sent); // three members: no x, no y
    for (const m of sim.replicas) {
      if (m === c || m === x) continue;
      this.cut(c, m); // c's requests reach x only, and x's answers c only
      this.cut(x, m);
    }
    this.until = sim.now + 2 * electionTimeoutTicksMax;
    this.phase = Phase.Waiting;
    return sent + sim.release(c.id, x.id);
  }

  /**
   * Step 4: once q stood down (it hears y alone), its links with r heal, and once neither y
   * nor r hears a primary (their logs no longer than q's: it wrote to y last), q's clock jumps.
   */
  private waiting(expired: boolean): number {
    const { q, r, y } = this;
    if (expired || y === undefined || !y.up || !q.up || !r.up) return this.end();
    if (q.consensus.role !== Role.Standby) return 0;
    this.uncut(q, r);
    this.uncut(r, q);
    if (y.consensus.heardPrimaryId !== -1 || r.consensus.heardPrimaryId !== -1) return 0;
    if (longer(y, q) || longer(r, q)) return this.end();
    this.reached.second++;
    this.jump(q);
    return this.settle(0);
  }

  private settle(sent: number): number {
    this.until = this.sim.now + 1 + this.rng.int(this.knobs.settleTicksMax);
    this.phase = Phase.Settling;
    return sent;
  }

  private cut(a: Replica, b: Replica): void {
    this.cuts.add(`${a.id}>${b.id}`);
    this.sim.cut.add(`${a.id}>${b.id}`);
  }

  private uncut(a: Replica, b: Replica): void {
    this.cuts.delete(`${a.id}>${b.id}`);
    this.sim.cut.delete(`${a.id}>${b.id}`);
  }

  private cutBoth(a: Replica, b: Replica): void {
    this.cut(a, b);
    this.cut(b, a);
  }

  /** Heals the episode's cuts and sends on what c, r and q sent that is still held. */
  end(): number {
    if (this.phase === Phase.Idle) return 0;
    for (const link of this.cuts) this.sim.cut.delete(link);
    this.cuts.clear();
    this.phase = Phase.Idle;
    const { sim } = this;
    return sim.release(this.c.id) + sim.release(this.r.id) + sim.release(this.q.id);
  }
}
