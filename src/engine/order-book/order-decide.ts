/**
 * Deciding trading commands: place, cancel, amend. Each `decide*` returns Status.Ok having
 * emitted (and applied) the command's events, or a rejection having emitted nothing: every check
 * runs, and the match is planned, before the first event is written (see matcher.ts). Command
 * field indexes are `(c.w + CommandWord.x) | 0` (records.ts): no overflow check and jump.
 */
import { isMultipleOf as isMultipleOfImport, SAFE_MAX as SAFE_MAXImport } from '../../stdx/int.js';
import { Status } from '../../protocol/status.js';
import { CommandFlag, CommandWord, TimeInForce } from '../../protocol/command-layout.js';
import { EventFlag, EventKind, EventWord } from '../../protocol/event-layout.js';
import {
  amountStatus as amountStatusImport,
  idStatus as idStatusImport,
} from '../../protocol/command-fields.js';
import { readI64 as readI64Import, readU64 as readU64Import } from '../../stdx/records.js';
import type { Accounts } from '../ledger/accounts.js';
import type { CommandCursor } from '../cursor.js';
import type { Emitter } from '../emitter.js';
import type { OrderApplier } from './order-apply.js';
import type { Instruments } from './instruments.js';
import type { Levels } from './levels.js';
import { Orders, Side } from './orders.js';
import { Matcher, restingHold as restingHoldImport } from './matcher.js';
import { checkOrderShape as checkOrderShapeImport, OrderTicket, Ticket } from './order-shape.js';
import { TakerEmitter } from './taker-emit.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const SAFE_MAX: typeof SAFE_MAXImport = SAFE_MAXImport;
const isMultipleOf: typeof isMultipleOfImport = isMultipleOfImport;
const amountStatus: typeof amountStatusImport = amountStatusImport;
const idStatus: typeof idStatusImport = idStatusImport;
const readI64: typeof readI64Import = readI64Import;
const readU64: typeof readU64Import = readU64Import;
const restingHold: typeof restingHoldImport = restingHoldImport;
const checkOrderShape: typeof checkOrderShapeImport = checkOrderShapeImport;

export class OrderDecider {
  private readonly accounts: Accounts;
  private readonly instruments: Instruments;
  private readonly orders: Orders;
  private readonly levels: Levels;
  private readonly matcher: Matcher;
  private readonly cursor: CommandCursor;
  private readonly emitter: Emitter;
  private readonly applier: OrderApplier;
  /** Emits order events; shared with CancelAllDecider, which cancels as CancelOrder does. */
  readonly taker: TakerEmitter;
  private readonly ticket = new OrderTicket();

  constructor(
    accounts: Accounts,
    instruments: Instruments,
    orders: Orders,
    levels: Levels,
    matcher: Matcher,
    cursor: CommandCursor,
    emitter: Emitter,
    applier: OrderApplier,
  ) {
    this.accounts = accounts;
    this.instruments = instruments;
    this.orders = orders;
    this.levels = levels;
    this.matcher = matcher;
    this.cursor = cursor;
    this.emitter = emitter;
    this.applier = applier;
    this.taker = new TakerEmitter(accounts, instruments, orders, matcher, emitter, applier);
  }

  decidePlaceOrder(): Status {
    const t = this.ticket;
    let status = checkOrderShape(this.cursor, this.instruments, t);
    if (status !== Status.Ok) return status;
    const c = this.cursor;
    t.account = this.accounts.slotOf(readU64(c.u32, (c.w + CommandWord.account) | 0));
    if (t.account === -1) return Status.LedgerAccountUnknown;
    const market = (t.flags & CommandFlag.Market) !== 0;
    status = market ? this.checkMarketFunds(t) : this.checkLimitFunds(t);
    if (status !== Status.Ok) return status;
    const v = t.values;
    if ((t.flags & CommandFlag.PostOnly) !== 0) {
      if (this.matcher.crosses(t.instrument, t.side, v[Ticket.price])) {
        return Status.MatchingPostOnlyWouldCross;
      }
    }
    const p = this.matcher.params;
    p[0] = market ? (t.side === Side.Buy ? SAFE_MAX : 0) : v[Ticket.price];
    p[1] = v[Ticket.quantity];
    this.matcher.match(t.instrument, t.side, t.account, t.stp);
    const plan = this.matcher.plan;
    if (t.tif === TimeInForce.Fok && plan.totals[0] > 0) {
      this.taker.emitKilled(t);
      return Status.Ok;
    }
    const rests = t.tif === TimeInForce.Gtc && !market && plan.stop === Status.Ok;
    v[Ticket.rest] = rests ? plan.totals[0] : 0;
    if (v[Ticket.rest] > 0) {
      status = this.roomToRest(t.instrument * 2 + t.side, true);
      if (status !== Status.Ok) return status;
    }
    this.taker.emitTaker(EventKind.OrderAccepted, t);
    return Status.Ok;
  }

  decideCancelOrder(): Status {
    const slot = this.findOwnOrder();
    if (slot < 0) return -slot;
    this.taker.emitCanceled(slot);
    return Status.Ok;
  }

  decideAmendOrder(): Status {
    const slot = this.findOwnOrder();
    if (slot < 0) return -slot;
    const orders = this.orders;
    const ins = this.instruments;
    const instrument = orders.instrument(slot);
    if (ins.halted[instrument] === 1) return Status.MatchingInstrumentHalted;
    const c = this.cursor;
    let status = amountStatus(c.u32, (c.w + CommandWord.price) | 0);
    if (status !== Status.Ok) return status;
    status = amountStatus(c.u32, (c.w + CommandWord.quantity) | 0);
    if (status !== Status.Ok) return status;
    const t = this.ticket;
    const v = t.values;
    v[Ticket.price] = readI64(c.u32, (c.w + CommandWord.price) | 0);
    v[Ticket.quantity] = readI64(c.u32, (c.w + CommandWord.quantity) | 0);
    if (!isMultipleOf(v[Ticket.price], ins.tick[instrument])) return Status.MatchingPriceTick;
    if (!isMultipleOf(v[Ticket.quantity], ins.lot[instrument])) return Status.MatchingQuantityLot;
    if (v[Ticket.price] === orders.price(slot)) {
      if (v[Ticket.quantity] === orders.open(slot)) return Status.MatchingAmendNoChange;
      if (v[Ticket.quantity] < orders.open(slot)) return this.emitReduce(slot, instrument);
    }
    return this.decideReplace(slot, instrument);
  }

  /** Funds for a limit order: its whole hold at the limit price must be available. */
  private checkLimitFunds(t: OrderTicket): Status {
    const ins = this.instruments;
    const v = t.values;
    if (!this.notionalFits(t.instrument, t.side)) return Status.RiskNotionalTooLarge;
    const asset = ins.heldAsset(t.instrument, t.side);
    const required =
      t.side === Side.Sell
        ? v[Ticket.quantity]
        : ins.buyHold(t.instrument, v[Ticket.quantity], v[Ticket.price]);
    if (this.accounts.available(t.account, asset) < required) return Status.RiskInsufficientFunds;
    this.matcher.params[2] = -1;
    return Status.Ok;
  }

  /** Funds for a market order: a sell needs its quantity, a buy spends what it has (some). */
  private checkMarketFunds(t: OrderTicket): Status {
    const ins = this.instruments;
    if (t.side === Side.Sell) {
      const base = this.accounts.available(t.account, ins.base[t.instrument]);
      if (base < t.values[Ticket.quantity]) return Status.RiskInsufficientFunds;
      this.matcher.params[2] = -1;
      return Status.Ok;
    }
    const quote = this.accounts.available(t.account, ins.quote[t.instrument]);
    if (quote === 0) return Status.RiskInsufficientFunds;
    this.matcher.params[2] = quote;
    return Status.Ok;
  }

  /** An amendment that loses priority: the order leaves the book and re-enters as a taker. */
  private decideReplace(slot: number, instrument: number): Status {
    const orders = this.orders;
    const ins = this.instruments;
    const t = this.ticket;
    const v = t.values;
    t.instrument = instrument;
    t.side = orders.side(slot);
    t.account = orders.account(slot);
    t.flags = orders.postOnly(slot) === 1 ? CommandFlag.PostOnly : 0;
    t.amendedSlot = slot;
    if (!this.notionalFits(instrument, t.side)) return Status.RiskNotionalTooLarge;
    v[Ticket.oldHold] = restingHold(ins, orders, instrument, slot);
    v[Ticket.orderId] = orders.id(slot);
    const asset = ins.heldAsset(instrument, t.side);
    const required =
      t.side === Side.Sell
        ? v[Ticket.quantity]
        : ins.buyHold(instrument, v[Ticket.quantity], v[Ticket.price]);
    if (this.accounts.available(t.account, asset) + v[Ticket.oldHold] < required) {
      return Status.RiskInsufficientFunds;
    }
    if (orders.postOnly(slot) === 1 && this.matcher.crosses(instrument, t.side, v[Ticket.price])) {
      return Status.MatchingPostOnlyWouldCross;
    }
    const p = this.matcher.params;
    p[0] = v[Ticket.price];
    p[1] = v[Ticket.quantity];
    p[2] = -1;
    this.matcher.match(instrument, t.side, t.account, orders.stp(slot));
    const plan = this.matcher.plan;
    v[Ticket.rest] = plan.stop === Status.Ok ? plan.totals[0] : 0;
    if (v[Ticket.rest] > 0 && v[Ticket.price] !== orders.price(slot)) {
      // The amended order keeps its own slot: only a new price level may be missing.
      const room = this.roomToRest(instrument * 2 + t.side, false);
      if (room !== Status.Ok) return room;
    }
    this.taker.emitTaker(EventKind.OrderAmended, t);
    return Status.Ok;
  }

  /** A smaller quantity at the same price keeps time priority. */
  private emitReduce(slot: number, instrument: number): Status {
    const orders = this.orders;
    const quantity = this.ticket.values[Ticket.quantity];
    const oldHold = restingHold(this.instruments, orders, instrument, slot);
    const newHold =
      orders.side(slot) === Side.Sell
        ? quantity
        : this.instruments.buyHold(instrument, quantity, orders.price(slot));
    const e = this.taker.emitOrderEvent(EventKind.OrderAmended, Status.Ok, slot, instrument);
    const em = this.emitter;
    em.u32[e + EventWord.flagsTifStp] |= EventFlag.PriorityKept;
    em.set(e, EventWord.price, orders.price(slot));
    em.set(e, EventWord.quantity, quantity);
    em.set(e, EventWord.release, oldHold - newHold);
    em.set(e, EventWord.aux, quantity);
    this.applier.applyAmended(em.u32, e, slot);
    return Status.Ok;
  }

  /** The slot of the order the command targets, or minus the rejection status. */
  private findOwnOrder(): number {
    const c = this.cursor;
    let status = idStatus(c.u32, (c.w + CommandWord.account) | 0);
    if (status !== Status.Ok) return -status;
    status = idStatus(c.u32, (c.w + CommandWord.target) | 0);
    if (status !== Status.Ok) return -status;
    const slot = this.orders.slotOf(readU64(c.u32, (c.w + CommandWord.target) | 0));
    if (slot === -1) return -Status.MatchingOrderUnknown;
    const owner = this.accounts.id(this.orders.account(slot));
    if (owner !== readU64(c.u32, (c.w + CommandWord.account) | 0))
      return -Status.MatchingOrderNotOwner;
    return slot;
  }

  /** The ticket's notional (and, for a buy, its hold) stays within 2^53 - 1. */
  private notionalFits(instrument: number, side: number): boolean {
    const v = this.ticket.values;
    const notional = (v[Ticket.quantity] / this.instruments.lot[instrument]) * v[Ticket.price];
    if (notional > SAFE_MAX) return false;
    if (side === Side.Sell) return true;
    return this.instruments.buyHold(instrument, v[Ticket.quantity], v[Ticket.price]) <= SAFE_MAX;
  }

  /** Room for the ticket to rest at its price on side `s`. */
  private roomToRest(s: number, needsOrderSlot: boolean): Status {
    if (needsOrderSlot && this.orders.available() === 0) return Status.MatchingOrderTableFull;
    const price = this.ticket.values[Ticket.price];
    // Room first: it almost always holds, and then the level need not be looked for here
    // (apply looks for it again when the order rests).
    if (!this.levels.hasRoom(s) && this.levels.find(s, price) === -1) {
      return Status.MatchingLevelTableFull;
    }
    return Status.Ok;
  }
}
