/**
 * One member of a cluster: consensus (src/replication) over UDP, and a BourseNode that is a
 * hot standby (follow mode) or, once elected, the primary whose results wait for the quorum.
 *
 *   primary                                            standby (×N)
 *   ───────                                            ────────────
 *   gateway → ring → engine → journal: seal ─┬─► commit (fsync): durable here
 *                                            │         UDP ─► verify hash chain ─► journal
 *   feeder: sealed batches ─► consensus ─────┼─UDP──►          (fsync) ─► status {durable}
 *   publisher answers clients ◄── commit ◄───┴─ status  commit ─► follow limit ─► workers
 *          (and durable here)                from a       apply (engine, read model)
 *                                            majority
 *
 * The standbys write a batch while the primary's own disk does, not after it (an idle round
 * trip: 2.3-2.4 ms, not 2.6-2.9, on one shared disk; with a disk per member they overlap whole).
 *
 * The folder stays locked and the journal open across role changes. A standby's node applies
 * every committed batch as it arrives (src/pipeline/follower.ts) and serves reads; commands
 * and sessions get 503 (the SDK tries the next member). Winning an election stores what is
 * pending, lets the workers apply the journal to its end and take over (no restart: the state
 * is already in memory), journals a Tick in the new term (its first entry, which commits the
 * ones before it), and opens for commands. A deposed primary stops its node, cuts batches it
 * never proposed, and starts a new hot standby node from a committed snapshot.
 */
import { capacityLine } from './engine-config.js';
import {
  engineConfigDefault,
  probeQuietTicks,
  stallTicksLogged,
  catchUpEventsPerTurn,
  catchUpLogEntriesMin,
  catchUpLogTicks,
  followWaitMs,
  journalLogOn,
  replicationTickMs,
  clientSeqsPromotionWaitMs,
} from '../constants.js';
import type { DataLock } from '../journal/data-lock.js';
import { sequenceKey, type JournalDb } from '../journal/journal-db.js';
import { checkedBatch } from '../journal/journal-reader.js';
import { ProgressSlot } from '../journal/journal-progress.js';
import { writeFailure } from '../journal/journal-errors.js';
import { GroupCommit, openStandbyLog } from './group-commit.js';
import { waitAtMost } from './wait-at-most.js';
import { CommandKind } from '../protocol/command-layout.js';
import { putCommand, reservedClientId } from '../protocol/command-writer.js';
import { Consensus, lifeOf, type ConsensusIo } from '../replication/consensus.js';
import { lastSequenceOf, memberRoleName, Role, roleName } from '../replication/messages.js';
import type { Entry, Message } from '../replication/messages.js';
import { claimMemberFolder, entryMetaOf, ReplicaStore } from '../replication/replica-store.js';
import { bootstrapping } from './formation-check.js';
import { clusterIdText } from '../replication/hashes.js';
import type { TransportStats, UdpTransport } from '../replication/udp-transport.js';
import { memberTransport } from './member-transport.js';
import type { OtherVersion } from '../replication/other-versions.js';
import type { NodeRole } from '../gateway/gateway.js';
import { BourseNode, closeStorage, configOf, openStorage } from './node.js';
import type { NodeLog, SealedAt } from './node.js';
import { registerClusterMetrics, replicationLags, standbysSeen } from './cluster-metrics.js';
import { CounterCarry } from './node-metrics.js';
import { ForeignMembers } from './foreign-members.js';
import { transferLeadership } from './leadership-transfer.js';
import { MembersHeard, type StandbysSeen } from './members-heard.js';
import { PrimaryClaim } from './primary-claim.js';
import { memberNotReady, type MemberReadyView } from './member-ready.js';
import { StageTimes, timestampOf } from './stage-times.js';
import { FolderBefore, undoStart } from './start-undo.js';
import type { ClusterMember, ClusterNodeOptions } from './cluster-options.js';
export type { ClusterMember, ClusterNodeOptions } from './cluster-options.js';

/** The client id the cluster's own commands (the Tick that opens a term) are sent under. */
export const clusterClientId = reservedClientId;

export class ClusterNode {
  readonly id: number;
  node: BourseNode | null = null;
  /** Highest event sequence committed (durable on a majority). */
  committedSequence = 0;
  readonly consensus: Consensus;
  private readonly options: ClusterNodeOptions;
  private readonly store: ReplicaStore;
  private readonly lock: DataLock;
  private readonly transport: UdpTransport;
  private readonly log: NodeLog;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private tickedAt = performance.now();
  /** Consensus ticks so far, and the durable index at the last catch-up log. */
  private ticks = 0;
  private catchUpFrom = 0;
  /** The current feeding loop's token (feedOnProgress), null while not feeding. */
  private feeder: object | null = null;
  /** Role changes run one after another (starting or stopping a node takes a while). */
  private changing: Promise<void> = Promise.resolve();
  private stopped = false;
  /**
   * promoted: elected, so the node is, or is becoming, a primary with a journal writer of its
   * own (set at once, when the role changes); serving: promotion finished in the current term
   * (commands accepted); draining: a deposed node stopping.
   */
  private promoted = false;
  private serving = false;
  /** The last sequence decided before this member's node began to serve (its publisher's start). */
  private servingFrom = 0;
  private draining = false;
  /** True while the primary proposes a batch of its own journal (stored by its writer). */
  private proposing = false;
  /**
   * The primary's batches as its journal writer sealed them, before its commit (sent on at
   * once: the standbys write while this disk does). Those proposed but not yet durable here
   * are held by the store (`hold`): consensus counts this member's copy once its writer says.
   */
  private sealed: { first: number; bytes: Uint8Array }[] = [];
  /** Catch-up events sent in this turn of the event loop, and whether its end is scheduled. */
  private catchUpSent = 0;
  private catchUpTurn = false;
  /** Members whose messages are dropped (another cluster's, or another member list). */
  private readonly foreign: ForeignMembers;
  /** A follow-limit move is scheduled for this turn's end; a write ended since (followSoon). */
  private followScheduled = false;
  private followStored = false;
  /** A standby's writes of what it receives (group-commit.ts). */
  private readonly writes: GroupCommit;
  /** Stage times (stage-times.ts), when the environment asks for them. */
  readonly stages = StageTimes.fromEnvironment();
  /** Events stored while no node ran (a standby's starts): counted by the next one. */
  private storedUncounted = 0;

  /** bourse_events_total on a standby: the events its group commit stored. */
  private countStored(events: number): void {
    this.storedUncounted += events;
    if (this.node === null) return;
    this.node.countStored(this.storedUncounted);
    this.storedUncounted = 0;
  }
  /** What its earlier nodes counted: /metrics' counters go on across a demotion. */
  private readonly counters = new CounterCarry();
  /** When each member was last heard (members-heard.ts), and a primary's claim to be one. */
  private readonly heard: MembersHeard;
  private readonly claim: PrimaryClaim;
  private reportFailure: (error: Error) => void = () => {};
  /**
   * Resolves once this member cannot go on (its node failed, it cannot store what it receives,
   * or a role change failed). It has gone silent first: no acks, no votes, no heartbeats, so
   * the others elect without it (a primary whose disk is full would otherwise hold the cluster
   * up). Whoever runs it stops it: `bourse member` exits, and `bourse cluster` starts it again.
   */
  readonly failed = new Promise<Error>((resolve) => (this.reportFailure = resolve));

  private constructor(options: ClusterNodeOptions, db: JournalDb, lock: DataLock) {
    this.id = options.id;
    this.options = options;
    this.lock = lock;
    this.store = new ReplicaStore(db);
    this.log = options.log ?? (() => {});
    const ids = options.members.map((m) => m.id);
    this.heard = new MembersHeard(ids);
    this.claim = new PrimaryClaim(this.id, ids);
    const log = openStandbyLog(this.store, options, this.log);
    this.writes = new GroupCommit(this.store, log, {
      stored: (index, hash, events) => {
        this.stages?.stored(index);
        this.countStored(events);
        this.consensus.onDurable(index, hash);
        this.followSoon(true);
      },
      failed: (error) => {
        const failure = writeFailure(error, 'replicated batches', -1, options.dataDir);
        this.log(`member ${this.id}: ${failure.message}`, 'error');
        this.failMember(failure); // a member that cannot write must not ack or vote
      },
      committedSequence: () => this.committedSequence,
      stopped: () => this.stopped,
      writing: (index) => this.stages?.writing(index),
      applied: () => this.followSoon(true),
    });
    this.store.noteMemberId(this.id); // every check of its start passed (claimMemberFolder)
    const vote = this.store.loadVote();
    const recovering = vote.recovering || (!vote.member && !options.bootstrap);
    if (!vote.member || recovering) this.store.setRecovering(recovering);
    if (recovering)
      this.log(`member ${this.id}: recovering (no data): will not vote until caught up`);
    this.transport = this.newTransport(options, recovering);
    this.transport.queueWait = this.stages?.udp ?? null;
    this.transport.onUnreachable = (id) => {
      if (id === this.consensus.primary) this.consensus.suspectPrimary();
    };
    const stored = this.store.loadLog();
    this.consensus = new Consensus(
      {
        id: this.id,
        members: options.members.map((m) => m.id),
        random: Math.random,
        recovering,
        life: lifeOf(),
        term: vote.term,
        votedFor: vote.votedFor,
        log: stored.log,
        base: stored.base,
        retain: options.logRetain,
        clusterId: this.store.loadClusterId(),
      },
      this.io(),
    );
    this.foreign = new ForeignMembers(this.consensus, this.log);
  }

  /**
   * The member's transport, its runs' starts stored in its folder, and the others' starts it
   * heard (replay-window.ts). Both are also written on the transport's receive path (a renewal
   * asked, a member's new run): a write the disk fails there silences and fails the member, as
   * a vote's does (keep), rather than throwing out of the socket's handler.
   */
  private newTransport(options: ClusterNodeOptions, recovering: boolean): UdpTransport {
    const store = this.store;
    const clockMs = options.clockMs ?? Date.now;
    const renewStart = (floor: number): number => {
      let start = floor + 1; // if not stored, the member is failed and sends nothing more
      this.keep(() => (start = store.nextTransportStart(floor, clockMs())));
      return start;
    };
    const transportOptions = {
      ...options,
      start: store.nextTransportStart(0, clockMs()),
      renewStart,
      peerStarts: store.peerStarts(options.members.map((m) => m.id)),
      recovering,
      notePeerStart: (id: number, start: number) => this.keep(() => store.notePeerStart(id, start)),
    };
    return memberTransport(transportOptions, (m) => this.receive(m), this.log);
  }

  /** Opens the member's storage, binds its ports and starts as a standby. */
  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const { db, lock } = openStorage(options.dataDir);
    try {
      const moved = claimMemberFolder(db, options); // a line to warn with, or null
      if (moved !== null) options.log?.(moved, 'warn');
    } catch (error) {
      await closeStorage(db, lock);
      throw error;
    }
    const before = FolderBefore.of(db, options.dataDir); // a start that fails puts it back
    const bootstrap = await bootstrapping(options, db);
    if (options.bootstrap) before.bootstrapAnswered(bootstrap);
    const config = await configOf(db, lock, options);
    const member = new ClusterNode({ ...options, config, bootstrap }, db, lock);
    const self = member.member(options.id);
    // Said before binding: a term learnt from the others while starting is a change of its own.
    member.log(`member ${options.id}: standby, term ${member.consensus.term}`);
    try {
      await member.transport.bind(options.listen ?? self.host, self.replicationPort);
      await member.startFollower();
    } catch (error) {
      // A member that cannot serve (its client port taken) must not stay half-started: its
      // bound transport would keep it voting, and electable, with no gateway for clients. It
      // stops as any member does (stop): closed under the catch-up's write in flight, its
      // storage got the next write, which lmdb-js threw uncaught (cluster-faults, seed 3).
      await member.stop({ handOver: false }).catch((e: Error) => member.log(e.message, 'error'));
      member.log(await undoStart(options.dataDir, before, options.id), 'warn');
      throw error;
    }
    member.tickedAt = performance.now(); // starting is not a stall
    member.ticker = setInterval(() => member.onTick(), replicationTickMs);
    member.log(`member ${options.id}: capacity ${capacityLine(config)}`);
    return member;
  }

  memberIds(): number[] {
    return this.options.members.map((m) => m.id);
  }

  /** True once promoted and open for commands (the node is a hot standby until then). */
  get accepting(): boolean {
    return this.serving && this.consensus.role === Role.Primary;
  }

  /** The consensus clock; a standby that has not heard its primary for a while probes it. */
  private onTick(): void {
    const now = performance.now();
    const gap = now - this.tickedAt;
    this.tickedAt = now;
    // A late tick, time unread on the network, is why a standby may stand: the logs say so.
    if (gap > replicationTickMs * stallTicksLogged) {
      this.log(`member ${this.id}: event loop stalled ${gap.toFixed(0)} ms`, 'warn');
    }
    this.claim.ticked(now, gap);
    const c = this.consensus;
    c.tick();
    if (++this.ticks % catchUpLogTicks === 0) this.logCatchUp();
    if (c.role !== Role.Standby || c.primary < 0 || c.quietTicks < probeQuietTicks) return;
    this.transport.probe(c.primary);
  }

  /**
   * A standby far behind (restarted, or rejoining without its data) says how far it is: the
   * entries durable here against its primary's commit, and how fast they come.
   */
  private logCatchUp(): void {
    const c = this.consensus;
    const durable = c.durableIndex;
    const behind = c.primaryCommit - durable;
    const rate = ((durable - this.catchUpFrom) * 1000) / (catchUpLogTicks * replicationTickMs);
    this.catchUpFrom = durable;
    if (c.role !== Role.Standby || behind < catchUpLogEntriesMin) return;
    const percent = ((100 * durable) / c.primaryCommit).toFixed(1);
    const eta = rate > 0 ? `, about ${Math.ceil(behind / rate)} s left` : '';
    this.log(
      `member ${this.id}: catching up: ${durable} of ${c.primaryCommit} entries durable ` +
        `(${percent}%, ${rate.toFixed(0)} entries/s${eta})`,
    );
  }

  get role(): Role {
    return this.consensus.role;
  }

  /** The transport's counters, for /metrics (cluster-metrics.ts). */
  get transportStats(): Readonly<TransportStats> {
    return this.transport.stats;
  }

  /** Members heard on another version (and not on this one since), for /health and /metrics. */
  otherVersions(): OtherVersion[] {
    return this.transport.otherVersions();
  }

  /** Role (by name) and term, for the fields of log lines. */
  logFields(): { role: string; term: number } {
    return { role: this.roleShown(), term: this.consensus.term };
  }

  /** `{ primaryUrl }` of the primary this member knows (its client address), or nothing. */
  private primaryUrl(): { primaryUrl?: string } {
    const m = this.options.members.find((x) => x.id === this.consensus.heardPrimaryId);
    return m === undefined ? {} : { primaryUrl: `ws://${m.host}:${m.port}/` };
  }

  private member(id: number): ClusterMember {
    const m = this.options.members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`cluster: no member ${id}`);
    return m;
  }

  private receive(message: Message): void {
    this.heard.stamp(message.from, performance.now());
    if (message.kind === 'status' && message.ok) this.stages?.status(message.from, message.durable);
    // While this member's node is, or is becoming, a primary, or drains after being deposed,
    // its journal writer writes: entries from another primary wait (they are sent again) so
    // that one writer at a time touches the journal (two broke the hash chain under load).
    // The append still goes through without them: its term deposes this member, and its
    // status tells the new primary that a majority hears it (dropping it made the new primary
    // step down again and again, for as long as the old node took to stop).
    const writer = this.promoted || this.draining;
    if (message.kind === 'append' && message.entries.length > 0 && writer) {
      return this.consensus.receive({ ...message, entries: [] });
    }
    this.consensus.receive(message);
    const c = this.consensus;
    const ack = message.kind === 'status' && message.term === c.term && c.role === Role.Primary;
    if (ack) this.claim.status(message.from, performance.now());
  }

  private io(): ConsensusIo {
    return {
      send: (to, message) => this.transport.send(to, message),
      write: (index, entries) => this.write(index, entries),
      payload: (_index, meta) => this.store.payload(meta),
      stored: (index) => this.store.metaAt(index),
      compacted: (from, entries) => this.store.saveIndex(from, entries),
      verify: (entry) => this.store.verify(entry),
      saveVote: (term, votedFor) => this.keep(() => this.store.saveVote(term, votedFor)),
      committed: (index) => {
        this.committedSequence = lastSequenceOf(this.consensus.entry(index));
        this.stages?.commit(index);
        this.node?.publisher.wake(); // its results may go now
        this.followSoon(false);
      },
      roleChanged: (role, term) => this.onRoleChanged(role, term),
      // A new term's Tick goes at promote; serving, a repeat of it for a recovering standby.
      openTerm: (term) => {
        if (this.serving && this.node !== null) this.openTerm(this.node, term);
      },
      recovered: () => {
        this.keep(() => this.store.setRecovering(false));
        this.log(`member ${this.id}: caught up; votes again`);
      },
      catchUpRoom: (events) => this.catchUpRoom(events),
      sealed: (clusterId) => {
        this.keep(() => this.store.saveClusterId(clusterId));
        this.log(`member ${this.id}: cluster id ${clusterIdText(clusterId)} (its first entry's)`);
      },
      foreign: (from, clusterId, members) => this.foreign.report(from, clusterId, members),
      truncated: (at, to, first, last) => {
        // Commands no majority holds, dropped for the primary's: never answered to a client
        // (the SDK sends them again), but the operator should see that they went, and which.
        this.log(
          `member ${this.id}: cut its uncommitted tail: entries ${at + 1} to ${to} ` +
            `(sequences ${first} to ${last}), for the primary's`,
          'warn',
        );
      },
    };
  }

  /**
   * At most `catchUpEventsPerTurn` events of catch-up (at least one append) per turn of the
   * event loop; the rest go in the next (setImmediate: after this turn's I/O, before its
   * timers wait again), so that clients and heartbeats are served between them.
   */
  private catchUpRoom(events: number): boolean {
    if (this.catchUpSent > 0 && this.catchUpSent + events > catchUpEventsPerTurn) return false;
    this.catchUpSent += events;
    if (!this.catchUpTurn) {
      this.catchUpTurn = true;
      setImmediate(() => {
        this.catchUpTurn = false;
        this.catchUpSent = 0;
        if (!this.stopped) this.consensus.resumeCatchUp();
      });
    }
    return true;
  }

  /**
   * Moves the workers' follow limit at this turn's end (each move wakes two workers, a futex
   * wake each: 7% of a standby's main thread once), after its microtasks: a write's status and
   * the next write go first. A commit learned during a write waits for its end (`stored`),
   * which moves the limit: under load one wake-up a write, not two (2-3% at 100k/s).
   */
  private followSoon(stored: boolean): void {
    if (stored) this.followStored = true;
    if (this.followScheduled) return;
    this.followScheduled = true;
    setImmediate(() => {
      this.followScheduled = false;
      if (this.followStored || !this.writes.writing) this.node?.follow(this.followLimit());
      this.followStored = false;
    });
  }

  /**
   * Consensus stores entries. On the primary they come from its own journal writer, durable once
   * its progress says so (reportDurable); on a standby its group commit writes them, then says.
   */
  private write(at: number, entries: readonly Entry[]): void {
    const index = at + entries.length - 1;
    // The primary's: sent (and resent) from memory until it is durable here.
    if (this.proposing) this.store.hold(entries[entries.length - 1], index);
    else this.writes.add(entries, index);
    if (this.stages !== null) this.stages.received(index, entries.length, timestampOf(entries[0]));
  }

  /**
   * How far a hot standby may apply: committed on a majority, and durable here as part of the
   * log consensus holds now. (It was "the journal's last stored sequence": a deposed primary
   * that learned a commit before the new primary's entries had replaced its uncommitted tail
   * on disk applied that tail, which was then cut under it. Consensus's durable index drops
   * when its log is cut, and moves only when the write of the entries now there is on disk.)
   */
  private followLimit(): number {
    const c = this.consensus;
    const durable = c.durableIndex === 0 ? 0 : lastSequenceOf(c.entry(c.durableIndex));
    return Math.min(this.committedSequence, durable, this.writes.appliedBelow); // LMDB's
  }

  private onRoleChanged(role: Role, term: number): void {
    this.log(`member ${this.id}: ${roleName(role)}, term ${term}`);
    // Whatever the change, a node promoted in an earlier term takes no more commands and
    // proposes no more batches (they are of its term) until it is stopped or promoted anew.
    this.serving = false;
    this.feeder = null;
    const change = role === Role.Primary ? () => this.promote(term) : () => this.demote();
    if (role !== Role.Primary && !this.promoted) return;
    if (role === Role.Primary) this.promoted = true;
    this.changing = this.changing.then(change).catch((error: Error) => {
      // A member that cannot take its role must not linger half-way: stop it, loudly.
      this.log(`member ${this.id}: role change failed: ${error.message}`, 'error');
      this.failMember(error);
    });
  }

  private async promote(term: number): Promise<void> {
    if (!this.stillPromoting(term)) {
      // Deposed before it began: the node is still a hot standby, nothing to undo (a later
      // term's promotion, if queued, sets the flag again).
      this.promoted = false;
      return;
    }
    const node = this.node;
    if (node === null) throw new Error('no standby node to promote');
    this.promoted = true;
    const started = performance.now();
    await this.writes.drain(); // the workers take over at the journal's end: all of it stored
    const stored = performance.now();
    await node.promote(term);
    const promoted = performance.now();
    // Deposed while promoting: the demotion queued behind this stops the node.
    if (!this.stillPromoting(term)) return;
    // Where each client id left off, from the state handed over (its read model is there now),
    // so that a client that restarts tells its next seq; a busy read model does not hold the
    // takeover up for long (Welcome says "unknown" until it answers).
    await waitAtMost(node.gateway?.reloadClientSeqs(), clientSeqsPromotionWaitMs);
    if (!this.stillPromoting(term)) return;
    this.serving = true;
    this.servingFrom = node.tail.sequence;
    const feeder = {};
    this.sealed = [];
    this.store.release(Number.POSITIVE_INFINITY);
    this.feeder = feeder;
    void this.feedOnProgress(feeder, node);
    this.openTerm(node, term);
    node.gateway?.tookOver(); // the marked clients' grace (cancel on disconnect)
    const now = performance.now();
    const self = this.member(this.id);
    this.log(`member ${this.id}: serving clients on ${self.host}:${self.port}, term ${term}`);
    // Where a takeover's time goes: its last writes, the workers' handover, client seqs.
    const spans = [now - started, stored - started, promoted - stored, now - promoted];
    const [all, store, workers, seqs] = spans.map((ms) => ms.toFixed(0));
    this.log(
      `member ${this.id}: took over in ${all} ms at sequence ${node.tail.sequence} (stores ` +
        `${store} ms, workers ${workers} ms, client seqs ${seqs} ms)`,
    );
  }

  /** Whether a promotion to `term` goes on after a wait: not if deposed, nor once stopping. */
  private stillPromoting(term: number): boolean {
    return !this.stopped && this.consensus.role === Role.Primary && this.consensus.term === term;
  }

  /** A hot standby: a node in follow mode serving reads; on a stopped node's rings if given. */
  private async startFollower(rings?: BourseNode['rings']): Promise<void> {
    const self = this.member(this.id);
    const node = await BourseNode.start({
      dataDir: this.options.dataDir,
      config: this.options.config ?? engineConfigDefault,
      storage: { db: this.store.db, lock: this.lock },
      gateway: {
        host: this.options.listen ?? self.host,
        port: self.port,
        cancelGraceMs: this.options.cancelGraceMs,
      },
      sealed: (first, bytes, at) => this.onSealed(first, bytes, at),
      follow: { notAfter: Math.max(this.committedSequence, this.store.loadCommitted()) },
      journalLog: this.writes.logged && (this.options.journalLog ?? journalLogOn),
      role: this.roleView(),
      counters: this.counters,
      rings,
      log: this.log,
      snapshotIntervalMs: this.options.snapshotIntervalMs,
      snapshotAtStopSequencesMin: this.options.snapshotAtStopSequencesMin,
    });
    node.publisher.gate = () => this.committedSequence;
    if (this.stages !== null) node.publisher.listen(this.stages.result);
    this.node = node;
    this.countStored(0); // what was stored while no node ran
    node.follow(this.followLimit());
    // The same node serves on as primary once promoted; a demotion starts a new one.
    void node.failed.then((error) => {
      if (this.node === node && !this.stopped) this.failMember(error);
    });
  }

  /** A write before consensus goes on (a vote): one the disk fails silences and fails it. */
  private keep(write: () => void): void {
    try {
      write();
    } catch (error) {
      this.log(`member ${this.id}: ${(error as Error).message}`, 'error');
      this.failMember(error as Error);
    }
  }

  private failMember(error: Error): void {
    this.silence();
    this.reportFailure(error);
  }

  /** The role by the name /health, /metrics and log fields show (memberRoleName). */
  private roleShown(): string {
    return memberRoleName(this.consensus.role, this.consensus.recovering);
  }

  /** What the gateway obeys and reports: commands only once promoted; role, term, lag. */
  private roleView(): NodeRole {
    const c = this.consensus;
    const seen = (): StandbysSeen => standbysSeen(this);
    return {
      accepting: () => this.accepting,
      describe: () => ({
        role: this.roleShown(),
        member: this.id,
        // Not a primary that heard no majority lately (stopped, stalled): it may be deposed.
        accepting: this.accepting && this.claim.confirmed(performance.now()),
        term: this.consensus.term,
        // Not one silent for an election timeout: the SDK asks /health who is primary.
        primary: this.consensus.heardPrimaryId,
        // Where clients reach it: a 503 to a session on a standby names it, and the SDK goes.
        ...this.primaryUrl(),
        members: this.memberIds(),
        // Up or down, heard when; on the primary the lag, and recovering (members-heard.ts).
        peers: this.heard.peersOf(this.id, c.role, c.primary, seen(), performance.now()),
        // Members this one cannot hear: another version's (a rolling upgrade under way).
        otherVersions: this.otherVersions(),
        // Members that agree on it hold one history (null: no entry committed yet).
        cluster: this.consensus.clusterId === 0 ? null : clusterIdText(this.consensus.clusterId),
        committedSequence: this.committedSequence,
        // A standby's state in memory (follow mode), or what the primary has decided.
        appliedSequence: this.node?.progress.get(ProgressSlot.sequencePublished) ?? 0,
      }),
      committed: () => this.committedSequence,
      handOver: () => (this.serving ? this.servingFrom : null),
      register: (registry) => registerClusterMetrics(registry, this),
      replicationLags: () => replicationLags(this),
      notReady: (use) => memberNotReady(this.readyView(), use, this.options.readyLagEventsMax),
    };
  }

  private readyView(): MemberReadyView {
    const { node, consensus, committedSequence, accepting, servingFrom } = this;
    const stopping = this.stopped || this.draining;
    const confirmed = this.claim.confirmed(performance.now());
    return { stopping, node, consensus, committedSequence, accepting, servingFrom, confirmed };
  }

  /** Journals a Tick in the new term: the term's first entry, which commits those before. */
  private openTerm(node: BourseNode, term: number): void {
    const input = node.input;
    if (input === null || !input.hasRoom(1)) return;
    const fields = { kind: CommandKind.Tick, clientId: clusterClientId, clientSeq: term };
    putCommand(input, fields);
    input.publish();
  }

  /**
   * Feeds as soon as the journal writer reports a commit (it bumps the progress version with
   * every durable batch), while `feeder` is the current one; the wait's timeout is the floor.
   * Polling made each batch wait for the next timer (1 ms or more on a loaded machine) before it
   * went to the standbys; the 1 ms interval kept a while as a floor woke an idle primary 1000/s.
   */
  private async feedOnProgress(feeder: object, node: BourseNode): Promise<void> {
    while (this.feeder === feeder && !this.stopped) {
      const seen = node.progress.version();
      this.feed();
      await node.progress.waitChangeAsync(seen, followWaitMs);
    }
  }

  /** A batch the journal writer sealed (not yet durable): proposed at once while feeding. */
  private onSealed(first: number, bytes: Uint8Array, at: SealedAt): void {
    this.stages?.sealed(first, at);
    if (this.feeder === null || this.stopped) return; // not (yet, or any more) a primary
    this.sealed.push({ first, bytes });
    this.feed();
  }

  /** Proposes the journal's next batches (sealed, or read back), and says what is durable here. */
  private feed(): void {
    const node = this.node;
    const c = this.consensus;
    if (node === null || this.stopped || c.role !== Role.Primary) return;
    const durable = node.progress.get(ProgressSlot.sequenceDurable);
    let last = c.lastSequence();
    for (;;) {
      const key = sequenceKey(last + 1);
      const value = this.nextBatch(last + 1, durable);
      if (value === undefined) break;
      const view = checkedBatch(key, value, false);
      this.proposing = true;
      const entry = { ...entryMetaOf(view), payload: value };
      this.store.remember(entry); // sent to each standby from this copy, not read again
      c.propose(entry);
      this.stages?.proposed(c.lastIndex, view.timestamp, view.firstSequence);
      this.proposing = false;
      last = lastSequenceOf(entry);
    }
    this.reportDurable(durable);
  }

  /**
   * The batch starting at `first`: as its writer sealed it, or else, once durable, read from the
   * journal (written before this feeder began, or its message not here yet). Batches are
   * gapless, so the next one's key is known: a get per batch, not a range read (an iterator and
   * its cursor per call: 8 against 6.5 µs a 33 KB batch, measured here).
   */
  private nextBatch(first: number, durable: number): Uint8Array | undefined {
    const sealed = this.sealed;
    while (sealed.length > 0 && sealed[0].first < first) sealed.shift(); // proposed already
    if (sealed.length > 0 && sealed[0].first === first) return sealed.shift()?.bytes;
    if (durable < first) return undefined;
    return this.store.copyOf(first); // undefined: not visible to this turn's read yet
  }

  /** Reports this member's own copy durable up to its writer's durable sequence. */
  private reportDurable(durable: number): void {
    const done = this.store.release(durable);
    if (done === null) return;
    this.stages?.durable(done.index);
    this.consensus.onDurable(done.index, done.hash);
  }

  /** Stops serving, cuts what was never proposed, and follows as a new hot standby. */
  private async demote(): Promise<void> {
    const node = this.node;
    if (node === null || !this.promoted) return;
    this.promoted = false;
    this.serving = false;
    this.feeder = null;
    this.draining = true;
    node.publisher.abandon = true; // no quorum will answer them now
    const started = performance.now();
    await node.stop();
    this.writes.resumeLog(); // its journal writer appended to the log, and LMDB holds all of it
    this.node = null;
    this.draining = false;
    if (this.stopped) return;
    const after = this.consensus.lastSequence();
    const cut = this.store.truncateAfter(after);
    if (cut !== null) {
      // Journaled by its writer, never proposed: no other member ever saw them.
      this.log(
        `member ${this.id}: cut its journal's unproposed tail: ${cut.batches} batches ` +
          `(sequences ${after + 1} to ${cut.last})`,
        'warn',
      );
    }
    const stopped = performance.now();
    await this.startFollower(node.rings);
    const stopMs = (stopped - started).toFixed(0);
    const followMs = (performance.now() - stopped).toFixed(0);
    this.log(`member ${this.id}: following again (${stopMs} ms to stop, ${followMs} to follow)`);
  }

  /**
   * Goes silent as a dead process would, for tests and drills run in one process: every link
   * is cut both ways (the transport's partition faults) and its clients are dropped. The
   * consensus clock keeps running, so a silenced primary steps down on its own.
   */
  silence(): void {
    this.serving = false; // and a stop after this hands nothing over
    this.partition();
    this.node?.gateway?.close();
  }

  /** A serving primary's clean stop hands the cluster over first (leadership-transfer.ts). */
  private async transferLeadership(): Promise<void> {
    const node = this.node;
    if (!this.accepting || node === null) return;
    this.serving = false; // no more commands: the gateway answers them Busy
    await transferLeadership(node, this.consensus, this.log);
  }

  /** Cuts every link to the other members both ways; its clients keep their sessions. */
  partition(): void {
    for (const m of this.options.members) {
      if (m.id === this.id) continue;
      this.transport.faults.blockTo.add(m.id);
      this.transport.faults.blockFrom.add(m.id);
    }
  }

  /** Ends a `partition()`: its links work again. */
  heal(): void {
    this.transport.faults.blockTo.clear();
    this.transport.faults.blockFrom.clear();
  }

  /**
   * Stops everything and releases the folder; a serving primary hands over first, unless its
   * whole cluster stops (`handOver: false`). What starts work stops first (clock, messages,
   * feeding; `stopped` makes late callbacks no-ops), then the work in flight ends (role
   * changes, writes, the node), and only then is the storage closed.
   */
  async stop(options: { handOver?: boolean } = {}): Promise<void> {
    if (options.handOver !== false) await this.transferLeadership();
    this.stopped = true;
    if (this.ticker !== null) clearInterval(this.ticker);
    this.feeder = null; // and feedOnProgress ends
    this.transport.close(); // no more messages, so no more role changes
    this.log(`member ${this.id}: transport ${JSON.stringify(this.transport.stats)}`);
    this.log(`member ${this.id}: consensus ${JSON.stringify(this.consensus.stats)}`);
    for (let c = this.changing; ; c = this.changing) {
      await c;
      if (c === this.changing) break;
    }
    await this.writes.storeLeft().catch((error: Error) => {
      const failure = writeFailure(error, 'replicated batches, at stop');
      this.log(`member ${this.id}: ${failure.message}`, 'error');
    });
    const unkept = this.writes.failed ? null : this.store.keepCommitted(this.followLimit());
    if (unkept !== null) this.log(`member ${this.id}: ${unkept.message}`, 'warn');
    if (this.node !== null) {
      this.node.publisher.abandon = true; // the transport is closed: no more acks
      await this.node.stop();
    }
    this.node = null;
    await this.store.close(); // once its queued writes are done
    this.lock.release();
  }
}
