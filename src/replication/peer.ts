/**
 * A primary's view of one standby (Raft's nextIndex and matchIndex, and what flow control and
 * repair need besides): where to send from, what is in flight, what the standby is known to
 * match and to hold durably. consensus.ts keeps one per standby for its term; the rules that
 * change one (on a status, on a heartbeat) live here.
 */
import { electionTimeoutTicksMin, resendTicks } from '../constants.js';
import type { Status } from './messages.js';

export interface Peer {
  /** Next index to send, and the highest sent so far. */
  next: number;
  sent: number;
  /** Highest index known to match, and known durable there. */
  match: number;
  durable: number;
  /** Tick of the last status heard. */
  heardAt: number;
  /** The highest index sent in this term (to what the standby still holds): below it, a resend. */
  highest: number;
  /** Tick `match` last moved (or entries went out with none in flight before). */
  progressAt: number;
  /**
   * An ok status heard in this term that reached `next - 1`: `match` is where the standby
   * stands, and heartbeats name it (before, they probe `next - 1`).
   */
  known: boolean;
  /** Its last status said it is recovering (it lost its disk): it may not stand. */
  recovering: boolean;
  /**
   * The primary's last index when it last heard the standby say it is recovering (0: never, in
   * this term). What the standby said before it lost its disk names nothing past it
   * (credited): a status of this term names only entries this primary sent, and its log only
   * grows in its term.
   */
  lostBelow: number;
  /** The life its last status named (messages.ts, Status.life): the appends sent it name it. */
  life: number;
  /**
   * The life of the last recovering status heard, and the primary's last index when it first
   * heard that life say so (unlike `lostBelow`, it does not follow the log: othersPast).
   */
  cameLife: number;
  cameAt: number;
}

/** A standby as a new primary first sees it: sent up to the primary's log, nothing known. */
export function newPeer(lastIndex: number, now: number): Peer {
  return {
    next: lastIndex + 1,
    sent: lastIndex,
    highest: 0, // nothing sent in this term yet
    match: 0,
    durable: 0,
    heardAt: now,
    progressAt: now,
    known: false,
    recovering: false,
    lostBelow: 0,
    life: 0, // no status heard
    cameLife: 0,
    cameAt: 0,
  };
}

/**
 * What of the standby's durable index counts toward a commit. An acknowledgement it sent before
 * it lost its disk can come after it came back (a link that holds a datagram past a restart),
 * and it was true when sent: counted, it made a commit the wiped standby took for one made
 * without it (past its line, recovery-point.ts), it voted again, and a stale primary committed
 * a second entry at one index (test/simulation/cluster.test.ts). No incarnation number is
 * needed to tell such a one apart: it names only entries this primary had when it was sent,
 * before the loss, so at most `lostBelow`. One naming no more counts only up to the commit,
 * which it then cannot move; one naming more was sent by the life that said it is recovering,
 * or a later one. (Lowering `durable` instead would hold the standby's flow-control window,
 * its durable + replicationWindowEntries, short of `lostBelow`: it might never name past it.)
 */
export function credited(peer: Peer, commit: number): number {
  return peer.durable > peer.lostBelow ? peer.durable : Math.min(peer.durable, commit);
}

/**
 * A recovering status (consensus.ts serveRecovering): what the standby said it held before counts
 * no more (credited), and a new life notes where the log stood when it was first heard.
 */
export function recoveringHeard(peer: Peer, m: Status, lastIndex: number): void {
  if (peer.durable > m.durable) peer.durable = m.durable;
  if (peer.lostBelow < lastIndex) peer.lostBelow = lastIndex;
  if (peer.cameLife === m.life) return;
  peer.cameLife = m.life;
  peer.cameAt = lastIndex;
}

/**
 * Whether a primary may name a recovering `peer`'s life (recovery-point.ts): every other standby
 * has matched an entry past `peer.cameAt`, written after the primary heard that life recovering,
 * so each was in this term after the peer came back, hence in no later term before. Else an
 * acknowledgement one sent before it moved on to a later term (true when sent, read late) could
 * make the commit the peer recovers at, while that later term had committed entries the peer
 * lacks (test/simulation/cluster.test.ts: two entries committed at one index); and with five
 * members, a later term in which the lost life had voted could elect a second primary with the
 * new life's vote. (`lostBelow` follows the log at each status: others never passed it.) Another
 * recovering standby counts too, though lives of it now lost may have been in later terms: what
 * they did there counts only with a member that kept its disk (which then never matched here;
 * at most f lose theirs), or for a lost life (a vote names the candidate's: messages.ts Vote).
 */
export function othersPast(peers: ReadonlyMap<number, Peer>, peer: Peer): boolean {
  for (const other of peers.values()) {
    if (other !== peer && other.match <= peer.cameAt) return false;
  }
  return true;
}

/**
 * Whether an idle primary should write an entry for a recovering `peer`: one past `cameAt` for
 * the others to match, then one to commit past the line; none while another has not matched
 * past `cameAt` though the log has (one down: another entry would not help it).
 */
export function entryFor(peers: ReadonlyMap<number, Peer>, peer: Peer, lastIndex: number): boolean {
  return lastIndex <= peer.cameAt || othersPast(peers, peer);
}

/**
 * An ok status: the standby matches (and holds durably) what it says, at least. It answers the
 * primary's probe (a heartbeat naming `next - 1`) only when its match reaches there: one naming
 * less says nothing of the entries between, such as the status of a write that became durable
 * after the standby heard a new primary and before it verified anything in the new term (a
 * stalled disk). Taken as known, the peer was sent heartbeats naming its match of 0, which it
 * always matched, and entries only from `next`, past its window (its durable + 256): it never
 * caught up (simulation seed 10019041, disks mix).
 */
export function acked(peer: Peer, m: Status, now: number): void {
  if (m.match >= peer.next - 1) peer.known = true;
  if (m.match > peer.match) {
    peer.match = m.match;
    peer.progressAt = now;
  }
  if (m.durable > peer.durable) peer.durable = m.durable;
  if (peer.next <= peer.match) peer.next = peer.match + 1;
}

/**
 * A NAK: sends again from the index it names. Returns true when the standby lacks entries it
 * matched in this term: it lost them, having restarted (without what it had not synced) or
 * lost its disk. What it matched and holds durably are then what it says now: a stale match
 * sent it, after each status, to the old match's end, which drew a NAK and a rewind again (a
 * wiped member's catch-up went 64 entries a round trip, 90% of the entries sent resends), and
 * a stale durable would count entries it no longer holds toward a commit. Its status names
 * what it verified in this term, nothing after a restart, so the caller sends a heartbeat at
 * the rewind point (an entry it holds), and the standby names its durable again.
 */
export function naked(peer: Peer, m: Status, now: number): boolean {
  const lost = m.nak < peer.match;
  if (lost) {
    peer.match = Math.min(peer.match, m.match);
    peer.durable = Math.min(peer.durable, m.durable);
    peer.highest = Math.min(peer.highest, m.nak);
    peer.known = false;
    peer.progressAt = now;
  }
  peer.next = Math.max(1, Math.min(peer.next, m.nak + 1));
  peer.sent = peer.next - 1;
  return lost;
}

/**
 * A NAK for entries sent lately, past where the standby is known to match, is most often a
 * message overtaken by the next one while the transport repaired it: they are on their way,
 * and sending them again (the window again, behind the first copy in the paced queue) made
 * half of all entries sent resends. If they were lost, `resendTicks` without progress
 * resends them (as it does a conflict past the match, which is rarer and also repaired).
 * Entries before `next` were never sent in this flow: a NAK below it is not about entries in
 * flight. (A peer known from an ok status naming less than the primary's log at its election,
 * its `next` still there, NAKed at its end; taken for in flight, every NAK was ignored and
 * every resend went from `next` again: it never caught up. Simulation seed 10021616.)
 */
export function inFlight(peer: Peer, nak: number, now: number): boolean {
  if (!peer.known || nak < peer.match || nak >= peer.highest) return false;
  if (nak + 1 < peer.next) return false;
  return now - peer.progressAt < resendTicks;
}

/**
 * A heartbeat also resends what is in flight once the standby's match has not moved for
 * `resendTicks`: the last appends were lost whole (a gap after them would have drawn a NAK
 * sooner). A standby that is merely slow still moves; resending to it whenever it had been
 * quiet for a heartbeat made 73% of entries sent resends under load, and the resends filled
 * the send queue until messages were dropped.
 */
export function rewindStuck(peer: Peer, now: number): void {
  if (now - peer.progressAt < resendTicks || peer.sent <= peer.match) return;
  peer.sent = peer.match;
  peer.progressAt = now;
}

/**
 * Whom a primary's clean stop hands over to (consensus.ts transferLeadership): the standby that
 * holds its whole log (`lastIndex`) durably, heard from last, and not a recovering one (it may
 * not stand). -1 when none does.
 */
export function successorOf(peers: ReadonlyMap<number, Peer>, lastIndex: number): number {
  let to = -1;
  let heardAt = Number.NEGATIVE_INFINITY;
  for (const [id, peer] of peers) {
    if (peer.recovering || peer.durable !== lastIndex || peer.heardAt <= heardAt) continue;
    to = id;
    heardAt = peer.heardAt;
  }
  return to;
}

/**
 * A standby silent for an election timeout (stopped, or cut off) is sent no entries, only the
 * heartbeats, which probe it: the first status it answers with ends this. Its window, resent
 * every `resendTicks` to a member not there, was read back, packed and sent for nothing.
 */
export function probing(peer: Peer, now: number): boolean {
  return now - peer.heardAt >= electionTimeoutTicksMin;
}

/**
 * A recovered standby names entries past the commit, none past `lostBelow`, and none past it is
 * to come: with a member down only its acknowledgements could commit them, and they count once
 * it holds an entry past `lostBelow` (credited). The caller writes one (a stale one asks too: an
 * entry more). While the standby is recovering its acknowledgements commit nothing anyway.
 */
export function heldBack(peer: Peer, m: Status, commit: number, lastIndex: number): boolean {
  if (m.recovering || m.durable <= commit || m.durable > peer.lostBelow) return false;
  return lastIndex <= peer.lostBelow;
}
