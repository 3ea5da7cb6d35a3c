/**
 * Which messages of each other member this member has taken, so that none is taken twice. A
 * datagram's MAC says a member made it, not when: one recorded and sent again from the member's
 * address (by whoever can forge a source, or holds the port of a member that is down) passed
 * every check, and the transport remembered only its last 1,024 messages. A crashed primary's
 * heartbeats sent again kept its standbys hearing it, with no election, for as long as the
 * replays went on (test/integration/cluster-replay.test.ts); a NAK sent again had its fragments
 * resent each time.
 *
 * Every datagram carries its sender's start (udp-transport.ts: a number that only grows, across
 * the member's restarts too, replica-store.ts) and its message id, numbered up from 1 within
 * that start. For each member the receiver keeps the newest start it heard, the one before
 * (a start renewed while the last one's datagrams were on their way), the highest id heard in
 * it, and a bit per id for the last `windowIds` ids (1 once the message was taken whole):
 *
 *   start up to one remembered, unheard   Unproven: not taken; the sender is asked to renew
 *   start below both kept                 Stale: of an earlier run (a replay, told)
 *   the start before the newest           Old: dropped
 *   start above the newest                Restarted: the member's window begins anew
 *   id above the highest                  New; the window moves up to it
 *   id within windowIds of the highest    New, or Heard when its bit is set
 *   id further below                      Old: too far behind to tell from a replay
 *
 * The window (udpReplayWindowIds, 2^17: 16 KB a member) is far more ids than a sender gives
 * while one of its messages is on its way: behind a full send queue (udpSendQueueMax
 * datagrams), or resent for a NAK within the receiver's reassembly timeout. A message further
 * behind is dropped as a lost one, which consensus sends again.
 *
 * A member that restarts remembers the newest start it heard of each other member (stored in
 * its folder before the first datagram of that start is taken: replica-store.ts), but not
 * which of its ids it took: a start at or below a remembered one is Unproven, none of its
 * messages taken, and the sender is asked to begin a run above it (run-renewal.ts). Before,
 * a restarted member knew no one's run and took the first start it heard of each: datagrams
 * recorded before its restart were taken once each (a dead primary's heartbeats kept it
 * hearing a primary, and refusing the others' pre-votes, for as long as the replays went on).
 * A member that lost its folder remembers nothing, and takes the first start it hears of each.
 */
import { assert } from '../stdx/assert.js';

export const enum Freshness {
  New = 0,
  /** New, and the first of a newer start of the member: what it sent before is void. */
  Restarted = 1,
  /** Its message was taken already: a network's duplicate, or a replay. */
  Heard = 2,
  /** Too old to tell from a replay, or of the start before the newest: dropped. */
  Old = 3,
  /** Of a run of the member before the one heard since: refused. */
  Stale = 4,
  /**
   * At or below the start remembered from before this member's restart, none heard since:
   * which of its messages were taken is not known, so none is; the sender is asked to renew.
   */
  Unproven = 5,
}

/**
 * A start above `floor`, and at least the wall clock `nowMs`. A member stores its last
 * (replica-store.ts), so that its runs' starts only grow however its clock is set; the clock is
 * the floor for a member that lost its folder (one behind its last run's start is asked by the
 * others to renew above it: run-renewal.ts).
 */
export function startAbove(floor: number, nowMs: number): number {
  return Math.max(nowMs, floor + 1);
}

/** The same, above every start this process gave before too: for a transport with no store. */
export function nextStart(floor: number): number {
  lastStart = Math.max(startAbove(floor, Date.now()), lastStart + 1);
  return lastStart;
}
let lastStart = 0;

export class ReplayWindows {
  private readonly starts: Float64Array;
  private readonly before: Float64Array;
  private readonly highest: Float64Array;
  /** 1 while a member's newest start is one remembered from before a restart (Unproven). */
  private readonly remembered: Uint8Array;
  /** A bit per id of the last `windowIds`, by member: `member * windowIds + (id & mask)`. */
  private readonly bits: Uint8Array;
  private readonly mask: number;

  /** Member ids 1 to `membersMax`; `windowIds`: a power of two, a multiple of 8. */
  constructor(
    membersMax: number,
    private readonly windowIds: number,
  ) {
    assert((windowIds & (windowIds - 1)) === 0 && windowIds >= 8, 'replay: a power of two');
    this.starts = new Float64Array(membersMax + 1);
    this.before = new Float64Array(membersMax + 1);
    this.highest = new Float64Array(membersMax + 1);
    this.remembered = new Uint8Array(membersMax + 1);
    this.bits = new Uint8Array(((membersMax + 1) * windowIds) / 8);
    this.mask = windowIds - 1;
  }

  /**
   * Whether message `id` of member `from`'s run `start` may be taken (its datagram is
   * authentic: checked after the MAC). Moves the window up to a newer id or start.
   */
  check(from: number, start: number, id: number): Freshness {
    assert(from >= 1 && from < this.starts.length, 'replay: a member id');
    const newest = this.starts[from];
    let fresh = Freshness.New;
    if (start > newest) {
      this.before[from] = newest;
      this.starts[from] = start;
      this.clear(from, 0, Infinity);
      this.highest[from] = 0;
      this.remembered[from] = 0;
      fresh = Freshness.Restarted;
    } else if (this.remembered[from] === 1) {
      return Freshness.Unproven;
    } else if (start !== newest) {
      return start === this.before[from] ? Freshness.Old : Freshness.Stale; // NaN: Stale
    }
    const top = this.highest[from];
    if (id > top) {
      this.clear(from, top, id);
      this.highest[from] = id;
      return fresh;
    }
    if (top - id >= this.windowIds) return Freshness.Old;
    return this.has(from, id) ? Freshness.Heard : Freshness.New;
  }

  /**
   * Member `from`'s newest start as this member heard it before it restarted (stored): starts
   * up to it are Unproven until a newer one is heard.
   */
  remember(from: number, start: number): void {
    assert(from >= 1 && from < this.starts.length, 'replay: a member id');
    assert(Number.isFinite(start) && start > 0, 'replay: a start remembered');
    if (start <= this.starts[from]) return;
    this.starts[from] = start;
    this.before[from] = 0;
    this.highest[from] = 0;
    this.remembered[from] = 1;
  }

  /** The newest start of member `from` heard or remembered (0: none). */
  newest(from: number): number {
    return this.starts[from];
  }

  /** Message `id` (of the newest start) was taken whole: a copy of it is Heard. */
  taken(from: number, id: number): void {
    if (this.highest[from] - id >= this.windowIds) return; // passed while it was reassembled
    const at = from * this.windowIds + (id & this.mask);
    this.bits[at >> 3] |= 1 << (at & 7);
  }

  private has(from: number, id: number): boolean {
    const at = from * this.windowIds + (id & this.mask);
    return (this.bits[at >> 3] & (1 << (at & 7))) !== 0;
  }

  /** Clears the bits of ids `top` + 1 to `id` (all of them when that spans the window). */
  private clear(from: number, top: number, id: number): void {
    const base = from * this.windowIds;
    if (id - top >= this.windowIds) {
      this.bits.fill(0, base >> 3, (base + this.windowIds) >> 3);
      return;
    }
    for (let k = top + 1; k <= id; k++) {
      const at = base + (k & this.mask);
      this.bits[at >> 3] &= ~(1 << (at & 7));
    }
  }
}
