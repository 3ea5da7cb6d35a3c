/**
 * Deciding CancelAll: cancel the resting orders of one account, in one instrument or in all,
 * each as CancelOrder would (an OrderCanceled that releases its hold). The account's orders are
 * found through its list in Orders (oldest first), not by a pass over the order table.
 * CancelClientOrders does the same for the orders one client id placed (`ref`), whatever their
 * account or instrument, along the client's list: a lost session's orders can go while another
 * client's on a shared account stay.
 *
 *   AllCanceled (head: count, where to go on)   OrderCanceled   OrderCanceled   ...
 *
 * One command cancels at most cancelAllPerCommandMax orders and looks at most
 * cancelAllLooksPerCancel times that many (another instrument's are passed over): the head names
 * the first order not looked at, and the command sent again with it as `target` goes on from
 * there. Orders younger than it are after it in the list, and those before it were looked at and
 * passed over, so a client that repeats until `other_id` is 0 misses none. A `target` that no
 * longer rests, is another account's or is at or past the bound (below) starts again from the
 * oldest: never wrong, only slower.
 *
 * `aux`, when not 0, is a bound: only orders placed before that sequence (ids below it) are
 * canceled, and the command stops at the first order at or past it (`other_id` 0). Cancel on
 * disconnect sends its later rounds so, with its first round's sequence: a round goes on along
 * the list into whatever the account placed meanwhile, and a client that came back and quoted
 * again had its new quotes canceled by the second round.
 */
import {
  cancelAllLooksPerCancel,
  cancelAllPerCommandMax,
  type EngineConfig,
} from '../../constants.js';
import { assert as assertImport } from '../../stdx/assert.js';
import { Status } from '../../protocol/status.js';
import { CommandWord } from '../../protocol/command-layout.js';
import { EventKind, EventWord } from '../../protocol/event-layout.js';
import { idStatus as idStatusImport } from '../../protocol/command-fields.js';
import { readU64 as readU64Import } from '../../stdx/records.js';
import type { Accounts } from '../ledger/accounts.js';
import type { Clients } from '../idempotency.js';
import type { CommandCursor } from '../cursor.js';
import type { Emitter } from '../emitter.js';
import type { Instruments } from './instruments.js';
import type { Orders } from './orders.js';
import type { TakerEmitter } from './taker-emit.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const idStatus: typeof idStatusImport = idStatusImport;
const readU64: typeof readU64Import = readU64Import;

export class CancelAllDecider {
  private readonly cancelsMax: number;
  private readonly looksMax: number;
  private readonly accounts: Accounts;
  private readonly clients: Clients;
  private readonly instruments: Instruments;
  private readonly orders: Orders;
  private readonly cursor: CommandCursor;
  private readonly emitter: Emitter;
  private readonly taker: TakerEmitter;
  /** Orders the last `cancelFrom` or `cancelClientFrom` canceled. */
  private canceled = 0;
  /** The command's `target` is an order id (not 0), as `checkBounds` found. */
  private hasTarget = false;
  /** Only orders with ids below this (the command's `aux`; +Infinity: 0, no bound). */
  private before = Number.POSITIVE_INFINITY;

  constructor(
    config: EngineConfig,
    accounts: Accounts,
    clients: Clients,
    instruments: Instruments,
    orders: Orders,
    cursor: CommandCursor,
    emitter: Emitter,
    taker: TakerEmitter,
  ) {
    this.cancelsMax = cancelAllPerCommandMax(config);
    this.looksMax = this.cancelsMax * cancelAllLooksPerCancel;
    this.accounts = accounts;
    this.clients = clients;
    this.instruments = instruments;
    this.orders = orders;
    this.cursor = cursor;
    this.emitter = emitter;
    this.taker = taker;
  }

  /** Checks the command, then emits (and applies) the head and one cancel per order. */
  decide(): Status {
    const c = this.cursor;
    let status = idStatus(c.u32, c.w + CommandWord.account);
    if (status !== Status.Ok) return status;
    const accountId = readU64(c.u32, c.w + CommandWord.account);
    const account = this.accounts.slotOf(accountId);
    if (account === -1) return Status.LedgerAccountUnknown;
    const instrument = c.word(CommandWord.ref);
    if (instrument !== 0 && !this.instruments.has(instrument)) {
      return Status.MatchingInstrumentUnknown;
    }
    status = this.checkBounds();
    if (status !== Status.Ok) return status;
    const before = this.before;
    const em = this.emitter;
    const head = em.begin(EventKind.AllCanceled, Status.Ok, 0, instrument);
    em.set(head, EventWord.account, accountId);
    const start = this.hasTarget
      ? this.resumeAt(account, before)
      : this.orders.firstOfAccount(account);
    const stop = this.cancelFrom(start, instrument, before);
    em.set(head, EventWord.quantity, this.canceled);
    em.set(head, EventWord.otherId, stop === -1 ? 0 : this.orders.id(stop));
    return Status.Ok;
  }

  /**
   * Decides CancelClientOrders: the orders client `ref` placed, on every account and
   * instrument, oldest first; `target` and `aux` as CancelAll's. A client the table does not
   * hold has placed none: Ok, nothing canceled.
   */
  decideClient(): Status {
    const c = this.cursor;
    const clientId = c.word(CommandWord.ref);
    if (clientId === 0) return Status.CommandIdInvalid;
    const status = this.checkBounds();
    if (status !== Status.Ok) return status;
    const client = this.clients.slotOf(clientId);
    const em = this.emitter;
    const head = em.begin(EventKind.AllCanceled, Status.Ok, 0, clientId);
    let start = -1;
    if (client !== -1) {
      start = this.hasTarget
        ? this.resumeInClient(client, this.before)
        : this.orders.firstOfClient(client);
    }
    const stop = this.cancelClientFrom(start, this.before);
    em.set(head, EventWord.quantity, this.canceled);
    em.set(head, EventWord.otherId, stop === -1 ? 0 : this.orders.id(stop));
    return Status.Ok;
  }

  /** Checks `target` and `aux` (ids when not 0), and notes them in `hasTarget` and `before`. */
  private checkBounds(): Status {
    const c = this.cursor;
    this.hasTarget = c.word(CommandWord.target) !== 0 || c.word(CommandWord.target + 1) !== 0;
    if (this.hasTarget) {
      const status = idStatus(c.u32, c.w + CommandWord.target);
      if (status !== Status.Ok) return status;
    }
    const bounded = c.word(CommandWord.aux) !== 0 || c.word(CommandWord.aux + 1) !== 0;
    if (bounded) {
      const status = idStatus(c.u32, c.w + CommandWord.aux);
      if (status !== Status.Ok) return status;
    }
    this.before = bounded ? readU64(c.u32, c.w + CommandWord.aux) : Number.POSITIVE_INFINITY;
    return Status.Ok;
  }

  /**
   * The command's target when it is one of `account`'s orders placed before `before`, else its
   * oldest order. (A target at or past the bound stopped the command at once, `other_id` 0, with
   * orders before the bound left resting: a client repeating until 0 missed them.)
   */
  private resumeAt(account: number, before: number): number {
    const c = this.cursor;
    const o = this.orders.slotOf(readU64(c.u32, c.w + CommandWord.target));
    if (o !== -1 && this.orders.account(o) === account && this.orders.id(o) < before) return o;
    return this.orders.firstOfAccount(account);
  }

  /** The same as `resumeAt`, along client slot `client`'s list. */
  private resumeInClient(client: number, before: number): number {
    const c = this.cursor;
    const o = this.orders.slotOf(readU64(c.u32, c.w + CommandWord.target));
    if (o !== -1 && this.orders.client(o) === client && this.orders.id(o) < before) return o;
    return this.orders.firstOfClient(client);
  }

  /**
   * Cancels orders of `instrument` (0: any) placed before sequence `before` along the account
   * list from order `o`, within the bounds; returns the first order not looked at (-1: the
   * list's end, or an order at or past `before`: the list ascends by id). Each cancel takes the
   * order out of the list, so its successor is read first.
   */
  private cancelFrom(o: number, instrument: number, before: number): number {
    const orders = this.orders;
    let canceled = 0;
    let at = o;
    for (let looks = 0; at !== -1 && canceled < this.cancelsMax && looks < this.looksMax; looks++) {
      if (orders.id(at) >= before) break;
      const next = orders.nextOfAccount(at);
      if (instrument === 0 || orders.instrument(at) === instrument) {
        this.taker.emitCanceled(at);
        canceled++;
      }
      at = next;
    }
    if (at !== -1 && orders.id(at) >= before) at = -1; // none left before the bound
    assert(canceled <= this.cancelsMax, 'cancel all: within its bound');
    assert(at === -1 || orders.id(at) > 0, 'cancel all: stops at a resting order');
    this.canceled = canceled;
    return at;
  }

  /**
   * Cancels orders placed before sequence `before` along a client's list from order `o`, at
   * most cancelsMax; returns the first order not canceled (-1: none left before the bound).
   * Every order looked at is canceled (no instrument to pass over), so the cancels bound the
   * looks.
   */
  private cancelClientFrom(o: number, before: number): number {
    const orders = this.orders;
    let canceled = 0;
    let at = o;
    while (at !== -1 && canceled < this.cancelsMax && orders.id(at) < before) {
      const next = orders.nextOfClient(at);
      this.taker.emitCanceled(at);
      canceled++;
      at = next;
    }
    if (at !== -1 && orders.id(at) >= before) at = -1; // none left before the bound
    assert(canceled <= this.cancelsMax, 'cancel client: within its bound');
    assert(at === -1 || orders.id(at) > 0, 'cancel client: stops at a resting order');
    this.canceled = canceled;
    return at;
  }
}
