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
 */
import { cancelOnDisconnectPendingMax, cancelOnDisconnectRetryMs } from '../constants.js';
import { assert } from '../stdx/assert.js';
import { readU64, type RecordBuffer } from '../stdx/records.js';
import { CommandKind } from '../protocol/command-layout.js';
import { disconnectClientId, nextSystemSeq, putCommand } from '../protocol/command-writer.js';
import { EventFlag, EventKind, EventWord } from '../protocol/event-layout.js';
import { HelloFlag } from '../protocol/frames.js';
import { statusName } from '../protocol/status.js';
import type { CommandSink } from './gateway.js';

/** What a session keeps for cancel on disconnect. */
export interface CancelFields {
  /** It asked, and its orders go at a loss (a command session only). */
  cancelOnDisconnect: boolean;
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
}

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

  /** A session logged in: takes its Hello's flag (command sessions only); Welcome's flags. */
  opened(session: CancelFields & { helloFlags: number; readOnly: boolean }): number {
    const asked = (session.helloFlags & HelloFlag.CancelOnDisconnect) !== 0;
    session.cancelOnDisconnect = asked && !session.readOnly;
    return session.cancelOnDisconnect ? HelloFlag.CancelOnDisconnect : 0;
  }

  /** A socket closed with `code`: a loss of a session that asked starts its client's chain. */
  closed(session: CancelFields, clientId: number, code: number): void {
    const asked = session.cancelOnDisconnect;
    session.cancelOnDisconnect = false;
    if (!asked || code === 1000 || this.stopped) return;
    assert(clientId !== 0, 'cancels: a session that asked has logged in');
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
    if (chain.bound === 0) chain.bound = readU64(u32, e + EventWord.sequence);
    const next = readU64(u32, e + EventWord.otherId);
    // Orders from the first round's sequence on were placed after the loss was seen: they stay.
    if (next === 0 || next > chain.bound) return this.end(chain);
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

  private end(chain: Chain): void {
    this.chains.delete(chain.client);
    if (!chain.again) return;
    const room = this.start(chain.client); // in the place its own chain just left
    assert(room, 'cancels: an ending chain leaves room for its client');
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

  /** The node stopped taking commands (deposed, handing over): its cancels are not sent. */
  private dropWaiting(): void {
    const clients = this.waiting.map((c) => c.client);
    for (const chain of this.waiting) this.chains.delete(chain.client);
    this.waiting.length = 0;
    this.counts.dropped += clients.length;
    const why = 'this node no longer takes commands';
    const list = clientList(clients);
    this.log(`cancel on disconnect: clients ${list}: orders not canceled: ${why}`, 'warn');
  }
}

/** Clients a log line names before "and N more" (a stopping node may leave thousands). */
const clientsLoggedMax = 16;

/** "1, 2, 3", or for a long list its first clientsLoggedMax and how many more. */
function clientList(clients: readonly number[]): string {
  const shown = clients.slice(0, clientsLoggedMax).join(', ');
  const more = clients.length - clientsLoggedMax;
  return more > 0 ? `${shown} and ${more} more` : shown;
}
