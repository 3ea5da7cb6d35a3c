/**
 * What replicas say to each other (Raft's messages, in Aeron's terms where they fit). A log
 * entry is one journal batch: its events' sequences follow on from the entry before, and its
 * hash covers the previous entry's hash, so one matching hash proves a whole matching prefix.
 *
 *   primary ──append {term, prevIndex, prevHash, entries, commit, life}──► standby
 *           ◄─status {term, ok, match, durable, nak, recovering, life}───
 *           (status is the ack and the flow-control window: the primary sends at most
 *            `replicationWindowEntries` past what a standby holds durably; ok = false is a NAK:
 *            "I hold entries up to `nak`; send from there")
 *
 *   candidate ──vote-request {term, lastIndex, lastTerm, first, pre, life}──► every replica
 *             ◄─vote {term, granted, pre, to, life}─────────────────────
 *   (every message also carries the sender's cluster id and member ids; a message of another
 *    cluster, or of a member whose cluster file lists other members, is dropped)
 *   (pre: Raft's pre-vote, §9.6 of Ongaro's thesis: "would you vote for me in term + 1?",
 *    asked before standing; it changes no one's term or vote, so a replica that merely
 *    stopped hearing its primary, while the others still hear it, cannot depose it.)
 *
 *   primary ──timeout-now {term}──► the standby it hands over to (a clean stop): stand now
 *   (Raft's leadership transfer, §3.10: sent only to a standby holding the primary's whole
 *    log durably, which then stands without pre-votes, as its election timeout would make it)
 */

/** What consensus keeps of each journal batch (the bytes stay in storage). */
export interface EntryMeta {
  /** The term of the primary that wrote it. */
  readonly term: number;
  /**
   * Sequences of the entry's first and last events, and how many events it holds. A command's
   * events share its sequence (an order and its fills), so `last - first + 1` may be less than
   * `count`: the last sequence is carried, never worked out from the count.
   */
  readonly first: number;
  readonly last: number;
  readonly count: number;
  /** Hex SHA-256 of the entry before it (the genesis hash for the first one), and its own. */
  readonly prevHash: string;
  readonly hash: string;
}

/** Sequence of an entry's last event. */
export function lastSequenceOf(entry: EntryMeta): number {
  return entry.last;
}

/** One journal batch as it travels: its metadata and its encoded bytes (opaque here). */
export interface Entry extends EntryMeta {
  readonly payload: Uint8Array;
}

export interface Append {
  readonly kind: 'append';
  /** The sender's cluster id (hashes.ts; 0 until it knows it): another cluster's is dropped. */
  readonly cluster: number;
  /** The members its cluster file lists (membersMaskOf): another set's is dropped. */
  readonly members: number;
  readonly term: number;
  readonly from: number;
  /** Index (1-based, 0 for none) and hash of the entry just before `entries`. */
  readonly prevIndex: number;
  readonly prevHash: string;
  readonly entries: readonly Entry[];
  /** The primary's commit index: standbys apply up to it. */
  readonly commit: number;
  /**
   * The `life` of the last status the primary heard from the standby in this term, if it said
   * it is recovering (else 0, as from a primary built before lives): this append was sent after
   * the primary read a status of that life. A standby that lost its disk takes its recovery
   * line only from one naming its own (recovery-point.ts): one sent to an earlier life that was
   * empty too can chain onto its empty log.
   */
  readonly life: number;
}

export interface Status {
  readonly kind: 'status';
  /** The sender's cluster id (hashes.ts; 0 until it knows it): another cluster's is dropped. */
  readonly cluster: number;
  /** The members its cluster file lists (membersMaskOf): another set's is dropped. */
  readonly members: number;
  readonly term: number;
  readonly from: number;
  readonly ok: boolean;
  /** Entries known to match the primary's log (in memory), and of those, durable on disk. */
  readonly match: number;
  readonly durable: number;
  /** When !ok: the index to send from again, less one. */
  readonly nak: number;
  /**
   * The sender lost its disk and has not caught up (recovery-point.ts): its `durable` is no
   * more than its commit, and the primary, idle, writes an entry of its term for it to hold.
   */
  readonly recovering: boolean;
  /** The sender's process start (lifeOf; 0 from a member built before lives): appends echo it. */
  readonly life: number;
}

export interface VoteRequest {
  readonly kind: 'vote-request';
  /** The sender's cluster id (hashes.ts; 0 until it knows it): another cluster's is dropped. */
  readonly cluster: number;
  /** The members its cluster file lists (membersMaskOf): another set's is dropped. */
  readonly members: number;
  readonly term: number;
  readonly from: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** The id its first entry would give a cluster (0: an empty log): voters check it. */
  readonly first: number;
  /** A pre-vote: `term` is the term the sender would stand in. */
  readonly pre: boolean;
  /** The candidate's process start (lifeOf; 0 from a member built before): votes echo it. */
  readonly life: number;
}

export interface Vote {
  readonly kind: 'vote';
  /** The sender's cluster id (hashes.ts; 0 until it knows it): another cluster's is dropped. */
  readonly cluster: number;
  /** The members its cluster file lists (membersMaskOf): another set's is dropped. */
  readonly members: number;
  readonly term: number;
  readonly from: number;
  readonly granted: boolean;
  /** The answer to a pre-vote: granted, `term` is the one asked about; refused, the voter's. */
  readonly pre: boolean;
  /**
   * The candidate it answers. A vote counts for the one replica that asked: without its name,
   * a granted vote sent again to another candidate of the same term (a replayed datagram, on a
   * network that lets sources be forged: the MAC does not tell receivers apart) counted for
   * that one too, and two could win one term.
   */
  readonly to: number;
  /**
   * The life of the candidate it answers (its request's): a vote counts for that start of the
   * candidate only. A replica that lost its disk forgets the terms it stood in; its next life
   * can stand in one of them again, and a vote granted to the lost life, held by the network,
   * counted for it. With two disks lost (five members) the voter's next life voted again in
   * that term, for another: two primaries in one term (test/simulation/two-recovering.test.ts).
   */
  readonly life: number;
}

export interface TimeoutNow {
  readonly kind: 'timeout-now';
  /** The sender's cluster id (hashes.ts; 0 until it knows it): another cluster's is dropped. */
  readonly cluster: number;
  /** The members its cluster file lists (membersMaskOf): another set's is dropped. */
  readonly members: number;
  /** The primary's term: a standby of another term ignores it. */
  readonly term: number;
  readonly from: number;
}

export type Message = Append | Status | VoteRequest | Vote | TimeoutNow;

export const enum Role {
  Standby = 0,
  Candidate = 1,
  Primary = 2,
}

export function roleName(role: Role): string {
  return role === Role.Primary ? 'primary' : role === Role.Candidate ? 'candidate' : 'standby';
}

/** Every name a member's role is shown by (/health, /metrics, log fields). */
export const memberRoleNames = ['standby', 'candidate', 'primary', 'recovering'] as const;

/**
 * A member's role as operators see it: a standby that lost its disk (it neither votes nor
 * stands until caught up) is `recovering`, a role of its own in docs/ROLES.md. Consensus keeps
 * it a standby: it follows and stores as one. Shown as "standby", an operator could tell it
 * only from /ready?for=reads or the logs.
 */
export function memberRoleName(role: Role, recovering: boolean): string {
  return role === Role.Standby && recovering ? 'recovering' : roleName(role);
}
