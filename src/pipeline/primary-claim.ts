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
 * Only when each standby was heard is kept here, by the wall clock. What its statuses said of
 * it (recovering, written, durable) consensus keeps per peer, and /metrics and the clean stop
 * read it there (Consensus recoveringAt, writtenAt, durableAt).
 */
import { MembersHeard, memberDownMs } from './members-heard.js';

export class PrimaryClaim {
  private readonly self: number;
  /** When each standby's last status of this primary's term was read. */
  private readonly statuses: MembersHeard;
  private tickedAt = performance.now();
  /** When the last stall of an election timeout or more ended. */
  private stallEndedAt = Number.NEGATIVE_INFINITY;

  constructor(self: number, ids: readonly number[]) {
    this.self = self;
    this.statuses = new MembersHeard(ids);
  }

  /** The consensus clock ticked at `nowMs`, `gapMs` after the tick before. */
  ticked(nowMs: number, gapMs: number): void {
    this.tickedAt = nowMs;
    if (gapMs >= memberDownMs) this.stallEndedAt = nowMs;
  }

  /** A status of the primary's own term from `member`, read at `nowMs`. */
  status(member: number, nowMs: number): void {
    this.statuses.stamp(member, nowMs);
  }

  confirmed(nowMs: number): boolean {
    if (nowMs - this.tickedAt >= memberDownMs) return false; // stands still now
    if (nowMs - this.stallEndedAt < memberDownMs) return false;
    return this.statuses.majorityHeard(this.self, nowMs);
  }
}
