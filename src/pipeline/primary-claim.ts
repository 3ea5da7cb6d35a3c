/**
 * Whether a primary may tell clients it is one (/health's `accepting`, /ready): it heard its
 * standbys' statuses from a majority within an election timeout, by the wall clock, and its
 * timers ran on time for one. Consensus keeps its times in ticks, which stand still while the
 * process does: a primary resumed after SIGSTOP counted one tick for the seconds it was
 * stopped, heard its standbys "just now", and /health said `"role":"primary","accepting":true`
 * (and /ready 200) until the new primary's messages reached it; the SDK's primary probe and a
 * load balancer took it at its word. Stopped or stalled that long, the others may have elected
 * meanwhile: it says so until another election timeout has passed, since the datagrams queued
 * while it stood still are read as if just sent (statuses sent before it stopped, a pre-vote),
 * and a new primary's heartbeats (every 30 ms) depose it within that.
 *
 * It also keeps what each standby's last status of the primary's term said of it that
 * consensus keeps to itself: whether it is recovering (it lost its disk, so it may not stand,
 * and it reports nothing durable past its commit: consensus.ts), and how far it has written
 * (its match: entries it holds, verified in this term, synced or not). /metrics counts a
 * recovering standby's lag from there (cluster-metrics.ts), and a clean stop that names no
 * successor says when a recovering standby was the only one holding the whole journal.
 */
import { clusterMembersMax } from '../constants.js';
import type { Status } from '../replication/messages.js';
import { MembersHeard, memberDownMs } from './members-heard.js';

export class PrimaryClaim {
  private readonly self: number;
  /** When each standby's last status of this primary's term was read. */
  private readonly statuses: MembersHeard;
  private tickedAt = performance.now();
  /** When the last stall of an election timeout or more ended. */
  private stallEndedAt = Number.NEGATIVE_INFINITY;
  /** Per member: the term of its last status read (0: none), its match, whether recovering. */
  private readonly statusTerm = new Float64Array(clusterMembersMax + 1);
  private readonly matched = new Float64Array(clusterMembersMax + 1);
  private readonly recoveringSaid = new Uint8Array(clusterMembersMax + 1);

  constructor(self: number, ids: readonly number[]) {
    this.self = self;
    this.statuses = new MembersHeard(ids);
  }

  /** The consensus clock ticked at `nowMs`, `gapMs` after the tick before. */
  ticked(nowMs: number, gapMs: number): void {
    this.tickedAt = nowMs;
    if (gapMs >= memberDownMs) this.stallEndedAt = nowMs;
  }

  /** A status `m` of the primary's own term, read at `nowMs`. */
  status(m: Status, nowMs: number): void {
    this.statuses.stamp(m.from, nowMs);
    if (m.from < 1 || m.from > clusterMembersMax || m.term < this.statusTerm[m.from]) return;
    this.statusTerm[m.from] = m.term;
    this.matched[m.from] = m.match;
    this.recoveringSaid[m.from] = m.recovering ? 1 : 0;
  }

  /** Whether standby `member`'s last status in `term` said it is recovering. */
  recovering(member: number, term: number): boolean {
    return this.heardIn(member, term) && this.recoveringSaid[member] === 1;
  }

  /** How far standby `member`'s last status in `term` said it has written (-1: none heard). */
  written(member: number, term: number): number {
    return this.heardIn(member, term) ? this.matched[member] : -1;
  }

  /** Whether a standby that said it is recovering, in `term`, has written up to `index`. */
  recoveringHolds(term: number, index: number): boolean {
    for (let id = 1; id <= clusterMembersMax; id++) {
      if (this.recovering(id, term) && this.matched[id] >= index) return true;
    }
    return false;
  }

  private heardIn(member: number, term: number): boolean {
    return member >= 1 && member <= clusterMembersMax && this.statusTerm[member] === term;
  }

  confirmed(nowMs: number): boolean {
    if (nowMs - this.tickedAt >= memberDownMs) return false; // stands still now
    if (nowMs - this.stallEndedAt < memberDownMs) return false;
    return this.statuses.majorityHeard(this.self, nowMs);
  }
}
