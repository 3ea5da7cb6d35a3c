/**
 * Asking another member to begin a new run (transport version 5 on). A member takes none of a
 * run it cannot vouch for (replay-window.ts), and in two cases that run is the sender's
 * current one, so without a word the two would never hear each other:
 *
 *   - the receiver restarted: it remembers the sender's start (stored), not which of its ids
 *     it took, so the start is Unproven; a sender that did not restart meanwhile goes on in it;
 *   - the sender lost its folder, and its clock is behind its last run's start: its new start
 *     is below the one the receiver heard, so Stale (before, refused until its clock passed
 *     that start: a member rebuilt on a host whose clock ran an hour behind sat out an hour).
 *
 * Either way the receiver sends a Renew, at most one per member per udpRenewAskMs (and one more
 * naming a start other than the run the sender is likely in: RenewAsks), naming the start it
 * refused (`seen`) and the newest it knows of the sender (`floor`). The sender takes a start
 * above `floor` (stored before use: ReplicaStore.nextTransportStart) only when `seen` is
 * its current start, so that a Renew provoked by a replay of an older run (seen is that run's)
 * renews nothing; and a Renew is a message of one datagram, taken once like any.
 *
 * A Renew of a sender's run that the receiver cannot vouch for (Unproven, or Stale) is heeded
 * too, its id not marked taken: however often one comes, it renews at most the run it names,
 * which that ends. Refused, two members could never hear each other: one that lost its folder
 * with its clock behind its last run takes its own start for the others' (member-transport.ts),
 * so a sender in an older run is Unproven there, while the sender refuses its new run as Stale
 * and asks it to renew: each refused the other's Renew, for as long as both runs went on. Two
 * that lost their folders, clocks behind, each sent a recording of the other's last run (above
 * its own start, so taken: docs/ROLES.md), refused each other's runs as Stale, the same way.
 *
 *   0           40        48        56
 *   +-----------+---------+---------+
 *   | header    | seen    | floor   |   header: datagram.ts, type Renew (3)
 *   +-----------+---------+---------+   seen, floor: float64 starts
 */
import { clusterMembersMax, udpRenewAskMs } from '../constants.js';
import { assert } from '../stdx/assert.js';
import { datagramHeaderBytes } from './datagram.js';

/** A Renew's bytes: its header, then the start refused and the start to pass. */
export const renewBytes = datagramHeaderBytes + 16;

/** Writes a Renew's body into `datagram` (renewBytes long, its header written). */
export function writeRenew(datagram: Buffer, seen: number, floor: number): void {
  assert(datagram.byteLength === renewBytes, 'renew: its length');
  datagram.writeDoubleLE(seen, datagramHeaderBytes);
  datagram.writeDoubleLE(floor, datagramHeaderBytes + 8);
}

/**
 * The start above which a member in run `runStart` must begin its next one for the Renew
 * `datagram` (intact, authentic, taken), or -1 when it asks nothing of this run.
 */
export function renewFloor(datagram: Buffer, runStart: number): number {
  if (datagram.byteLength !== renewBytes) return -1;
  const seen = datagram.readDoubleLE(datagramHeaderBytes);
  const floor = datagram.readDoubleLE(datagramHeaderBytes + 8);
  return seen === runStart && floor >= runStart ? floor : -1;
}

/**
 * When this member last asked each other one to renew (performance.now() ms): apart for asks
 * naming the run the sender is most likely in, and for asks naming any other (a replay of an
 * older run, or a sender that lost its folder with its clock behind). With one allowance a
 * member, a replay of an older run sent just ahead of the sender's datagrams in each interval
 * used it up in vain: the run in use was never asked for, and the member never heard the
 * sender while the replays went on. The run in use is the newest start known of the sender (a
 * run remembered from before a restart), or the newest start refused of it: a member that lost
 * its folder knows its own start in place of the sender's (member-transport.ts), above every
 * run, and a replay is of a run older than the one in use. Taking only the newest known, every
 * ask of such a member drew on the other allowance, and replays crowded its primary out.
 *
 * Right after a restart nothing has been refused yet, so the first refused start counts as the
 * run in use even when it is a replay's; the sender's own datagrams then found that allowance
 * spent and waited one interval for their ask. So when a newer start than the last in-use ask
 * named comes within the interval, that ask was a replay's after all: it is charged to the other
 * allowance, if that one is free, and the newer start is asked at once (at most two asks a
 * member an interval still, however the replays are ordered).
 */
export class RenewAsks {
  private readonly askedAt = new Float64Array(clusterMembersMax + 1).fill(-Infinity);
  private readonly askedOtherAt = new Float64Array(clusterMembersMax + 1).fill(-Infinity);
  /** The start the last ask of the run in use named, per member (-Infinity: none). */
  private readonly askedSeen = new Float64Array(clusterMembersMax + 1).fill(-Infinity);
  /** The newest start each member's refused datagrams named (0: none yet). */
  private readonly seenTop = new Float64Array(clusterMembersMax + 1);

  /**
   * Whether to ask member `to` now about its run `seen` (`newest`: the newest start known of
   * it): not within udpRenewAskMs of the last ask of the same kind.
   */
  due(to: number, nowMs: number, seen: number, newest: number): boolean {
    assert(to >= 1 && to <= clusterMembersMax, 'renew: a member id');
    const inUse = seen === newest || seen >= this.seenTop[to];
    if (seen > this.seenTop[to]) this.seenTop[to] = seen;
    if (inUse && seen > this.askedSeen[to]) this.regrade(to, nowMs);
    const asked = inUse ? this.askedAt : this.askedOtherAt;
    if (!this.free(asked, to, nowMs)) return false;
    asked[to] = nowMs;
    if (inUse) this.askedSeen[to] = seen;
    return true;
  }

  /** The last ask of the run in use named an older start (a replay's): the other allowance's. */
  private regrade(to: number, nowMs: number): void {
    if (this.free(this.askedAt, to, nowMs)) return; // not spent: nothing to move
    if (!this.free(this.askedOtherAt, to, nowMs)) return; // both spent this interval
    this.askedOtherAt[to] = this.askedAt[to];
    this.askedAt[to] = -Infinity;
  }

  private free(asked: Float64Array, to: number, nowMs: number): boolean {
    return nowMs - asked[to] >= udpRenewAskMs;
  }
}
