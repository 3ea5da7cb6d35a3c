/**
 * Cancel on disconnect (docs/PROTOCOL.md, "Cancel on disconnect"): a session that asked for it
 * in Hello (HelloFlag.CancelOnDisconnect) has the resting orders of the accounts it covers
 * canceled when its connection is lost.
 *
 *   Welcome        ──► covers every account its key grants (an account key), from the start
 *   Commands frame ──► an admin key's session (or any, with no keys): note the accounts of
 *                      PlaceOrder and AmendOrder (at most cancelOnDisconnectAccountsMax)
 *   session lost   ──► a chain per account: CancelAll(account, ref 0, target 0) ──► input ring
 *   durable head   ──► AllCanceled, other_id ≠ 0 and before the chain's first round:
 *                      CancelAll(account, ref 0, target other_id, aux first round's sequence)
 *                      ──► input ring ... until 0
 *
 * Why the key's accounts from Welcome: orders outlive the session that placed them when its
 * close was no loss (the node's 1001 at a restart, a failover to another member). A session
 * that covered only what it named itself left them uncovered until it placed or amended an
 * order for their account again, so that a drop in between canceled nothing. The engine cannot
 * say which client placed a resting order (an order holds its account, not its client), so the
 * gateway cannot look up "this client's orders" at login; the key's grant it holds already, the
 * same on every member (keys.json), with nothing to ask the engine. An admin key grants every
 * account: its sessions still cover what they name.
 *
 * The rounds are commands like any client's, under the node's own disconnectClientId: sequenced,
 * journaled, replicated and applied once per client seq. Which accounts get them is the
 * gateway's choice alone; nothing of it enters the engine but the commands. A chain stops at the
 * first order placed after its first round (order ids are the sequences that placed them):
 * those are the re-quotes of a client that came back, and the loss was seen before them. The
 * later rounds carry that bound (aux), so that the engine stops there too instead of going on
 * into them.
 *
 * What counts as a loss: any close of a command session but the client's own with code 1000
 * (the SDK's close()), while the node runs and takes commands. The node stopping (Gateway.close)
 * cancels nothing, nor does a member that is not primary: its sessions' orders stay.
 */
import {
  cancelOnDisconnectAccountsMax,
  cancelOnDisconnectPendingMax,
  cancelOnDisconnectRetryMs,
  commandSizeBytes,
} from '../constants.js';
import { assert } from '../stdx/assert.js';
import { readU64, readU64At, type RecordBuffer } from '../stdx/records.js';
import { CommandKind, CommandOffset } from '../protocol/command-layout.js';
import { disconnectClientId, nextSystemSeq, putCommand } from '../protocol/command-writer.js';
import { EventFlag, EventKind, EventWord } from '../protocol/event-layout.js';
import { HelloFlag, type BatchSpan } from '../protocol/frames.js';
import { statusName } from '../protocol/status.js';
import type { CommandSink } from './gateway.js';

/** What a session keeps for cancel on disconnect. */
export interface CancelFields {
  /** The accounts it placed or amended orders for; null: it did not ask to cancel. */
  cancelAccounts: Set<number> | null;
  /** The accounts its key grants, covered from Welcome; null: an admin key, or no flag. */
  cancelGranted: ReadonlySet<number> | null;
}

/** What the gateway granted a session (api-keys.ts Grant): its accounts, or every one. */
export interface CoverGrant {
  admin: boolean;
  accounts: ReadonlySet<number>;
}

/** Accounts a log line names before "and N more" (a key may grant thousands). */
const accountsLoggedMax = 16;

/** Where the gateway writes lines for the operator (the node's log). */
export type GatewayLog = (line: string, level?: 'info' | 'warn' | 'error') => void;

/** What /metrics shows of cancels on disconnect (each only grows). */
export interface CancelCounts {
  /** Lost sessions whose accounts got cancels. */
  sessions: number;
  /** CancelAll rounds answered with AllCanceled. */
  rounds: number;
  /** Orders those rounds canceled. */
  orders: number;
  /** Accounts not canceled: past cancelOnDisconnectPendingMax, or the node stopped taking. */
  dropped: number;
}

/** One account's cancels: its rounds, one in the ring at a time. */
interface Chain {
  account: number;
  /** The order the next round goes on from (0: the oldest). */
  target: number;
  /** Rounds written so far. */
  rounds: number;
  /** The first round's sequence (0 until answered): orders from there on came after the loss. */
  bound: number;
  /** Another loss named the account after the first round left: a new chain once this ends. */
  again: boolean;
}

export class CancelOnDisconnect {
  /** Chains under way, one per account (at most cancelOnDisconnectPendingMax). */
  private readonly chains = new Map<number, Chain>();
  /** Chains whose next round waits for room in the ring, oldest first. */
  private readonly waiting: Chain[] = [];
  /** Chains whose round is in the ring, by that round's client seq. */
  private readonly sent = new Map<number, Chain>();
  /** The last client seq written under disconnectClientId. */
  private clientSeq = 0;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** The accounts the frame being noted added (at most cancelOnDisconnectAccountsMax). */
  private readonly added: number[] = [];
  readonly counts: CancelCounts = { sessions: 0, rounds: 0, orders: 0, dropped: 0 };

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
  ) {}

  /**
   * A session logged in with `grant`: takes its Hello's flag (command sessions only), covering
   * from now on every account an account key grants; returns Welcome's flags.
   */
  opened(
    session: CancelFields & { helloFlags: number; readOnly: boolean; grant: CoverGrant | null },
  ): number {
    const asked = (session.helloFlags & HelloFlag.CancelOnDisconnect) !== 0;
    if (!asked || session.readOnly) return 0;
    session.cancelAccounts = new Set();
    const grant = session.grant;
    // Shared, not copied: a session's grant never changes (a key that grants less closes it).
    session.cancelGranted = grant === null || grant.admin ? null : grant.accounts;
    return HelloFlag.CancelOnDisconnect;
  }

  /**
   * Notes the accounts of a Commands frame's PlaceOrder and AmendOrder commands. False, and
   * nothing of the frame noted, when they would pass cancelOnDisconnectAccountsMax: the caller
   * refuses the frame (noted, its accounts would fill the set for a frame never sent).
   */
  note(session: CancelFields, view: DataView, span: BatchSpan): boolean {
    const accounts = session.cancelAccounts;
    // An account key's session covers its accounts already, and may name no other (refusal()
    // ran first): nothing to note.
    if (accounts === null || session.cancelGranted !== null) return true;
    const added = this.added;
    added.length = 0;
    for (let i = 0; i < span.count; i++) {
      const at = span.start + i * commandSizeBytes;
      const kind = view.getUint8(at + CommandOffset.kind);
      if (kind !== CommandKind.PlaceOrder && kind !== CommandKind.AmendOrder) continue;
      const account = readU64At(view, at + CommandOffset.account);
      // No order rests on account 0 or on an id past 2^53 (the engine refuses them), and
      // writeCommand takes safe integers only.
      if (accounts.has(account) || !Number.isSafeInteger(account) || account < 1) continue;
      if (accounts.size >= cancelOnDisconnectAccountsMax) {
        for (const a of added) accounts.delete(a);
        return false;
      }
      accounts.add(account);
      added.push(account);
    }
    assert(accounts.size <= cancelOnDisconnectAccountsMax, 'cancels: accounts noted are bounded');
    return true;
  }

  /** A socket closed with `code`: a loss of a session that asked starts its chains. */
  closed(session: CancelFields, clientId: number, code: number): void {
    const accounts = covered(session);
    session.cancelAccounts = null;
    session.cancelGranted = null;
    if (accounts.length === 0 || code === 1000 || this.stopped) return;
    const list = accountList(accounts);
    if (!this.accepting()) {
      this.counts.dropped += accounts.length;
      const why = 'this node does not take commands now';
      return this.log(`client ${clientId}: session lost; accounts ${list} not canceled: ${why}`);
    }
    this.counts.sessions++;
    this.log(
      `client ${clientId}: session lost (close ${code}); canceling the resting orders of ` +
        `accounts ${list} (cancel on disconnect)`,
    );
    const left: number[] = [];
    for (const account of accounts) if (!this.start(account)) left.push(account);
    if (left.length > 0) this.tooMany(left);
    this.send();
  }

  /** Follows the rounds' answers among durable events (nothing to do while none is out). */
  deliver(records: RecordBuffer, slot: number, count: number): void {
    if (this.sent.size === 0) return;
    const u32 = records.u32;
    for (let i = 0; i < count; i++) {
      const e = (slot + i) * EventWord.size;
      if (u32[e + EventWord.clientId] !== disconnectClientId) continue;
      if ((u32[e + EventWord.flagsTifStp] & EventFlag.Head) === 0) continue;
      const seq = readU64(u32, e + EventWord.clientSeq);
      const chain = this.sent.get(seq);
      // Not ours: a round of this node before a restart, or of the last primary.
      if (chain === undefined) continue;
      this.sent.delete(seq);
      this.answered(chain, u32, e);
    }
    this.send();
  }

  /** The node stops: nothing more is sent (its sessions' closes are no losses). */
  stop(): void {
    this.stopped = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.chains.clear();
    this.waiting.length = 0;
    this.sent.clear();
  }

  /** Chains under way (tests). */
  pendingCount(): number {
    return this.chains.size;
  }

  /** Starts a chain for `account` (or marks the one under way); false when there is no room. */
  private start(account: number): boolean {
    const chain = this.chains.get(account);
    if (chain !== undefined) {
      // A chain whose first round has not left covers this loss too; a later one may not.
      if (chain.rounds > 0) chain.again = true;
      return true;
    }
    if (this.chains.size >= cancelOnDisconnectPendingMax) return false;
    const fresh = { account, target: 0, rounds: 0, bound: 0, again: false };
    this.chains.set(account, fresh);
    this.waiting.push(fresh);
    return true;
  }

  /**
   * Accounts left uncanceled for want of room: counted, and said in one line. A line each, a
   * key granting 100,000 accounts wrote 34,464 error lines at one loss.
   */
  private tooMany(accounts: readonly number[]): void {
    this.counts.dropped += accounts.length;
    const why = `${cancelOnDisconnectPendingMax} accounts' cancels are under way`;
    const list = accountList(accounts);
    this.log(`cancel on disconnect: accounts ${list} not canceled: ${why}`, 'error');
  }

  /** A round's head event: count it, then the next round, the chain's end, or a new chain. */
  private answered(chain: Chain, u32: Uint32Array, e: number): void {
    const kindStatus = u32[e + EventWord.kindStatus];
    if ((kindStatus & 0xff) !== EventKind.AllCanceled) {
      const status = statusName(kindStatus >>> 16);
      this.log(`cancel on disconnect: account ${chain.account}: refused (${status})`, 'warn');
      return this.end(chain);
    }
    this.counts.rounds++;
    this.counts.orders += readU64(u32, e + EventWord.quantity);
    if (chain.bound === 0) chain.bound = readU64(u32, e + EventWord.sequence);
    const next = readU64(u32, e + EventWord.otherId);
    // Orders from the first round's sequence on were placed after the loss was seen: they stay.
    if (next === 0 || next > chain.bound) return this.end(chain);
    // No round cap: every round but the last cancels a full round's orders (every instrument's,
    // placed before the bound, which no new order is), so rounds are bounded by the order
    // table. A cap of 1,024 rounds left the orders of an account holding more than a million
    // (--orders-max 2M) resting after a loss. A round that canceled none would not progress.
    if (readU64(u32, e + EventWord.quantity) === 0) {
      const why = `a round canceled none, orders remain from ${next}`;
      this.log(`cancel on disconnect: account ${chain.account}: stopped (${why})`, 'warn');
      return this.end(chain);
    }
    chain.target = next;
    this.waiting.push(chain);
  }

  private end(chain: Chain): void {
    this.chains.delete(chain.account);
    if (!chain.again) return;
    const room = this.start(chain.account); // in the place its own chain just left
    assert(room, 'cancels: an ending chain leaves room for its account');
  }

  /** Writes the waiting rounds that fit the ring; the rest are tried again shortly. */
  private send(): void {
    if (this.waiting.length === 0 || this.stopped) return;
    if (!this.accepting()) return this.dropWaiting();
    let n = 0;
    while (n < this.waiting.length && this.sink.hasRoom(1)) this.write(this.waiting[n++]);
    if (n > 0) {
      this.waiting.splice(0, n);
      this.sink.publish();
    }
    // A full ring is no reason to drop a cancel: it empties as the engine goes on.
    if (this.waiting.length > 0 && this.retry === null) {
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
      kind: CommandKind.CancelAll,
      clientId: disconnectClientId,
      clientSeq: this.clientSeq,
      account: chain.account,
      target: chain.target,
      ref: 0, // every instrument
      // After the first round, only orders placed before it: a round goes on along the list,
      // into the re-quotes of a client that came back (cancel-all.ts).
      aux: chain.bound,
    });
    chain.rounds++;
    this.sent.set(this.clientSeq, chain);
  }

  /** The node stopped taking commands (deposed, handing over): its cancels are not sent. */
  private dropWaiting(): void {
    const accounts = this.waiting.map((c) => c.account);
    for (const chain of this.waiting) this.chains.delete(chain.account);
    this.waiting.length = 0;
    this.counts.dropped += accounts.length;
    const why = 'this node no longer takes commands';
    const list = accountList(accounts);
    this.log(`cancel on disconnect: accounts ${list} not canceled: ${why}`, 'warn');
  }
}

/** The accounts a session covers: its key's, or those it named (none without the flag). */
function covered(session: CancelFields): number[] {
  const noted = session.cancelAccounts;
  if (noted === null) return [];
  const granted = session.cancelGranted;
  if (granted === null) return [...noted];
  assert(noted.size === 0, 'cancels: an account key session notes nothing');
  return [...granted];
}

/** "1, 2, 3", or for a long list its first accountsLoggedMax and how many more. */
function accountList(accounts: readonly number[]): string {
  const shown = accounts.slice(0, accountsLoggedMax).join(', ');
  const more = accounts.length - accountsLoggedMax;
  return more > 0 ? `${shown} and ${more} more` : shown;
}
