/**
 * The consensus core under the journal: Raft's terms, votes and log matching over journal
 * batches, as a pure state machine. It does no I/O and reads no clock: the caller feeds it
 * ticks and messages, and performs what it asks through `ConsensusIo`. The same code runs in
 * the deterministic simulation (test/simulation) and in a real node.
 *
 *   timeout, no primary heard, and a majority's pre-votes   votes from a majority
 *   (or timeout-now from its primary: transferLeadership)
 *   ┌─────────┐ ─────────────────────────► ┌───────────┐ ─────────────────────► ┌─────────┐
 *   │ standby │                            │ candidate │                        │ primary │
 *   └─────────┘ ◄───────────────────────── └───────────┘                        └─────────┘
 *        ▲        a primary of its term, or a higher term                            │
 *        └───────────────────────────────────────────────────────────────────────────┘
 *              a higher term seen, or no majority heard for an election timeout
 *
 * Before standing, a replica asks for pre-votes ("would you vote for me in the next term?").
 * A replica grants one only if it would grant the vote and has itself no sign of a live primary
 * (it is the primary, or heard it within an election timeout and no probe says it is gone). So a
 * standby that stops hearing a primary the others still hear (a starved process, a one-way
 * partition) cannot depose it by raising the term: on a loaded 2-core machine that happened
 * many times a second.
 *
 * Rules that make it safe (docs/ROLES.md):
 * - A replica votes once per term, and only for a candidate whose log is at least as complete
 *   as its own (last term, then last index); the vote is stored before it is sent.
 * - An entry is committed when it is durable on a majority, counting the primary, and it is of
 *   the primary's own term (earlier entries are committed with it). A new primary therefore
 *   writes an entry of its term at once (`openTerm`).
 * - A standby appends only entries that chain onto its log by hash, and cuts its log back
 *   where the primary's differs: only entries never committed can differ.
 * - A replica that lost its disk (`recovering`) neither votes nor stands until it holds a
 *   commit its primary made in its own term after it came (recovery-point.ts): it cannot vouch
 *   for what it acknowledged before. Its acknowledgements never make a commit meanwhile.
 * - Once its first entry is committed, a replica knows its cluster's id (hashes.ts) and drops
 *   every message of another cluster's: a folder of another cluster (copied, or left from an
 *   earlier forming) held a longer log of a higher term, won the votes, and cut the cluster's
 *   committed history to its own.
 */
import {
  appendEntriesMax,
  electionTimeoutTicksMax,
  electionTimeoutTicksMin,
  suspectJitterTicks,
  splitRetryTicks,
  startQuietTicks,
  suspectStaggerTicks,
  heartbeatTicks,
  replicationWindowEntries,
  replicationWindowEvents,
  appendEventsMax,
  logRetainEntries,
  recoveryEntryTicks,
  termMax,
} from '../constants.js';
import { assert } from '../stdx/assert.js';
import { clusterIdOf, membersMaskOf } from './hashes.js';
import { Role, type Append, type Entry, type EntryMeta } from './messages.js';
import { EntryLog } from './entry-log.js';
import type { Message, Status, TimeoutNow, Vote, VoteRequest } from './messages.js';
import type { ConsensusIo, ConsensusOptions } from './consensus-io.js';
import { acked, credited, heldBack, inFlight, naked, newPeer, probing } from './peer.js';
import { entryFor, othersPast, recoveringHeard, rewindStuck, successorOf } from './peer.js';
import type { Peer } from './peer.js';
import { RecoveryPoint } from './recovery-point.js';

export { lifeOf, type ConsensusIo, type ConsensusOptions } from './consensus-io.js';

export class Consensus {
  readonly id: number;
  role = Role.Standby;
  term: number;
  votedFor: number;
  /** Index of the last committed entry. */
  commit = 0;
  /** The cluster's id (0 until its first entry is committed), sent with every message. */
  clusterId: number;
  /**
   * Bit id - 1 set for each member (membersMaskOf), sent with every message: a member whose
   * cluster file lists other members counts majorities of another set, and two such sets can
   * each elect a primary in one term. Its messages are dropped.
   */
  readonly membersMask: number;
  /**
   * On a primary: entries sent to standbys, and of those, sent again (lost, or thought so).
   * On any replica: messages of another cluster, dropped; terms entered (each one an election
   * somewhere, or a damaged term before checksums); elections this replica stood in; votes
   * for another replica, dropped.
   */
  readonly stats = {
    entriesSent: 0,
    entriesResent: 0,
    foreignMessages: 0,
    termChanges: 0,
    elections: 0,
    votesNotOurs: 0,
  };
  /** The primary this replica follows in its term (-1: none known). */
  primary = -1;
  /** On a standby: the highest commit index its primary has announced (catch-up's target). */
  primaryCommit = 0;
  recovering: boolean;
  /** This start of the replica (lifeOf): a recovering one's line is from an append naming it. */
  readonly life: number;
  /**
   * The entries' metadata (entry-log.ts). A compaction (Raft §7) leaves `retain` committed
   * entries in memory, enough for a standby's window of entries in flight.
   */
  private readonly log: EntryLog;
  private readonly retain: number;
  /** Entries durable on this replica's disk (a prefix of `log`). */
  private durable: number;
  /** Highest index known to match the current primary's log (reset with each term). */
  private verified = 0;
  /** The commit a recovering replica holds before it votes again (recovery-point.ts). */
  private readonly recoveryPoint = new RecoveryPoint();
  /** On a primary: the tick before which it writes no entry for a recovering standby. */
  private recoveryEntryAt = 0;
  /** Catch-up sends that `io.catchUpRoom` deferred to `resumeCatchUp`. */
  private catchUpDeferred = false;
  private readonly members: readonly number[];
  private readonly random: () => number;
  private readonly io: ConsensusIo;
  private readonly peers = new Map<number, Peer>();
  /** The members' durable indexes, sorted to find a majority's (allocated once). */
  private readonly durables: Float64Array;
  private readonly votes = new Set<number>();
  /** Asking for pre-votes (not yet standing), and who would vote for it in term + 1. */
  private preVoting = false;
  private readonly preVotes = new Set<number>();
  /** Tick this replica last heard its primary, and whether a probe says the primary is gone. */
  private heardPrimaryAt = Number.NEGATIVE_INFINITY;
  private suspected = false;
  /** Whether any primary has been heard (or been this member) since it started. */
  private heardPrimary = false;
  /**
   * Ticks this replica waits after lower ones to retry a split vote: its place among all the
   * ids, which no two share (suspectPrimary's order leaves out the primary each suspected).
   */
  private readonly retryStagger: number;
  private now = 0;
  private electionAt = 0;
  /** Tick the election timer was last reset (a standby last heard its primary, or voted). */
  private quietSince = 0;
  private heartbeatAt = 0;

  constructor(options: ConsensusOptions, io: ConsensusIo) {
    assert(options.members.includes(options.id), 'consensus: a member of its cluster');
    assert(new Set(options.members).size === options.members.length, 'consensus: unique ids');
    this.id = options.id;
    this.members = options.members;
    this.retryStagger = options.members.filter((m) => m < options.id).length * suspectStaggerTicks;
    this.membersMask = membersMaskOf(options.members);
    this.durables = new Float64Array(options.members.length);
    this.random = options.random;
    this.recovering = options.recovering;
    assert(Number.isInteger(options.life), 'consensus: a life is a whole number');
    assert(options.life > 0 && options.life <= 0xffff_ffff, 'consensus: a life, u32, not none');
    this.life = options.life;
    assert(options.term <= termMax, 'consensus: a term within termMax');
    this.term = options.term;
    this.votedFor = options.votedFor;
    this.log = new EntryLog(options.log, options.base ?? 0, (index) => io.stored(index));
    this.retain = options.retain ?? logRetainEntries;
    assert(this.retain >= 1, 'consensus: keeps at least one entry');
    this.durable = this.lastIndex;
    this.commit = this.log.base; // only committed entries are ever compacted
    this.clusterId = options.clusterId ?? 0;
    this.io = io;
    this.seal();
    this.resetElection();
  }

  get lastIndex(): number {
    return this.log.lastIndex;
  }

  get durableIndex(): number {
    return this.durable;
  }

  /** The entry at `index` (1-based). */
  entry(index: number): EntryMeta {
    assert(index >= 1 && index <= this.lastIndex, 'consensus: index in the log');
    return this.at(index);
  }

  hashAt(index: number): string {
    return this.log.hashAt(index);
  }

  lastSequence(): number {
    return this.log.lastSequence();
  }

  /** Entries held in memory: those after the compaction base. */
  get entriesInMemory(): number {
    return this.log.inMemory;
  }

  private at(index: number): EntryMeta {
    return this.log.at(index);
  }

  /** On the primary: the highest index `member` holds durably (-1 when unknown or not primary). */
  durableAt(member: number): number {
    if (this.role !== Role.Primary) return -1;
    return this.peers.get(member)?.durable ?? -1;
  }

  /**
   * On the primary: the highest index `member` is known to have written in its term, synced or
   * not (its match: ok statuses raise it, one read late never lowers it, a lost log does:
   * peer.ts acked, naked). -1 when unknown or not primary.
   */
  writtenAt(member: number): number {
    if (this.role !== Role.Primary) return -1;
    return this.peers.get(member)?.match ?? -1;
  }

  /** On the primary: whether the last status it took from `member` (onStatus) said it recovers. */
  recoveringAt(member: number): boolean {
    return this.role === Role.Primary && this.peers.get(member)?.recovering === true;
  }

  private lastTerm(): number {
    return this.log.lastTerm();
  }

  /** Ticks a standby has gone without hearing its primary (0 on a primary). */
  get quietTicks(): number {
    return this.role === Role.Primary ? 0 : this.now - this.quietSince;
  }

  /**
   * The primary this replica hears now: itself on a primary; on another role the primary of
   * its term while heard within an election timeout and no probe says it is gone; else -1.
   * `primary` stays the primary of its term (a timeout-now must come from it), but one that
   * fell silent is not named to clients: a standby cut off from the majority kept naming a
   * dead primary, and serving reads as if it followed one, for as long as the term lasted.
   * Heartbeat jitter (a slow primary, a few hundred ms) is far within the timeout.
   */
  get heardPrimaryId(): number {
    return this.hearsPrimary() ? this.primary : -1;
  }

  /**
   * A hint from outside: the primary's process looks gone (its port refused a probe). Stand
   * within a few ticks instead of waiting out the election timeout. It changes only when an
   * election starts, never how one is won, so a wrong hint costs an election, not safety.
   */
  suspectPrimary(): void {
    if (this.role !== Role.Standby || this.recovering) return;
    this.suspected = true; // and grant pre-votes: the primary is gone
    // Standbys stand in the order of their ids, a few ticks apart: standing at once (they all
    // heard the last heartbeat at once, and probe at once) split the vote, and a split vote
    // costs a whole election timeout more.
    let rank = 0;
    for (const m of this.members) if (m < this.id && m !== this.primary) rank++;
    const delay = 1 + rank * suspectStaggerTicks + Math.floor(this.random() * suspectJitterTicks);
    const soon = this.now + delay;
    if (soon < this.electionAt) this.electionAt = soon;
  }

  /**
   * The primary hands the cluster over (its clean stop; Raft's leadership transfer, §3.10): the
   * standby that holds its whole log durably, heard from last, stands at once (not a recovering
   * one: it ignores a timeout-now, and naming it cost the wait and an election). Returns that
   * member, or -1 when none does; then the others find this one gone as after a crash (a refused
   * probe, then an election). The caller has stopped proposing: an entry appended after this
   * would make the standby's log too short to win.
   */
  transferLeadership(): number {
    if (this.role !== Role.Primary) return -1;
    const to = successorOf(this.peers, this.lastIndex); // peer.ts
    if (to === -1) return -1;
    const { clusterId: cluster, membersMask: members, term, id: from } = this;
    this.io.send(to, { kind: 'timeout-now', cluster, members, term, from });
    return to;
  }

  /** One tick of the consensus clock. */
  tick(): void {
    this.now++;
    if (this.role === Role.Primary) {
      if (!this.majorityHeard()) return this.becomeStandby(this.term, -1);
      if (this.now >= this.heartbeatAt) this.broadcast(true);
      return;
    }
    if (!this.heardPrimary && !this.suspected && this.quietTicks >= startQuietTicks) {
      this.suspectPrimary(); // none to hear yet: a whole cluster starting (startQuietTicks)
    }
    if (this.now >= this.electionAt && !this.recovering) this.preStand();
  }

  /** Sends what `catchUpRoom` deferred (the caller's next turn). */
  resumeCatchUp(): void {
    if (!this.catchUpDeferred) return;
    this.catchUpDeferred = false;
    if (this.role === Role.Primary) this.broadcast(false);
  }

  /** The primary appends an entry it made (of its term, chained onto its log). */
  propose(entry: Entry): void {
    assert(this.role === Role.Primary, 'consensus: only a primary proposes');
    assert(entry.term === this.term, 'consensus: an entry of the current term');
    assert(entry.prevHash === this.hashAt(this.lastIndex), 'consensus: chained by hash');
    assert(entry.first === this.lastSequence() + 1, 'consensus: sequences follow on');
    this.log.append(entry);
    this.io.write(this.lastIndex, [entry]);
    this.broadcast(false);
  }

  /** Storage says entries up to `index`, ending with `hash`, are on disk. */
  onDurable(index: number, hash: string): void {
    if (index > this.lastIndex || index <= this.durable) return;
    if (this.at(index).hash !== hash) return; // overtaken by a truncation
    this.durable = index;
    this.compact();
    if (this.role === Role.Primary) return this.advanceCommit();
    if (this.primary !== -1) this.sendStatus(this.primary, true, 0);
    this.checkRecovered();
  }

  receive(message: Message): void {
    // A vote for another replica, or another life of this one (messages.ts Vote): not ours.
    if (message.kind === 'vote' && (message.to !== this.id || message.life !== this.life)) {
      this.stats.votesNotOurs++;
      return;
    }
    // A pre-vote, or a granted one, names a term no one is in yet.
    const pre = (message.kind === 'vote-request' || message.kind === 'vote') && message.pre;
    const prospective = pre && (message.kind === 'vote-request' || message.granted);
    if (message.members !== this.membersMask || this.isForeign(message.cluster)) {
      return this.dropForeign(message.from, message.cluster, message.members);
    }
    if (message.term > this.term && !prospective) this.becomeStandby(message.term, -1);
    switch (message.kind) {
      case 'append':
        return this.onAppend(message);
      case 'status':
        return this.onStatus(message);
      case 'vote-request':
        return this.onVoteRequest(message);
      case 'vote':
        return this.onVote(message);
      case 'timeout-now':
        return this.onTimeoutNow(message);
    }
  }

  private onAppend(m: Append): void {
    if (m.term < this.term) return this.sendStatus(m.from, false, this.lastIndex);
    assert(this.role !== Role.Primary, 'consensus: one primary per term');
    if (this.role !== Role.Standby || this.primary !== m.from) this.becomeStandby(m.term, m.from);
    this.resetElection();
    this.preVoting = false;
    this.heardPrimaryAt = this.now;
    this.heardPrimary = true;
    this.suspected = false;
    if (m.commit > this.primaryCommit) this.primaryCommit = m.commit;
    if (m.prevIndex > this.lastIndex) return this.sendStatus(m.from, false, this.lastIndex);
    for (const entry of m.entries) if (!this.io.verify(entry)) return; // forged: ignored
    // A first entry not this cluster's (from a member that knows no id yet): never cut to it.
    const first = m.prevIndex === 0 && m.entries.length > 0 ? clusterIdOf(m.entries[0].hash) : 0;
    if (this.isForeign(first)) return this.dropForeign(m.from, first, m.members);
    if (this.hashAt(m.prevIndex) !== m.prevHash) {
      return this.sendStatus(m.from, false, this.conflictStart(m.prevIndex) - 1);
    }
    // Sent after the primary read a status of this life (it names it): it counts for the line.
    if (this.recovering && m.life === this.life) this.recoveryPoint.announced(m.commit);
    this.appendFrom(m.prevIndex, m.entries);
    const matched = m.prevIndex + m.entries.length;
    if (matched > this.verified) this.verified = matched;
    const commit = Math.min(m.commit, matched);
    if (commit > this.commit) {
      this.commit = commit;
      this.io.committed(commit);
      this.compact();
      this.seal();
    }
    this.sendStatus(m.from, true, 0);
    this.checkRecovered();
  }

  /** Appends what is new in `entries` (after `prevIndex`), cutting the log where it differs. */
  private appendFrom(prevIndex: number, entries: readonly Entry[]): void {
    let i = 0;
    while (i < entries.length && prevIndex + i < this.lastIndex) {
      if (this.at(prevIndex + i + 1).hash !== entries[i].hash) break;
      i++;
    }
    if (i === entries.length) return; // nothing new (a duplicate or an older message)
    const at = prevIndex + i; // entries before `at` match
    assert(at >= this.commit, 'consensus: a committed entry never changes');
    if (at < this.lastIndex) {
      const first = this.at(at + 1).first;
      this.io.truncated(at, this.lastIndex, first, this.lastSequence());
    }
    this.log.truncate(at);
    if (this.durable > at) this.durable = at;
    for (let k = i; k < entries.length; k++) this.log.append(entries[k]);
    this.io.write(at + 1, entries.slice(i));
  }

  /** The first index of the run of entries of the same term as the one at `index`. */
  private conflictStart(index: number): number {
    assert(index <= this.lastIndex, 'consensus: a conflict inside the log');
    if (index === 0) return 1; // a wrong genesis hash: send everything
    const term = this.at(index).term;
    let start = index;
    while (start > this.commit + 1 && this.at(start - 1).term === term) start--;
    return start;
  }

  /**
   * A recovering replica says so, and reports nothing durable past its commit: what it
   * acknowledges never makes a commit (recovery-point.ts), not even one of a primary that was
   * deposed without knowing it, whose term it cannot tell from the current one.
   */
  private sendStatus(to: number, ok: boolean, nak: number): void {
    const match = Math.min(this.verified, this.lastIndex);
    const durable = Math.min(this.durable, match);
    const status: Status = {
      kind: 'status',
      cluster: this.clusterId,
      members: this.membersMask,
      term: this.term,
      from: this.id,
      ok,
      match,
      durable: this.recovering ? Math.min(durable, this.commit) : durable,
      nak,
      recovering: this.recovering,
      life: this.life,
    };
    this.io.send(to, status);
  }

  private onStatus(m: Status): void {
    if (this.role !== Role.Primary || m.term < this.term) return;
    const peer = this.peers.get(m.from);
    if (peer === undefined) return;
    peer.heardAt = this.now;
    // A match past this log cannot be of this term (its log only grows): garbage, dropped.
    if (m.match > this.lastIndex) return;
    peer.recovering = m.recovering;
    peer.life = m.life;
    if (m.recovering) this.serveRecovering(peer, m);
    if (!m.ok) {
      if (inFlight(peer, m.nak, this.now)) return;
      if (naked(peer, m, this.now)) this.sendHeartbeat(m.from, peer); // it lost entries
      return this.sendTo(m.from, peer);
    }
    acked(peer, m, this.now);
    if (heldBack(peer, m, this.commit, this.lastIndex)) this.writeEntry();
    this.advanceCommit();
    this.sendTo(m.from, peer);
  }

  /** A standby that lost its disk: what it said before counts no more (peer.ts credited). */
  private serveRecovering(peer: Peer, m: Status): void {
    recoveringHeard(peer, m, this.lastIndex);
    const idle = this.commit === this.lastIndex;
    if (idle && entryFor(this.peers, peer, this.lastIndex)) this.writeEntry();
  }

  /** Writes an entry of this term for a standby that lost its disk, one per recoveryEntryTicks. */
  private writeEntry(): void {
    if (this.now < this.recoveryEntryAt) return;
    this.recoveryEntryAt = this.now + recoveryEntryTicks;
    this.io.openTerm(this.term);
  }

  /** Commit = the highest index durable on a majority, if it is of this term. */
  private advanceCommit(): void {
    const durables = this.durables;
    let n = 0;
    durables[n++] = this.durable;
    for (const peer of this.peers.values()) durables[n++] = credited(peer, this.commit);
    assert(n === durables.length, 'consensus: a primary has every other member as a peer');
    durables.sort(); // ascending, in place
    // The highest index durable on a majority: the (floor(n / 2) + 1)-th highest.
    const majority = durables[n - 1 - Math.floor(n / 2)];
    if (majority <= this.commit) return;
    if (this.at(majority).term !== this.term) return;
    this.commit = majority;
    this.io.committed(majority);
    this.compact();
    this.seal();
    this.broadcast(false); // standbys learn the commit without waiting for a heartbeat
  }

  /**
   * Drops from memory the committed entries durable here, but the last `retain`, once there
   * are `retain` more of them (so each compaction moves a block, not one entry a time).
   */
  private compact(): void {
    const upTo = Math.min(this.commit, this.durable) - this.retain;
    if (upTo - this.log.base < this.retain) return;
    const from = this.log.base + 1;
    this.io.compacted(from, this.log.compact(upTo));
  }

  private onVoteRequest(m: VoteRequest): void {
    if (m.pre) return this.onPreVoteRequest(m);
    const free = this.votedFor === -1 || this.votedFor === m.from;
    const granted = m.term === this.term && free && this.upToDate(m) && !this.recovering;
    if (granted) {
      this.votedFor = m.from;
      this.io.saveVote(this.term, this.votedFor);
      this.resetElection();
    }
    this.sendVote(m, this.term, granted);
  }

  private sendVote(m: VoteRequest, term: number, granted: boolean): void {
    const { clusterId: cluster, membersMask: members, id: from } = this;
    const { from: to, pre, life } = m;
    this.io.send(to, { kind: 'vote', cluster, members, term, from, granted, pre, to, life });
  }

  /** A pre-vote changes nothing here: no term, no vote, no timer. */
  private onPreVoteRequest(m: VoteRequest): void {
    const granted =
      m.term > this.term && this.upToDate(m) && !this.recovering && !this.hearsPrimary();
    this.sendVote(m, granted ? m.term : this.term, granted);
  }

  /**
   * A candidate's log starts with this cluster's first entry (once that is known), and is at
   * least as complete as this one (last term, then last index).
   */
  private upToDate(m: VoteRequest): boolean {
    if (this.clusterId !== 0 && m.first !== this.clusterId) return false;
    const lastTerm = this.lastTerm();
    return m.lastTerm > lastTerm || (m.lastTerm === lastTerm && m.lastIndex >= this.lastIndex);
  }

  /**
   * This replica is the primary, or heard one within an election timeout and no probe says
   * it is gone: then it would not stand itself, and it grants no pre-vote.
   */
  private hearsPrimary(): boolean {
    if (this.role === Role.Primary) return true;
    if (this.primary === -1 || this.suspected) return false;
    return this.now - this.heardPrimaryAt < electionTimeoutTicksMin;
  }

  private onVote(m: Vote): void {
    if (m.pre) return this.onPreVote(m);
    if (this.role !== Role.Candidate || m.term !== this.term || !m.granted) return;
    this.votes.add(m.from);
    if (this.votes.size * 2 > this.members.length) this.becomePrimary();
  }

  private onPreVote(m: Vote): void {
    if (!this.preVoting || m.term !== this.term + 1 || !m.granted) return;
    this.preVotes.add(m.from);
    if (this.preVotes.size * 2 > this.members.length) this.stand();
  }

  /**
   * Its primary hands over to this standby: it stands now, without pre-votes (the others
   * still hear the primary, and would refuse them). The votes are asked as in any election.
   */
  private onTimeoutNow(m: TimeoutNow): void {
    if (this.role !== Role.Standby || this.recovering) return;
    if (m.term !== this.term || m.from !== this.primary) return;
    this.stand();
  }

  /** Asks for pre-votes; stands when a majority would vote for it. */
  private preStand(): void {
    // Past termMax its pre-votes would be refused as malformed: it would never stand, quietly.
    assert(this.term < termMax, 'consensus: a term to stand in within termMax');
    this.preVoting = true;
    this.preVotes.clear();
    this.preVotes.add(this.id);
    // The timer only: the replica is as quiet as before (it keeps probing a silent primary,
    // and asks again soon if a probe says the primary is gone).
    this.armElection();
    if (this.preVotes.size * 2 > this.members.length) return this.stand();
    this.requestVotes(this.term + 1, true);
  }

  /** Asks every other replica for its vote (or pre-vote) in `term`. */
  private requestVotes(term: number, pre: boolean): void {
    const request: VoteRequest = {
      kind: 'vote-request',
      cluster: this.clusterId,
      members: this.membersMask,
      term,
      from: this.id,
      lastIndex: this.lastIndex,
      lastTerm: this.lastTerm(),
      first: this.lastIndex === 0 ? 0 : clusterIdOf(this.hashAt(1)),
      pre,
      life: this.life,
    };
    for (const member of this.members) if (member !== this.id) this.io.send(member, request);
  }

  /** Stands for election in a new term. */
  private stand(): void {
    this.stats.elections++;
    this.preVoting = false;
    this.enterTerm(this.term + 1, this.id);
    this.role = Role.Candidate;
    this.primary = -1;
    this.votes.clear();
    this.votes.add(this.id);
    this.resetElection();
    if (this.suspected) {
      // The primary is gone and every standby knows it: a split vote (two stood at once) is
      // retried in id order after a round trip's grace, not after a whole election timeout
      // (0.5-1 s, a drill's slowest takeover). Two that had suspected different primaries
      // could share a place in that order, and then retried in step forever (seed 24790).
      const retry = this.now + splitRetryTicks + this.retryStagger;
      if (retry < this.electionAt) this.electionAt = retry;
    }
    this.io.roleChanged(this.role, this.term);
    if (this.votes.size * 2 > this.members.length) return this.becomePrimary();
    this.requestVotes(this.term, false);
  }

  private becomePrimary(): void {
    this.heardPrimary = true;
    this.preVoting = false;
    this.role = Role.Primary;
    this.primary = this.id;
    this.peers.clear();
    for (const member of this.members) {
      if (member === this.id) continue;
      this.peers.set(member, newPeer(this.lastIndex, this.now));
    }
    this.io.roleChanged(this.role, this.term);
    this.io.openTerm(this.term);
    this.broadcast(true);
  }

  /**
   * Enters a newer `term`, having voted for `votedFor` in it (-1: not yet), stored before
   * anything is sent in it. What was verified was against the last term's primary: kept, a
   * standby that stood and lost told the winner it matched entries the winner never sent it
   * (the winner then counted them toward a commit; simulation seed 14935).
   */
  private enterTerm(term: number, votedFor: number): void {
    assert(term > this.term, 'consensus: terms only grow');
    // Terms are bounded (termMax, constants.ts). They travel as float64, are journaled as u64
    // and stored as text, and none of these stopped a term at 2^53 - 1, where term + 1 is no
    // longer exact: a peer's term near it made every later election assert or stop counting.
    // Now a peer's term past termMax is refused as malformed (codec.ts), a stored one stops
    // the start (replica-store.ts), and a replica at termMax asserts rather than stand past
    // it (preStand). At 10 elections a second, 2^48 is 890,000 years away.
    assert(term <= termMax, 'consensus: a term within termMax');
    this.term = term;
    this.stats.termChanges++;
    this.votedFor = votedFor;
    this.verified = 0;
    this.recoveryPoint.reset(); // a new primary: its first announced commit is the line
    this.io.saveVote(term, votedFor);
  }

  private becomeStandby(term: number, primary: number): void {
    const changed = this.role !== Role.Standby || term !== this.term;
    if (term !== this.term) {
      this.enterTerm(term, -1);
      this.suspected = false;
    }
    this.role = Role.Standby;
    this.primary = primary;
    this.preVoting = false;
    this.resetElection();
    if (changed) this.io.roleChanged(this.role, this.term);
  }

  /** A recovering replica votes again once it holds its recovery point (recovery-point.ts). */
  private checkRecovered(): void {
    const point = this.recoveryPoint;
    if (!this.recovering) return;
    if (point.candidate(this.commit) && this.at(this.commit).term === this.term) {
      point.fix(this.commit);
    }
    if (!point.reached(this.durable)) return;
    this.recovering = false;
    this.io.recovered();
  }

  /** Once the first entry is committed, the cluster's id is known, for good. */
  private seal(): void {
    if (this.clusterId !== 0 || this.commit < 1) return;
    this.clusterId = clusterIdOf(this.hashAt(1));
    this.io.sealed(this.clusterId);
  }

  /** `clusterId` (0: none said) is another cluster's than this one's (once known). */
  private isForeign(clusterId: number): boolean {
    return clusterId !== 0 && this.clusterId !== 0 && clusterId !== this.clusterId;
  }

  private dropForeign(from: number, clusterId: number, members: number): void {
    this.stats.foreignMessages++;
    this.io.foreign(from, clusterId, members);
  }

  private majorityHeard(): boolean {
    let heard = 1;
    for (const peer of this.peers.values()) {
      if (this.now - peer.heardAt < electionTimeoutTicksMin) heard++;
    }
    return heard * 2 > this.members.length;
  }

  /** Sends each standby what it lacks (within its window), and with `heartbeat` a heartbeat. */
  private broadcast(heartbeat: boolean): void {
    if (heartbeat) this.heartbeatAt = this.now + heartbeatTicks;
    for (const [id, peer] of this.peers) {
      if (heartbeat) {
        rewindStuck(peer, this.now); // a heartbeat also resends what is stuck (peer.ts)
        this.sendHeartbeat(id, peer);
      }
      this.sendTo(id, peer);
    }
  }

  /**
   * A heartbeat carries no entries, so that it is a small message that no backlog of entries
   * delays (the transport sends it first): a heartbeat queued behind megabytes of entries on a
   * loaded machine came after the election timeout, and the cluster elected again and again.
   * It names the entry the standby is known to match (nothing in flight can be missing there,
   * so it never draws a NAK); until the standby has answered in this term, the primary's last
   * entry: one matching hash there verifies the standby's whole log at once. (Naming the
   * window's end instead made a new primary open the window 256 entries per heartbeat.)
   */
  private sendHeartbeat(id: number, peer: Peer): void {
    this.io.send(id, this.appendOf(peer, peer.known ? peer.match : peer.next - 1, []));
  }

  /**
   * An append to `peer` of `entries` after `prevIndex`, naming the life of its last status if
   * that said it is recovering, once every other standby was seen in this term since (peer.ts
   * othersPast). Only such a one reads it: to the others, appends stay alike, and one encoding
   * serves them all (udp-transport.ts reusable).
   */
  private appendOf(peer: Peer, prevIndex: number, entries: Entry[]): Append {
    const { clusterId: cluster, membersMask: members, term, id: from, commit } = this;
    const prevHash = this.hashAt(prevIndex);
    const life = peer.recovering && othersPast(this.peers, peer) ? peer.life : 0;
    const kind = 'append';
    return { kind, cluster, members, term, from, prevIndex, prevHash, entries, commit, life };
  }

  private sendTo(id: number, peer: Peer): void {
    if (probing(peer, this.now)) return;
    const from = Math.max(peer.sent + 1, peer.next);
    const windowEnd = this.log.lastWithin(peer.durable, replicationWindowEvents);
    const limit = Math.min(windowEnd, peer.durable + replicationWindowEntries);
    const to = Math.min(
      limit,
      from + appendEntriesMax - 1,
      this.log.lastWithin(from - 1, appendEventsMax),
    );
    if (to < from) return;
    if (from + replicationWindowEntries <= this.lastIndex) {
      const events = this.at(to).last - this.at(from).first + 1;
      if (!this.io.catchUpRoom(events)) {
        this.catchUpDeferred = true;
        return;
      }
    }
    const append = this.appendOf(peer, from - 1, this.entries(from, to));
    if (peer.sent <= peer.match) peer.progressAt = this.now; // nothing was in flight
    this.stats.entriesSent += to - from + 1;
    if (from <= peer.highest) this.stats.entriesResent += Math.min(to, peer.highest) - from + 1;
    if (to > peer.highest) peer.highest = to;
    peer.sent = to;
    this.io.send(id, append);
  }

  /** Entries [from, to] with their bytes, to send. */
  private entries(from: number, to: number): Entry[] {
    const out: Entry[] = [];
    for (let i = from; i <= to; i++) {
      const meta = this.at(i);
      out.push({ ...meta, payload: this.io.payload(i, meta) });
    }
    return out;
  }

  private resetElection(): void {
    this.quietSince = this.now;
    this.armElection();
  }

  private armElection(): void {
    const span = electionTimeoutTicksMax - electionTimeoutTicksMin;
    this.electionAt = this.now + electionTimeoutTicksMin + Math.floor(this.random() * span);
  }
}
