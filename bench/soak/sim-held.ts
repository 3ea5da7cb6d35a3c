/**
 * Datagrams a link holds for long spans (several election timeouts) and delivers later, past
 * crashes, restarts and disk losses of their sender or receiver: a sample of the statuses,
 * appends and votes sent, drawn from the scenario's rng and kept on the fake network's hold
 * (sim-cluster.ts), then released a link at a time. The two bugs found with targeted holds
 * (c960f15: a status sent before a disk loss, read after; 0a37c2f: an append to an earlier life
 * of a wiped replica, read after the loss) were of this shape; the other mixes' delays are of a
 * few ticks, their pauses hold only what reaches the paused replica.
 */
import type { Message } from '../../src/replication/messages.js';
import type { Rng, SimCluster } from './sim-cluster.js';
import { StalePrimary, type StaleKnobs } from './sim-stale.js';
import { HeldTimeouts, type EpisodeSteps, type TimeoutKnobs } from './sim-timeouts.js';
import { HeldVotes, type VoteKnobs } from './sim-votes.js';

/** A mix's knobs for held datagrams (unset in the other mixes: no draw). */
export interface HeldKnobs {
  /** Chance a status, append, vote request or vote is held at send... */
  chance: number;
  /** ...an append naming no entry (the first to a new or empty log), this one... */
  firstChance: number;
  /** ...and a status naming entries durable past its sender's commit (an ack that commits). */
  ackChance: number;
  /**
   * Per tick: links (each one way with a chance of one half) hold most of what they carry (a
   * share drawn in [0.5, 1]) for [spellTicksMin, spellTicksMin + spellTicksSpread) ticks, as a
   * partition does, but to deliver it later.
   */
  spellChance: number;
  spellTicksMin: number;
  spellTicksSpread: number;
  /** Per tick: the datagrams held on one link (drawn at random) are delivered. */
  releaseChance: number;
  /** Held at most at once (then nothing more is held until some are released). */
  heldMax: number;
  /** Stale-primary episodes (sim-stale.ts): none drawn when unset. */
  stale?: StaleKnobs;
  /** Held-vote episodes (sim-votes.ts): none drawn when unset. */
  votes?: VoteKnobs;
  /** Held-vote episodes whose elections start by timeouts (sim-timeouts.ts): unset, none. */
  timeouts?: TimeoutKnobs;
}

/** Whether a message of this kind may be held. */
function holdable(message: Message): boolean {
  return message.kind !== 'timeout-now';
}

/** The held datagrams of one scenario. */
export class HeldDatagrams {
  private held = 0;
  /** Per link "from>to": until when it holds, and what share. */
  private readonly spells = new Map<string, { until: number; share: number }>();
  private readonly stale: StalePrimary | undefined;
  private readonly votes: HeldVotes | undefined;
  private readonly timeouts: HeldTimeouts | undefined;

  constructor(
    private readonly sim: SimCluster,
    private readonly rng: Rng,
    private readonly knobs: HeldKnobs,
  ) {
    sim.hold = (from, to, message) => this.holds(from, to, message);
    this.stale = knobs.stale && new StalePrimary(sim, rng, knobs.stale);
    this.votes = knobs.votes && new HeldVotes(sim, rng, knobs.votes);
    this.timeouts = knobs.timeouts && new HeldTimeouts(sim, rng, knobs.timeouts);
  }

  /** How far held-timeout episodes got (none drawn: undefined). */
  get timeoutSteps(): EpisodeSteps | undefined {
    return this.timeouts?.reached;
  }

  /** The chance `message` is held outside a spell. */
  private chance(from: number, message: Message): number {
    const { knobs } = this;
    if (message.kind === 'append' && message.prevIndex === 0) return knobs.firstChance;
    const commit = this.sim.replicas[from - 1].consensus.commit;
    if (message.kind === 'status' && message.durable > commit) return knobs.ackChance;
    return knobs.chance;
  }

  private holds(from: number, to: number, message: Message): boolean {
    // A held-timeout episode sees every send (a jumped clock's pre-vote request).
    const timed = this.timeouts?.holds(from, to, message) === true;
    if (this.held >= this.knobs.heldMax || !holdable(message)) return false;
    if (timed) return ++this.held > 0;
    // An episode alone holds what reaches its stale primary (no random holds there).
    if (this.stale?.covers(to) === true) return this.stale.holds(from, message) && ++this.held > 0;
    if (this.votes?.holds(from, to, message) === true) return ++this.held > 0;
    const spell = this.spells.get(`${from}>${to}`);
    let chance = this.chance(from, message);
    if (spell !== undefined && this.sim.now < spell.until) chance = Math.max(chance, spell.share);
    if (!this.rng.chance(chance)) return false;
    this.held++;
    return true;
  }

  /** One tick's draw (before the cluster steps): a link's held datagrams go on, at times. */
  step(): void {
    const { sim, rng, knobs } = this;
    if (rng.chance(knobs.spellChance)) this.spell();
    if (!rng.chance(knobs.releaseChance)) return;
    const from = 1 + rng.int(sim.size);
    const to = 1 + rng.int(sim.size);
    if (this.stale?.covers(to) === true || this.votes?.covers(from) === true) return;
    if (this.timeouts?.covers(from) === true) return;
    this.held -= sim.release(from, to);
  }

  /**
   * A stale-primary episode's moves, last before the cluster steps: its cuts hold whatever
   * random cuts did this tick.
   */
  episode(): void {
    if (this.stale !== undefined) this.held -= this.stale.step();
    if (this.votes !== undefined) this.held -= this.votes.step();
    if (this.timeouts !== undefined) this.held -= this.timeouts.step();
  }

  /** Each link (one way) holds with a chance of one half, for one span, the same share. */
  private spell(): void {
    const { sim, rng, knobs } = this;
    const until = sim.now + knobs.spellTicksMin + rng.int(knobs.spellTicksSpread);
    const share = rng.chance(0.5) ? 1 : 0.5 + rng.next() * 0.5;
    for (let from = 1; from <= sim.size; from++) {
      for (let to = 1; to <= sim.size; to++) {
        if (from !== to && rng.chance(0.5)) this.spells.set(`${from}>${to}`, { until, share });
      }
    }
  }

  /** The faults heal: nothing more is held, and what is held goes on (late, into the heal). */
  heal(): void {
    this.sim.hold = null;
    this.spells.clear();
    this.held -= this.stale?.end() ?? 0;
    this.held -= this.votes?.end() ?? 0;
    this.held -= this.timeouts?.end() ?? 0;
    for (let from = 1; from <= this.sim.size; from++) this.held -= this.sim.release(from);
  }
}
