/**
 * A primary the network leaves stale, and a replica that lost its disk serving it, with the
 * replica's acknowledgements from before the loss delivered late: the history c960f15 needed,
 * which random holds, pauses and cuts did not draw together (bench/RESULTS.md, forty-first
 * session). One episode, its times and members drawn from the scenario's rng:
 *
 *   a (primary, term t), w (one of the others; three members, or five: fiveMembers)
 *   1. w's statuses of term t naming entries past a's commit are held (sim-cluster.ts hold),
 *      what the other sends a is cut, for a few ticks; then a stops, once what it wrote is
 *      durable (its commit then moves on no acknowledgement it had before)
 *   2. the others elect a primary p (term t + 1; w itself at times), which commits past a's
 *      log; then w loses its disk and restarts, it and a cut off from the third
 *   3. a resumes (what waited for it is cut), hears w recovering, sends it its log
 *   4. once w holds a's log, w's held statuses from before its loss reach a
 *   5. the cuts stay a while, then heal
 *
 * An acknowledgement of step 4 counted as is let a commit past its commit, w took it for a
 * commit made without it, and the two sides committed different entries at one index.
 *
 * A neighbouring history (fixed by 9bd1de4, peer.ts othersPast; bench/RESULTS.md "a stale
 * primary's recovery line"): a stale primary commits past w's line, without w, with
 * acknowledgements of the other member from before the election (true when sent, delivered
 * late); w takes that for a commit of the cluster, votes again, and its acknowledgements commit
 * a's entry at an index where the later term committed its own. The held mix draws it rarely
 * (random holds from before an episode, delivered after it while a is still stale: 3 in
 * 20,000 seeds before the fix); `othersHeld` (the held-others mix) draws it often. With
 * `fiveMembers`, five-member clusters draw episodes too: a companion stays in a's term, cut
 * off from the election, and serves a with w (a and it are no majority of five).
 */
import { Role, type Message } from '../../src/replication/messages.js';
import type { Replica, Rng, SimCluster } from './sim-cluster.js';

/** A mix's knobs for stale-primary episodes (HeldKnobs.stale; unset: no draw). */
export interface StaleKnobs {
  /** Per tick, while none runs: one begins (if there is a primary). */
  chance: number;
  /** w's acknowledgements are held for [1, holdTicksMax] ticks before a stops. */
  holdTicksMax: number;
  /** The primary stops for at most this long (an episode that gets no further ends). */
  pauseTicksMax: number;
  /** w restarts within [0, restartTicksMax) ticks of its loss, and a within as many after. */
  restartTicksMax: number;
  /** Ticks the wiped replica is given to take a's log before its held statuses come. */
  catchUpTicksMax: number;
  /** After they came, the sides stay cut for [0, sideTicksMax) ticks. */
  sideTicksMax: number;
  /**
   * The other's statuses to a are held too (not cut), and come at the episode's end: main
   * failed such histories before 9bd1de4 (see the header; the held-others mix).
   */
  othersHeld?: boolean;
  /** Five-member clusters draw episodes too, with a companion on a's side (three: always). */
  fiveMembers?: boolean;
}

const enum Phase {
  Idle,
  Holding,
  Paused,
  Wiped,
  Resumed,
  Released,
}

/** Adds the links between each of `a` and each of `b` (not to itself), both ways, to `out`. */
function both(a: readonly number[], b: readonly number[], out: Set<string>): void {
  for (const x of a) {
    for (const y of b) if (x !== y) out.add(`${x}>${y}`).add(`${y}>${x}`);
  }
}

/** One scenario's episodes, one at a time. */
export class StalePrimary {
  private phase = Phase.Idle;
  /** The stale primary (a), its term and commit when the episode began. */
  private stale!: Replica;
  private term = 0;
  private commit = 0;
  private others: number[] = [];
  /** The replica that loses its disk (w), and the log it is to take (a's). */
  private wiped!: Replica;
  private target = 0;
  /** Five members: a third on a's side, in a's term throughout (0: none, three members). */
  private companion = 0;
  /** The phase's end, or its next move (a tick). */
  private until = 0;
  /** Links the episode cuts, and links it keeps open, whatever random cuts do. */
  private readonly cuts = new Set<string>();
  private readonly open = new Set<string>();

  constructor(
    private readonly sim: SimCluster,
    private readonly rng: Rng,
    private readonly knobs: StaleKnobs,
  ) {}

  /** Whether an episode runs with `to` as its stale primary (it alone holds what `to` gets). */
  covers(to: number): boolean {
    return this.phase !== Phase.Idle && to === this.stale.id;
  }

  /** Whether the network holds `message` (w's statuses of a's term, before w's loss). */
  holds(from: number, message: Message): boolean {
    const phase = this.phase;
    if (phase !== Phase.Holding && phase !== Phase.Paused) return false;
    if (from !== this.wiped.id && this.knobs.othersHeld !== true) return false;
    return message.kind === 'status' && message.term === this.term && message.durable > this.commit;
  }

  /**
   * One tick's draws and moves, just before the cluster steps (after random cuts: the
   * episode's hold); returns how many held datagrams it sent on.
   */
  step(): number {
    const { sim } = this;
    for (const link of this.cuts) sim.cut.add(link);
    for (const link of this.open) sim.cut.delete(link);
    if (this.phase === Phase.Idle) {
      if (this.rng.chance(this.knobs.chance)) this.begin();
      return 0;
    }
    const a = this.stale;
    if (!a.up) return this.end(); // a crashed: it is stale no more
    const resumed = sim.now >= a.pausedUntil;
    if (this.phase === Phase.Holding) {
      if (a.consensus.role !== Role.Primary) return this.end(); // it stepped down meanwhile
      if (sim.now >= this.until) this.pause();
    } else if (this.phase === Phase.Paused) {
      if (resumed) return this.end(); // no later term committed past a's log in time
      this.wipe();
    } else if (this.phase === Phase.Wiped) {
      if (sim.now >= this.until) this.restart();
      if (resumed && this.wiped.up) this.resume();
    } else if (this.phase === Phase.Resumed) {
      const caughtUp = this.wiped.up && this.wiped.consensus.durableIndex >= this.target;
      if (caughtUp || sim.now >= this.until) return this.release();
    } else if (sim.now >= this.until) {
      return this.end();
    }
    return 0;
  }

  /** Step 1: w's acknowledgements to the primary are held, the others' cut. */
  private begin(): void {
    const { sim, rng } = this;
    const a = sim.primary();
    if (sim.size !== 3 && this.knobs.fiveMembers !== true) return;
    if (sim.recoveringCount() > 0) return; // a disk to lose
    if (a === undefined || sim.now < a.pausedUntil) return;
    this.stale = a;
    this.term = a.consensus.term;
    this.commit = a.consensus.commit;
    this.others = sim.replicas.filter((r) => r !== a).map((r) => r.id);
    this.wiped = sim.replicas[this.others[rng.int(this.others.length)] - 1];
    for (const id of this.others) if (id !== this.wiped.id) this.cuts.add(`${id}>${a.id}`);
    this.until = sim.now + 1 + rng.int(this.knobs.holdTicksMax);
    this.phase = Phase.Holding;
  }

  /** a stops (once what it wrote is durable: its commit moves on no acknowledgement held). */
  private pause(): void {
    const a = this.stale;
    if (a.disk.pending.length > 0 || a.consensus.durableIndex < a.consensus.lastIndex) return;
    this.cuts.add(`${this.wiped.id}>${a.id}`);
    // Five members: a companion stays in a's term, cut off from the election (three elect).
    const rest = this.others.filter((id) => id !== this.wiped.id);
    this.companion = rest.length > 2 ? rest[this.rng.int(rest.length)] : 0;
    const electors = this.others.filter((id) => id !== this.companion);
    both(electors, electors, this.open);
    if (this.companion !== 0) both([this.companion], electors, this.cuts);
    this.sim.pause(a, this.knobs.pauseTicksMax);
    this.phase = Phase.Paused;
  }

  /** Step 2: once a later term committed past a's log, w loses its disk. */
  private wipe(): void {
    const { sim } = this;
    const p = sim.primary();
    if (p === undefined || p.consensus.term <= this.term) return;
    if (p.consensus.commit <= this.stale.consensus.lastIndex) return;
    const w = this.wiped;
    if (!w.up || sim.recoveringCount() > 0) return;
    sim.crash(w, true);
    this.until = sim.now + this.rng.int(this.knobs.restartTicksMax);
    const side = [this.stale.id, w.id];
    if (this.companion !== 0) side.push(this.companion);
    this.open.clear();
    both(side, side, this.open);
    for (const id of side) this.open.delete(`${id}>${this.stale.id}`); // until a resumes
    both(
      side,
      this.others.filter((id) => !side.includes(id)),
      this.cuts,
    );
    for (const link of this.cuts) sim.cut.add(link);
    this.phase = Phase.Wiped;
  }

  /** w comes back, recovering; a resumes soon after. */
  private restart(): void {
    const { sim, stale } = this;
    if (!this.wiped.up) sim.restart(this.wiped);
    this.until = Number.MAX_SAFE_INTEGER; // once
    const at = sim.now + 1 + this.rng.int(this.knobs.restartTicksMax);
    if (stale.pausedUntil > at) stale.pausedUntil = at;
  }

  /** Step 3: a runs again (what waited for it was cut); its side's links to it open. */
  private resume(): void {
    for (const id of [this.wiped.id, this.companion]) {
      if (id === 0) continue;
      this.cuts.delete(`${id}>${this.stale.id}`);
      this.open.add(`${id}>${this.stale.id}`);
    }
    this.target = this.stale.consensus.lastIndex;
    this.until = this.sim.now + this.knobs.catchUpTicksMax;
    this.phase = Phase.Resumed;
  }

  /** Step 4: w's statuses from before its loss reach a; the sides stay cut a while. */
  private release(): number {
    this.phase = Phase.Released;
    this.until = this.sim.now + this.rng.int(this.knobs.sideTicksMax);
    return this.sim.release(this.wiped.id, this.stale.id);
  }

  /** Heals the episode's cuts and sends on what is still held for a; returns how many. */
  end(): number {
    if (this.phase === Phase.Idle) return 0;
    for (const link of this.cuts) this.sim.cut.delete(link);
    this.cuts.clear();
    this.open.clear();
    this.phase = Phase.Idle;
    const w = this.wiped.id;
    let sent = 0;
    for (const id of this.others) {
      if (id === w || this.knobs.othersHeld === true) sent += this.sim.release(id, this.stale.id);
    }
    return sent;
  }
}
