/**
 * When this member last heard each other member, by the wall clock: /health's `peers`, each
 * member up or down and how long ago it was heard (primary-claim.ts keeps a primary's
 * standbys' statuses the same way). Any message a member sends counts: it shows the member's
 * process up and reachable.
 */
import { electionTimeoutTicksMin, replicationTickMs } from '../constants.js';
import { assert } from '../stdx/assert.js';
import { Role } from '../replication/messages.js';

/** A member silent this long (ms) is down: as long as consensus waits before it acts on it. */
export const memberDownMs = electionTimeoutTicksMin * replicationTickMs;

/** One other member as /health shows it (docs/PROTOCOL.md, "Readiness"). */
export interface PeerHealth {
  member: number;
  /** up: heard within memberDownMs; down: not, and this member expects to hear it; unknown. */
  state: 'up' | 'down' | 'unknown';
  /** Milliseconds since it was last heard (null: never, since this member started). */
  heardMsAgo: number | null;
  /** On the primary: sequences it holds that the member has not made durable (else null). */
  lagEvents: number | null;
  /**
   * On the primary: the member's last status of its term said it lost its disk and has not
   * caught up (it may not vote or stand); false when it said not or said nothing yet. Else null.
   */
  recovering: boolean | null;
}

/** What the primary knows of each standby (empty maps on the others): cluster-metrics.ts. */
export interface StandbysSeen {
  lags: ReadonlyMap<number, number>;
  recovering: ReadonlyMap<number, boolean>;
}

export class MembersHeard {
  private readonly ids: readonly number[];
  private readonly heardAtMs: Float64Array;

  constructor(ids: readonly number[]) {
    assert(ids.length >= 1, 'members heard: a cluster has members');
    this.ids = ids;
    this.heardAtMs = new Float64Array(ids.length).fill(Number.NEGATIVE_INFINITY);
  }

  /** A message from `member` arrived now. Unknown ids are dropped by the transport before. */
  stamp(member: number, nowMs: number): void {
    const at = this.ids.indexOf(member);
    if (at >= 0) this.heardAtMs[at] = nowMs;
  }

  /** Milliseconds since `member` was heard, or null when never. */
  agoMs(member: number, nowMs: number): number | null {
    const at = this.ids.indexOf(member);
    const heard = at < 0 ? Number.NEGATIVE_INFINITY : this.heardAtMs[at];
    return heard === Number.NEGATIVE_INFINITY ? null : Math.max(0, nowMs - heard);
  }

  /** Whether `self` and the members heard within memberDownMs make a majority. */
  majorityHeard(self: number, nowMs: number): boolean {
    let heard = 0;
    for (const id of this.ids) {
      const ago = id === self ? 0 : this.agoMs(id, nowMs);
      if (ago !== null && ago < memberDownMs) heard++;
    }
    return heard * 2 > this.ids.length;
  }

  /**
   * The other members as `self` sees them, in `role` under `primary` (-1: none known).
   * A primary should hear every standby all the time (they answer its heartbeats), a standby
   * its primary; the others speak only in elections, so their silence says nothing.
   */
  peersOf(
    self: number,
    role: Role,
    primary: number,
    standbys: StandbysSeen,
    nowMs: number,
  ): PeerHealth[] {
    const expected = (m: number): boolean =>
      role === Role.Primary || (role === Role.Standby && m === primary);
    return this.peers(self, expected, standbys, nowMs);
  }

  /**
   * The other members as `self` sees them. `expected`: the members it should hear all the time
   * (a primary: every standby, which answers its heartbeats; a standby: its primary); the others
   * speak only in elections, so their silence says nothing: unknown, unless heard lately.
   */
  peers(
    self: number,
    expected: (member: number) => boolean,
    standbys: StandbysSeen,
    nowMs: number,
  ): PeerHealth[] {
    const out: PeerHealth[] = [];
    for (const member of this.ids) {
      if (member === self) continue;
      const ago = this.agoMs(member, nowMs);
      const up = ago !== null && ago < memberDownMs;
      const state = up ? 'up' : expected(member) ? 'down' : 'unknown';
      const heardMsAgo = ago === null ? null : Math.round(ago);
      const lagEvents = standbys.lags.get(member) ?? null;
      const recovering = standbys.recovering.get(member) ?? null;
      out.push({ member, state, heardMsAgo, lagEvents, recovering });
    }
    return out;
  }
}
