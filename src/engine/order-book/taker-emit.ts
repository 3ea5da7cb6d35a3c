/**
 * Emitting (and applying) the events of an order that goes through matching, from the ticket
 * and the match plan. Events in order (apply relies on it):
 *
 *   OrderAccepted | OrderAmended   holds `amount` (what the fills cost plus the resting part's
 *                                  hold) and rests `aux`; an amendment first releases the old hold
 *   Trade | OrderCanceled(self-trade) ...   one per plan entry
 *   OrderExpired                   the remainder that neither filled nor rests, with the reason
 */
import { Status } from '../../protocol/status.js';
import { assert as assertImport } from '../../stdx/assert.js';
import { readU64 as readU64Import } from '../../stdx/records.js';
import { verify as verifyImport } from '../../constants.js';
import { CommandFlag, CommandWord } from '../../protocol/command-layout.js';
import { EventFlag, EventKind, EventWord } from '../../protocol/event-layout.js';
import type { Accounts } from '../ledger/accounts.js';
import type { Emitter } from '../emitter.js';
import type { Instruments } from './instruments.js';
import { restingHold as restingHoldImport, type Matcher } from './matcher.js';
import type { OrderApplier } from './order-apply.js';
import { Ticket, type OrderTicket } from './order-shape.js';
import { Orders, Side } from './orders.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const restingHold: typeof restingHoldImport = restingHoldImport;
const assert: typeof assertImport = assertImport;
const readU64: typeof readU64Import = readU64Import;
const verify: typeof verifyImport = verifyImport;

export class TakerEmitter {
  private readonly accounts: Accounts;
  private readonly instruments: Instruments;
  private readonly orders: Orders;
  private readonly matcher: Matcher;
  private readonly emitter: Emitter;
  private readonly applier: OrderApplier;

  constructor(
    accounts: Accounts,
    instruments: Instruments,
    orders: Orders,
    matcher: Matcher,
    emitter: Emitter,
    applier: OrderApplier,
  ) {
    this.accounts = accounts;
    this.instruments = instruments;
    this.orders = orders;
    this.matcher = matcher;
    this.emitter = emitter;
    this.applier = applier;
  }

  /** Emits the head event, the plan, and the expiry of whatever neither filled nor rests. */
  emitTaker(kind: EventKind, t: OrderTicket): void {
    const v = t.values;
    const plan = this.matcher.plan;
    const rest = v[Ticket.rest];
    const held =
      t.side === Side.Buy
        ? plan.totals[1] +
          (rest > 0 ? this.instruments.buyHold(t.instrument, rest, v[Ticket.price]) : 0)
        : v[Ticket.quantity] - plan.totals[0] + rest;
    const em = this.emitter;
    // beginOrder clears only the payload words not set below: all seven are, always.
    const e = em.beginOrder(kind, Status.Ok, this.takerFlags(t), t.instrument);
    // The account, id, price and quantity are the command's own fields, as the decider
    // checked and read them (checkHead says which): copied word for word.
    this.copyOwnerAndId(e, kind);
    em.copy(e, EventWord.price, CommandWord.price);
    em.copy(e, EventWord.quantity, CommandWord.quantity);
    if (verify) this.checkHead(e, t);
    em.set(e, EventWord.amount, held);
    em.set(e, EventWord.release, v[Ticket.oldHold]);
    em.set(e, EventWord.aux, rest);
    if (kind === EventKind.OrderAccepted) this.applier.applyAccepted(em.u32, e, t.account);
    else this.applier.applyAmended(em.u32, e, t.amendedSlot);
    this.emitPlan(kind, t);
    const expired = plan.totals[0] - rest;
    if (expired > 0) {
      const reason = plan.stop === Status.Ok ? Status.MatchingNoLiquidity : plan.stop;
      const sell = t.side === Side.Sell ? EventFlag.Sell : 0;
      const x = em.begin(EventKind.OrderExpired, reason, sell, t.instrument);
      this.copyOwnerAndId(x, kind);
      em.set(x, EventWord.quantity, expired);
    }
  }

  /** A fill-or-kill that cannot fill completely: accepted, nothing held, all of it expires. */
  emitKilled(t: OrderTicket): void {
    const plan = this.matcher.plan;
    plan.count = 0;
    plan.stop = Status.MatchingFokNotFilled;
    plan.totals[0] = t.values[Ticket.quantity];
    plan.totals[1] = 0;
    t.values[Ticket.rest] = 0;
    this.emitTaker(EventKind.OrderAccepted, t);
  }

  /** Starts an event about resting order `slot` (owner, id, side flag). */
  emitOrderEvent(kind: EventKind, status: Status, slot: number, instrument: number): number {
    const orders = this.orders;
    const em = this.emitter;
    const flags = orders.side(slot) === Side.Sell ? EventFlag.Sell : 0;
    const e = em.begin(kind, status, flags, instrument);
    em.set(e, EventWord.account, this.accounts.id(orders.account(slot)));
    em.set(e, EventWord.id, orders.id(slot));
    return e;
  }

  /** Cancels resting order `slot` as its owner asked (CancelOrder, CancelAll): emits, applies. */
  emitCanceled(slot: number): void {
    const orders = this.orders;
    const em = this.emitter;
    const instrument = orders.instrument(slot);
    const e = this.emitOrderEvent(EventKind.OrderCanceled, Status.Ok, slot, instrument);
    em.set(e, EventWord.price, orders.price(slot));
    em.set(e, EventWord.quantity, orders.open(slot));
    em.set(e, EventWord.release, restingHold(this.instruments, orders, instrument, slot));
    this.applier.applyCanceled(em.u32, e, slot);
  }

  /** Sets the order's account and id, from the command that placed (`kind`) or amends it. */
  private copyOwnerAndId(e: number, kind: EventKind): void {
    const em = this.emitter;
    em.copy(e, EventWord.account, CommandWord.account);
    if (kind === EventKind.OrderAccepted) em.setSequence(e, EventWord.id);
    else em.copy(e, EventWord.id, CommandWord.target);
  }

  /**
   * Verify only: the head's copied fields are the ticket's. A new order's id is its command's
   * sequence (checkOrderShape) and an amended one's the command's target (findOwnOrder); the
   * account is the command's (decidePlaceOrder found its slot by it, findOwnOrder compared
   * the owner with it); price and quantity passed amountStatus (below 2^53: one double, the
   * same words), a market order's price is 0 in both.
   */
  private checkHead(e: number, t: OrderTicket): void {
    const u32 = this.emitter.u32;
    const v = t.values;
    assert(readU64(u32, e + EventWord.account) === this.accounts.id(t.account), 'taker: account');
    assert(readU64(u32, e + EventWord.id) === v[Ticket.orderId], 'taker: order id');
    assert(readU64(u32, e + EventWord.price) === v[Ticket.price], 'taker: price');
    assert(readU64(u32, e + EventWord.quantity) === v[Ticket.quantity], 'taker: quantity');
  }

  private takerFlags(t: OrderTicket): number {
    let flags = t.side === Side.Sell ? EventFlag.Sell : 0;
    if ((t.flags & CommandFlag.Market) !== 0) flags |= EventFlag.Market;
    if ((t.flags & CommandFlag.PostOnly) !== 0) flags |= EventFlag.PostOnly;
    return flags;
  }

  private emitPlan(kind: EventKind, t: OrderTicket): void {
    const plan = this.matcher.plan;
    const em = this.emitter;
    const orders = this.orders;
    const sell = t.side === Side.Sell ? EventFlag.Sell : 0;
    for (let i = 0; i < plan.count; i++) {
      const maker = plan.makerSlot[i];
      if (plan.quantity[i] === 0) {
        const e = this.emitOrderEvent(
          EventKind.OrderCanceled,
          Status.MatchingSelfTrade,
          maker,
          t.instrument,
        );
        em.set(e, EventWord.price, plan.price[i]);
        em.set(e, EventWord.quantity, orders.open(maker));
        em.set(e, EventWord.release, plan.makerRelease[i]);
        this.applier.applyCanceled(em.u32, e, maker);
        continue;
      }
      // Every payload word is set below: nothing to clear first.
      const e = em.beginWhole(EventKind.Trade, Status.Ok, sell, t.instrument);
      this.copyOwnerAndId(e, kind);
      em.set(e, EventWord.counterparty, this.accounts.id(orders.account(maker)));
      em.set(e, EventWord.otherId, orders.id(maker));
      em.set(e, EventWord.price, plan.price[i]);
      em.set(e, EventWord.quantity, plan.quantity[i]);
      em.set(e, EventWord.amount, plan.notional[i]);
      em.set(e, EventWord.fee, plan.takerFee[i]);
      em.set(e, EventWord.counterpartyFee, plan.makerFee[i]);
      em.set(e, EventWord.release, plan.makerRelease[i]);
      em.set(e, EventWord.aux, plan.makerOpenAfter[i]);
      this.applier.applyTrade(em.u32, e, t.account, maker);
    }
  }
}
