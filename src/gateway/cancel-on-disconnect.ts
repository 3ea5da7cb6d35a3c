/**
 * Cancel on disconnect (docs/PROTOCOL.md, "Cancel on disconnect"): a session that asked for it
 * in Hello (HelloFlag.CancelOnDisconnect) has the resting orders its client id placed canceled
 * when its connection is lost.
 *
 *   session lost   ──► a chain for the client: CancelClientOrders(ref client, target 0)
 *                      ──► input ring
 *   durable head   ──► AllCanceled, other_id ≠ 0 and before the chain's first round:
 *                      CancelClientOrders(ref client, target other_id, aux first round's
 *                      sequence) ──► input ring ... until 0
 *
 * By the client, not by account: the engine keeps, with each resting order, the client id that
 * placed it (engine/order-book/orders.ts), so a loss cancels that client's orders only, as CME
 * and Eurex cancel a disconnected session's: another trader's or an admin's orders on a shared
 * account stay. That record is in the replicated state, so the orders a client kept through a
 * close that was no loss (the node's 1001 at a restart, a failover to another member) are the
 * client's still, and its next session covers them from its Welcome, on whatever member, with
 * nothing to note here: an admin key's session as an account key's.
 *
 * The rounds are commands like any client's, under the node's own disconnectClientId:
 * sequenced, journaled, replicated and applied once per client seq. A chain stops at the first
 * order placed after its first round (order ids are the sequences that placed them): those are
 * the re-quotes of a client that came back, and the loss was seen before them. The later rounds
 * carry that bound (aux), so that the engine stops there too instead of going on into them.
 *
 * What counts as a loss: any close of a command session but the client's own with code 1000
 * (the SDK's close()), while the node runs and takes commands. The node stopping (Gateway.close)
 * cancels nothing, nor does a member that is not primary: its sessions' orders stay.
 *
 * Which clients have a session that asked is in the replicated state too (engine/cancel-cover.ts),
 * so that their orders do not outlive a primary that failed with their sessions:
 *
 *   a session with the flag opens       ──► SetCancelOnDisconnect(ref client, aux 1), unless
 *                                           this gateway marked the client already
 *   its client closes it with 1000, or
 *   the client logs in without the flag ──► SetCancelOnDisconnect(ref client, aux 0)
 *   the node starts taking commands     ──► graceMs later (5 s unless set), the marked clients
 *   (a new primary, a restart)              that have not logged in since: a chain each
 *
 * A login the node sheds during the grace (503, "come back in retryAfterMs": a reconnect storm
 * past loginsPendingMax, or a node full at sessionCountMax) holds the grace open until graceMs
 * after twice that wait (the SDK jitters it up to 1.5 times), up to
 * cancelOnDisconnectGraceHeldMaxMs from the takeover, while clients come back (graceTimerEnded:
 * a flood of upgrades, shed before any key is shown, held it 120 s). A client the node itself
 * turned away is not gone: with 5,000-10,000 clients back at once, most were shed and told to
 * wait up to 8 s, came back after a 5 s grace, and found their orders canceled. So the grace
 * ends no sooner than graceMs after the last shed login's wait.
 *
 * A loss leaves the mark while its chain runs (the client is expected back with the flag: one
 * back by then writes no mark, only the rounds are written); a chain that ends with none of
 * the client's orders from before the loss left, and no session of it with the flag, unmarks it
 * (unmarkGone). The marks are commands under disconnectClientId like the rounds.
 * A session's commands go into the ring after its client's mark (holds: Busy while a full ring
 * keeps the mark out), so a state that holds any of them marks the client, as Welcome said.
 */
import {
  cancelOnDisconnectGraceHeldMaxMs,
  cancelOnDisconnectGraceMs,
  cancelOnDisconnectHoldsIdleMax,
  cancelOnDisconnectPendingMax,
  cancelOnDisconnectRetryMs,
  cancelOnDisconnectSilenceMs,
  cancelOnDisconnectSweepMs,
  clientSeqsRetryMs,
} from '../constants.js';
import { assert } from '../stdx/assert.js';
import { readU64, type RecordBuffer } from '../stdx/records.js';
import { CommandKind } from '../protocol/command-layout.js';
import { disconnectClientId, nextSystemSeq, putCommand } from '../protocol/command-writer.js';
import { EventFlag, EventKind, EventWord } from '../protocol/event-layout.js';
import { HelloFlag } from '../protocol/frames.js';
import { statusName } from '../protocol/status.js';
import type { CommandSink } from './gateway.js';
import { CancelReports } from './cancel-reports.js';
import type { StateReads } from './reads.js';

/** What a session keeps for cancel on disconnect. */
export interface CancelFields {
  /** It asked, and its orders go at a loss (a command session only). */
  cancelOnDisconnect: boolean;
  /** `heard` at the last sweep that heard something (set once it took the flag). */
  heardAtSweep?: number;
  /** Sweeps since then: silent for cancelOnDisconnectSilenceMs, it is lost. */
  quietSweeps?: number;
}

/** A session's socket as the silence sweep uses it (uWS's WebSocket). */
export interface SweptSocket {
  /** Its session, with `heard`: the frames and pongs heard from it (silent-holder.ts). */
  getUserData(): CancelFields & { heard: number };
  ping(): unknown;
  /** Ends the connection without a close frame: the close handler runs now, with 1006. */
  close(): unknown;
}

/** Where the gateway writes lines for the operator (the node's log). */
export type GatewayLog = (line: string, level?: 'info' | 'warn' | 'error') => void;

/** What /metrics shows of cancels on disconnect (each only grows). */
export interface CancelCounts {
  /** Lost sessions whose orders got cancels. */
  sessions: number;
  /** CancelClientOrders rounds answered with AllCanceled. */
  rounds: number;
  /** Orders those rounds canceled. */
  orders: number;
  /** Lost sessions not canceled: past cancelOnDisconnectPendingMax, or the node stopped taking. */
  dropped: number;
  /** Of `sessions`, clients marked in the state that did not log in within the grace. */
  unreturned: number;
}

/** A client's command session now, as the gateway has it (undefined: none). */
export type SessionOf = (clientId: number) => CancelFields | undefined;

/** One client's cancels: its rounds, one in the ring at a time. */
interface Chain {
  client: number;
  /** The order the next round goes on from (0: the oldest). */
  target: number;
  /** Rounds written so far. */
  rounds: number;
  /** The first round's sequence (0 until answered): orders from there on came after the loss. */
  bound: number;
  /** Another loss of the client after the first round left: a new chain once this ends. */
  again: boolean;
}

export class CancelOnDisconnect {
  /** Chains under way, one per client (at most cancelOnDisconnectPendingMax). */
  private readonly chains = new Map<number, Chain>();
  /** Chains whose next round waits for room in the ring, oldest first. */
  private readonly waiting: Chain[] = [];
  /** Chains whose round is in the ring, by that round's client seq. */
  private readonly sent = new Map<number, Chain>();
  /** The last client seq written under disconnectClientId. */
  private clientSeq = 0;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** Clients this gateway marked (or found marked) as having a session with the flag. */
  private readonly covered = new Set<number>();
  /** Clients marked or unmarked since the marks were asked for at a takeover (until answered). */
  private touched: Set<number> | null = null;
  /**
   * Whether `covered` holds what the state marks: false from a takeover until a read of the
   * marks answers (its own, or the grace end's).
   */
  private marksKnown = true;
  /**
   * Clients that logged in without the flag while the marks were not known, and wrote no mark
   * since: unmarked when a read says the state marks them. They wrote nothing, and the state
   * kept the mark (a read refused busy, or a session ended before the grace did): a later
   * failover canceled orders they had placed without asking.
   */
  private readonly unflagged = new Set<number>();
  /** Marks to write, client * 2 + (1 on, 0 off), oldest first. */
  private readonly marks: number[] = [];
  /** The marks in the ring, by client seq: their client, for a refusal's log line. */
  private readonly marksSent = new Map<number, number>();
  /** During a grace (takeOver): the clients that logged in since it began; else null. */
  private cameBack: Set<number> | null = null;
  private grace: ReturnType<typeof setTimeout> | null = null;
  /** The longest hold a login shed since the grace's timer was set asks (ms; 0: none shed). */
  private shedHoldMs = 0;
  /** How far shed logins have held the grace under way past graceMs (ms). */
  private heldMs = 0;
  /** Clients back (cameBack) when the grace's timer was last set, and holds since with none. */
  private backAtTimer = 0;
  private idleHolds = 0;
  /** A login was shed since the grace's timer was set with the node full (loginShed). */
  private shedFull = false;
  private sweep: ReturnType<typeof setInterval> | null = null;
  /** What the chains canceled of each client's orders, for its next Welcome. */
  readonly reports = new CancelReports();
  readonly counts: CancelCounts = {
    sessions: 0,
    rounds: 0,
    orders: 0,
    dropped: 0,
    unreturned: 0,
  };

  constructor(
    private readonly sink: CommandSink,
    /** Whether the node takes commands now (a single node, or a cluster's primary). */
    private readonly accepting: () => boolean,
    private readonly log: GatewayLog,
    /**
     * The highest seq the engine holds for disconnectClientId (0: not known): rounds go above
     * it, or a new primary whose clock is behind the old one's (or a clock set back across a
     * restart) had its rounds refused as out of order, and the orders stayed.
     */
    private readonly seqFloor: () => number = () => 0,
    /** The command sessions, looked at for silence (sweepSilent). */
    private readonly sessions: () => Iterable<SweptSocket> = () => [],
    /** A client's command session now, looked at when its chain ends (unmarkGone). */
    private readonly sessionOf: SessionOf = () => undefined,
    /**
     * The grace after taking over (ms): the node's setting. It was a field the node set after
     * construction: a takeover before that line (the gateway's listen) ran on the default.
     */
    private readonly graceMs: number = cancelOnDisconnectGraceMs,
  ) {
    assert(graceMs >= 0, 'cancels: the grace is not negative');
    assert(Number.isSafeInteger(graceMs), 'cancels: the grace is whole ms');
  }

  /**
   * A session of `clientId` logged in: takes its Hello's flag (command sessions only), and
   * marks the client in the state when that changes; returns Welcome's flags.
   */
  opened(
    session: CancelFields & { helloFlags: number; readOnly: boolean },
    clientId: number,
  ): number {
    const asked = (session.helloFlags & HelloFlag.CancelOnDisconnect) !== 0;
    session.cancelOnDisconnect = asked && !session.readOnly;
    session.heardAtSweep = -1; // heard at the first sweep: its quiet starts there
    session.quietSweeps = 0;
    if (!session.readOnly && !this.stopped) {
      this.cameBack?.add(clientId);
      // Within a grace (cameBack) only: bounded by its logins.
      const unknown = !this.marksKnown && this.cameBack !== null;
      if (unknown && !session.cancelOnDisconnect) this.unflagged.add(clientId);
      if (this.covered.has(clientId) !== session.cancelOnDisconnect) {
        this.mark(clientId, session.cancelOnDisconnect);
        this.send();
      }
    }
    return session.cancelOnDisconnect ? HelloFlag.CancelOnDisconnect : 0;
  }

  /**
   * The node starts taking commands (a restart, a standby promoted): after
   * graceMs, the clients the state marks that have not logged in since lost
   * their sessions with the node that held them, and their orders go.
   */
  takeOver(reads: StateReads | null, sessionOf: SessionOf): void {
    if (this.sweep === null && !this.stopped) {
      this.sweep = setInterval(() => this.sweepSilent(), cancelOnDisconnectSweepMs);
      this.sweep.unref();
    }
    if (reads === null || this.stopped) return;
    if (this.grace !== null) clearTimeout(this.grace);
    this.cameBack = new Set();
    this.shedHoldMs = 0;
    this.heldMs = 0;
    this.backAtTimer = 0;
    this.idleHolds = 0;
    this.shedFull = false;
    this.grace = setTimeout(() => this.graceTimerEnded(reads, sessionOf), this.graceMs);
    this.grace.unref();
    // The marks the state has already: the clients coming back with the flag (all of them, in
    // the reconnect storm after a failover) write none. Logins before the answer write theirs.
    // A client marked or unmarked meanwhile keeps what its own mark said: the answer may
    // predate it (logged in with the flag and closed with 1000 before it came: taken for marked
    // from it, its next session with the flag wrote none, and a later failover missed it).
    const touched = new Set<number>();
    this.touched = touched;
    this.marksKnown = false;
    const done = (): void => {
      if (this.touched === touched) this.touched = null;
    };
    reads.query({ what: 'covered' }).then(
      (answer) => {
        for (const client of answer.body as Float64Array) {
          if (touched.has(client)) continue;
          if (this.unflagged.has(client)) this.mark(client, false);
          else this.covered.add(client);
        }
        if (this.touched === touched) this.knowMarks();
        done();
        this.send();
      },
      done, // busy: logins with the flag write their marks; the grace end settles the others
    );
  }

  /**
   * The gateway shed a login (503) and told it to come back in `retryAfterMs`: during a grace,
   * that holds the grace open (the client, turned away by this node, is not gone). `full`: shed
   * because logged-in sessions fill sessionCountMax (admission.ts), when no client can come back.
   */
  loginShed(retryAfterMs: number, full = false): void {
    assert(retryAfterMs >= 0, 'cancels: a shed login waits a time not negative');
    if (this.grace === null) return;
    // The SDK comes back within 1.5 times the wait it was told (backoff.ts), then logs in.
    this.shedHoldMs = Math.max(this.shedHoldMs, 2 * retryAfterMs + this.graceMs);
    if (full) this.shedFull = true;
  }

  /**
   * The grace's timer ran out: the grace ends, unless logins were shed while it ran (loginShed),
   * which set it again for the longest hold they asked, within cancelOnDisconnectGraceHeldMaxMs,
   * and while clients come back: after cancelOnDisconnectHoldsIdleMax timers in a row with no
   * client back, it ends. An upgrade is shed before any key is shown, so a flood of them (one
   * address, 64 sockets at a time, was enough) held the grace 120 s, a gone client's orders
   * resting all along; a storm the node works through brings clients back each hold, and a
   * client logging in again and again is one client back (cameBack is a set). A hold in which
   * the node shed logins full of logged-in sessions is not idle: none could come back (a flood
   * of upgrades fills loginsPendingMax, not that): a client a full node turned away, told its
   * orders were kept (1001), lost them one hold on, and found them gone once let in.
   */
  private graceTimerEnded(reads: StateReads, sessionOf: SessionOf): void {
    const room = cancelOnDisconnectGraceHeldMaxMs - this.graceMs - this.heldMs;
    const back = this.cameBack?.size ?? 0;
    this.idleHolds = back > this.backAtTimer || this.shedFull ? 0 : this.idleHolds + 1;
    this.backAtTimer = back;
    this.shedFull = false;
    const idle = this.idleHolds > cancelOnDisconnectHoldsIdleMax;
    const holdMs = idle ? 0 : Math.min(this.shedHoldMs, room);
    if (idle && this.shedHoldMs > 0) {
      const why = `logins shed, but no client back for ${this.idleHolds - 1} hold(s)`;
      this.log(`cancel on disconnect: the grace after taking over ends: ${why} (a flood?)`, 'warn');
    }
    this.shedHoldMs = 0;
    if (holdMs > 0) {
      this.heldMs += holdMs;
      this.grace = setTimeout(() => this.graceTimerEnded(reads, sessionOf), holdMs);
      this.grace.unref();
      return;
    }
    this.grace = null;
    this.graceEnded(reads, sessionOf, 0);
  }

  /** A socket closed with `code`: a loss of a session that asked starts its client's chain. */
  closed(session: CancelFields, clientId: number, code: number): void {
    const asked = session.cancelOnDisconnect;
    session.cancelOnDisconnect = false;
    if (!asked || this.stopped) return;
    assert(clientId !== 0, 'cancels: a session that asked has logged in');
    if (code === 1000) {
      // The client's own close: its orders stay, and so must they after a failover.
      if (this.accepting()) this.mark(clientId, false);
      return this.send();
    }
    if (!this.accepting()) {
      this.counts.dropped++;
      const why = 'this node does not take commands now';
      return this.log(`client ${clientId}: session lost; its orders not canceled: ${why}`);
    }
    this.counts.sessions++;
    this.log(
      `client ${clientId}: session lost (close ${code}); canceling the resting orders it ` +
        'placed (cancel on disconnect)',
    );
    if (!this.start(clientId)) {
      this.counts.dropped++;
      const why = `${cancelOnDisconnectPendingMax} clients' cancels are under way`;
      this.log(`cancel on disconnect: client ${clientId}: not canceled: ${why}`, 'error');
    }
    this.send();
  }

  /** Follows the rounds' answers among durable events (nothing to do while none is out). */
  deliver(records: RecordBuffer, slot: number, count: number): void {
    if (this.sent.size === 0 && this.marksSent.size === 0) return;
    const u32 = records.u32;
    for (let i = 0; i < count; i++) {
      const e = (slot + i) * EventWord.size;
      if (u32[e + EventWord.clientId] !== disconnectClientId) continue;
      if ((u32[e + EventWord.flagsTifStp] & EventFlag.Head) === 0) continue;
      const seq = readU64(u32, e + EventWord.clientSeq);
      if (this.marksSent.size > 0 && this.markAnswered(seq, u32[e + EventWord.kindStatus])) {
        continue;
      }
      const chain = this.sent.get(seq);
      // Not ours: a round of this node before a restart, or of the last primary.
      if (chain === undefined) continue;
      this.sent.delete(seq);
      this.answered(chain, u32, e);
    }
    this.send();
  }

  /**
   * Whether the commands of `client`'s session must wait (Busy): a mark of it still waits for
   * room in the ring after the marks that fit were written. Its Welcome said the session is
   * covered: a command of it sequenced before its mark (the ring drained between the login and
   * the mark's retry) was in a state that did not mark the client, and a failover between the
   * two left that order resting for a client that never came back.
   *
   * A check only: it writes nothing. It wrote the waiting marks first, a side effect of asking;
   * the caller writes them (writeWaitingMarks) before it asks, when it wants them out.
   */
  holds(client: number): boolean {
    for (let i = 0; i < this.marks.length; i++) {
      if (Math.floor(this.marks[i] / 2) === client) return true;
    }
    return false;
  }

  /** The node stops: nothing more is sent (its sessions' closes are no losses). */
  stop(): void {
    this.stopped = true;
    if (this.retry !== null) clearTimeout(this.retry);
    if (this.grace !== null) clearTimeout(this.grace);
    if (this.sweep !== null) clearInterval(this.sweep);
    this.retry = null;
    this.grace = null;
    this.sweep = null;
    this.cameBack = null;
    this.chains.clear();
    this.waiting.length = 0;
    this.sent.clear();
    this.marks.length = 0;
    this.marksSent.clear();
  }

  /**
   * Drops the sessions with the flag heard from not at all for cancelOnDisconnectSilenceMs, as
   * lost (1006, so their orders go). A connection cut without a FIN or a reset (the client's
   * network gone) was seen only at the idle timeout, 120 s, its quotes resting meanwhile. A
   * quiet session is pinged (at 1 s of quiet, then every 3 s): a live client's pong is heard.
   */
  sweepSilent(): void {
    if (this.stopped || !this.accepting()) return;
    for (const ws of this.sessions()) {
      const s = ws.getUserData();
      if (!s.cancelOnDisconnect) continue;
      if (s.heard !== s.heardAtSweep) {
        s.heardAtSweep = s.heard;
        s.quietSweeps = 0;
        continue;
      }
      const quiet = (s.quietSweeps ?? 0) + 1;
      s.quietSweeps = quiet;
      if (quiet * cancelOnDisconnectSweepMs < cancelOnDisconnectSilenceMs) {
        if (quiet % 3 === 1) ws.ping();
        continue;
      }
      const why = `nothing heard for ${cancelOnDisconnectSilenceMs} ms, pings unanswered`;
      this.log(`cancel on disconnect: a session dropped: ${why}`, 'warn');
      ws.close(); // the close handler: a loss (1006), its client's chain
    }
  }

  /** Whether a grace after taking over is under way (tests). */
  graceRunning(): boolean {
    return this.grace !== null || this.cameBack !== null;
  }

  /** Notes that `client` is marked (on) or not in the state, and queues the command saying so. */
  private mark(client: number, on: boolean): void {
    this.touched?.add(client);
    this.unflagged.delete(client);
    if (on) this.covered.add(client);
    else this.covered.delete(client);
    this.marks.push(client * 2 + (on ? 1 : 0));
  }

  /** `covered` is what the state marks, with this gateway's marks since. */
  private knowMarks(): void {
    this.marksKnown = true;
    this.unflagged.clear();
  }

  /** A mark's head event (true), or not one of this node's marks (false). */
  private markAnswered(seq: number, kindStatus: number): boolean {
    const client = this.marksSent.get(seq);
    if (client === undefined) return false;
    this.marksSent.delete(seq);
    if ((kindStatus & 0xff) !== EventKind.CancelOnDisconnectSet) {
      const status = statusName(kindStatus >>> 16);
      this.log(`cancel on disconnect: client ${client}: not marked (${status})`, 'warn');
    }
    return true;
  }

  /**
   * The grace after taking over ended: asks the state which clients are marked, and starts a
   * chain for each that has not logged in since. A busy read model is asked again (a few times).
   */
  private graceEnded(reads: StateReads, sessionOf: SessionOf, tries: number): void {
    reads.query({ what: 'covered' }).then(
      (answer) => this.cancelUnreturned(answer.body as Float64Array, sessionOf),
      () => {
        if (this.stopped) return;
        if (tries >= graceQueryTriesMax) {
          this.cameBack = null;
          this.unflagged.clear();
          const why = 'the read model did not answer';
          return this.log(`cancel on disconnect: after taking over: ${why}`, 'error');
        }
        const again = (): void => this.graceEnded(reads, sessionOf, tries + 1);
        setTimeout(again, clientSeqsRetryMs).unref();
      },
    );
  }

  /** Chains for the marked `clients` that did not come back; the others keep their orders. */
  private cancelUnreturned(clients: Float64Array, sessionOf: SessionOf): void {
    const cameBack = this.cameBack;
    this.cameBack = null;
    if (this.stopped || cameBack === null) return;
    if (!this.accepting()) {
      const why = 'this node no longer takes commands';
      return this.log(`cancel on disconnect: after taking over: nothing canceled: ${why}`);
    }
    const lost: number[] = [];
    for (const client of clients) {
      if (this.unflagged.has(client)) {
        this.mark(client, false); // back without the flag (and still here, or gone)
        continue;
      }
      const session = sessionOf(client);
      if (session !== undefined) {
        // Back with the flag: its login marked it. Back without, before the marks were read
        // (takeOver): the state's mark goes now.
        if (!session.cancelOnDisconnect && this.covered.has(client)) this.mark(client, false);
        continue;
      }
      // Back in time, and gone again: its session's close did what was due, and its mark is as
      // its own commands left it (this answer may predate them: a 1000 close's unmark, taken
      // for marked again, kept its next session with the flag from marking it).
      if (cameBack.has(client)) continue;
      this.covered.add(client); // a loss keeps the mark, as the session's own would
      lost.push(client);
    }
    const back = clients.length - lost.length;
    // None marked (most starts): nothing to say. Every start of a node logged '0 clients marked'.
    if (clients.length > 0) {
      this.log(
        `cancel on disconnect: grace after taking over ended: ${clients.length} clients marked, ` +
          `${back} back in time, ${lost.length} not`,
      );
    }
    this.knowMarks(); // the clients back wrote theirs, the others are as the state says
    if (lost.length > 0) this.cancelLost(lost);
    this.send();
  }

  /** Starts the chains of the marked clients that did not log in within the grace. */
  private cancelLost(clients: readonly number[]): void {
    const held = this.heldMs > 0 ? ` (${this.heldMs} ms of it held by shed logins)` : '';
    const why = `no session within ${this.graceMs + this.heldMs} ms of taking over${held}`;
    this.log(
      `cancel on disconnect: clients ${clientList(clients)}: ${why}; canceling the resting ` +
        'orders they placed',
    );
    for (const client of clients) {
      this.counts.sessions++;
      this.counts.unreturned++;
      if (this.start(client)) continue;
      this.counts.dropped++;
      const full = `${cancelOnDisconnectPendingMax} clients' cancels are under way`;
      this.log(`cancel on disconnect: client ${client}: not canceled: ${full}`, 'error');
    }
  }

  /** Chains under way (tests). */
  pendingCount(): number {
    return this.chains.size;
  }

  /** Starts a chain for `client` (or marks the one under way); false when there is no room. */
  private start(client: number): boolean {
    const chain = this.chains.get(client);
    if (chain !== undefined) {
      // A chain whose first round has not left covers this loss too; a later one may not.
      if (chain.rounds > 0) chain.again = true;
      return true;
    }
    if (this.chains.size >= cancelOnDisconnectPendingMax) return false;
    const fresh = { client, target: 0, rounds: 0, bound: 0, again: false };
    this.chains.set(client, fresh);
    this.waiting.push(fresh);
    this.reports.begin(client);
    return true;
  }

  /** A round's head event: count it, then the next round, the chain's end, or a new chain. */
  private answered(chain: Chain, u32: Uint32Array, e: number): void {
    const kindStatus = u32[e + EventWord.kindStatus];
    if ((kindStatus & 0xff) !== EventKind.AllCanceled) {
      const status = statusName(kindStatus >>> 16);
      this.log(`cancel on disconnect: client ${chain.client}: refused (${status})`, 'warn');
      return this.end(chain);
    }
    this.counts.rounds++;
    this.counts.orders += readU64(u32, e + EventWord.quantity);
    const sequence = readU64(u32, e + EventWord.sequence);
    this.reports.round(chain.client, readU64(u32, e + EventWord.quantity), sequence);
    if (chain.bound === 0) chain.bound = sequence;
    const next = readU64(u32, e + EventWord.otherId);
    // Orders from the first round's sequence on were placed after the loss was seen: they stay.
    if (next === 0 || next > chain.bound) return this.end(chain, true);
    // No round cap: every round but the last cancels a full round's orders (every instrument's,
    // placed before the bound, which no new order is), so rounds are bounded by the order
    // table. A cap of 1,024 rounds left the orders of a client holding more than a million
    // (--orders-max 2M) resting after a loss. A round that canceled none would not progress.
    if (readU64(u32, e + EventWord.quantity) === 0) {
      const why = `a round canceled none, orders remain from ${next}`;
      this.log(`cancel on disconnect: client ${chain.client}: stopped (${why})`, 'warn');
      return this.end(chain);
    }
    chain.target = next;
    this.waiting.push(chain);
  }

  /** A chain ends: `complete` when it canceled all the client's orders from before its loss. */
  private end(chain: Chain, complete = false): void {
    this.chains.delete(chain.client);
    if (!chain.again) {
      this.reports.ended(chain.client);
      if (complete) this.unmarkGone(chain.client);
      return;
    }
    const room = this.start(chain.client); // in the place its own chain just left
    assert(room, 'cancels: an ending chain leaves room for its client');
  }

  /**
   * The chain of `client` left none of its orders from before the loss: its mark goes, unless
   * a session of it with the flag holds it again (its login wrote none, finding it marked).
   * A loss left the mark for good: a client that never came back was taken for lost again at
   * every later failover and restart, a chain each time (a round journaled, counted unreturned),
   * and the orders its id placed over HTTP since, under no session, were canceled then.
   */
  private unmarkGone(client: number): void {
    if (!this.covered.has(client)) return; // unmarked since: a 1000 close, a login without it
    if (this.sessionOf(client)?.cancelOnDisconnect === true) return;
    this.mark(client, false); // back later with the flag, its login marks it again
  }

  /**
   * Writes the waiting marks (and the rounds behind them) that fit the ring now, as the retry
   * would shortly: a session whose mark then goes need not wait for it (holds).
   */
  writeWaitingMarks(): void {
    if (this.marks.length > 0) this.send();
  }

  /** Writes the waiting marks and rounds that fit the ring; the rest are tried again shortly. */
  private send(): void {
    if ((this.waiting.length === 0 && this.marks.length === 0) || this.stopped) return;
    if (!this.accepting()) return this.dropWaiting();
    let m = 0;
    while (m < this.marks.length && this.sink.hasRoom(1)) this.writeMark(this.marks[m++]);
    if (m > 0) this.marks.splice(0, m);
    let n = 0;
    while (n < this.waiting.length && this.sink.hasRoom(1)) this.write(this.waiting[n++]);
    if (n > 0) this.waiting.splice(0, n);
    if (m + n > 0) this.sink.publish();
    // A full ring is no reason to drop a cancel: it empties as the engine goes on.
    const left = this.waiting.length + this.marks.length;
    if (left > 0 && this.retry === null) {
      this.retry = setTimeout(() => {
        this.retry = null;
        this.send();
      }, cancelOnDisconnectRetryMs);
      this.retry.unref();
    }
  }

  private write(chain: Chain): void {
    // Above the engine's last for this client (it refuses a seq at or below it as a repeat or
    // out of order), and rising with the wall clock while that is not known.
    this.clientSeq = nextSystemSeq(this.clientSeq, this.seqFloor());
    putCommand(this.sink, {
      kind: CommandKind.CancelClientOrders,
      clientId: disconnectClientId,
      clientSeq: this.clientSeq,
      ref: chain.client,
      target: chain.target,
      // After the first round, only orders placed before it: a round goes on along the list,
      // into the re-quotes of a client that came back (cancel-all.ts).
      aux: chain.bound,
    });
    chain.rounds++;
    this.sent.set(this.clientSeq, chain);
  }

  private writeMark(mark: number): void {
    const client = Math.floor(mark / 2);
    this.clientSeq = nextSystemSeq(this.clientSeq, this.seqFloor());
    putCommand(this.sink, {
      kind: CommandKind.SetCancelOnDisconnect,
      clientId: disconnectClientId,
      clientSeq: this.clientSeq,
      ref: client,
      aux: mark % 2,
    });
    this.marksSent.set(this.clientSeq, client);
  }

  /** The node stopped taking commands (deposed, handing over): its cancels are not sent. */
  private dropWaiting(): void {
    // The next primary reads the marks the state has; those not written are its to judge.
    this.marks.length = 0;
    if (this.waiting.length === 0) return;
    const clients = this.waiting.map((c) => c.client);
    for (const chain of this.waiting) {
      this.chains.delete(chain.client);
      this.reports.ended(chain.client);
    }
    this.waiting.length = 0;
    this.counts.dropped += clients.length;
    const why = 'this node no longer takes commands';
    const list = clientList(clients);
    this.log(`cancel on disconnect: clients ${list}: orders not canceled: ${why}`, 'warn');
  }
}

/** Times the grace's end asks a busy read model which clients are marked. */
const graceQueryTriesMax = 100;

/** Clients a log line names before "and N more" (a stopping node may leave thousands). */
const clientsLoggedMax = 16;

/** "1, 2, 3", or for a long list its first clientsLoggedMax and how many more. */
function clientList(clients: readonly number[]): string {
  const shown = clients.slice(0, clientsLoggedMax).join(', ');
  const more = clients.length - clientsLoggedMax;
  return more > 0 ? `${shown} and ${more} more` : shown;
}
