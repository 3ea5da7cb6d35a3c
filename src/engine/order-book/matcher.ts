/**
 * Matching, as a plan: walks the opposite side of the book from the best level, in price-time
 * priority, and records which resting orders the taker would fill (or cancel, for self-trade
 * prevention) without changing anything. The order decider then checks the plan (fill-or-kill,
 * room to rest) and turns it into events; apply carries them out. Planning first is what lets a
 * fill-or-kill order, or an order with no room to rest, be refused with no side effects.
 *
 *   asks  [-103 | -102 | -101]      taker buys 5 @ 102:
 *                        ^ best     fill 101 (FIFO within the level), then 102, stop at 103
 *
 * The plan holds at most fillsPerCommandMax entries, allocated once.
 */
import { bpsOf as bpsOfImport } from '../../stdx/int.js';
import { assert as assertImport } from '../../stdx/assert.js';
import { Status } from '../../protocol/status.js';
import { SelfTradePrevention } from '../../protocol/command-layout.js';
import type { EngineConfig } from '../../constants.js';
import type { Accounts } from '../ledger/accounts.js';
import type { Instruments } from './instruments.js';
import type { Levels } from './levels.js';
import { Orders, Side } from './orders.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const bpsOf: typeof bpsOfImport = bpsOfImport;
const assert: typeof assertImport = assertImport;

export class MatchPlan {
  readonly makerSlot: Int32Array;
  /** Quantity filled; 0 marks a self-trade cancellation of the resting order. */
  readonly quantity: Float64Array;
  readonly price: Float64Array;
  readonly notional: Float64Array;
  readonly takerFee: Float64Array;
  readonly makerFee: Float64Array;
  /** Hold released from the maker: a buy's leftover after the fill, or a canceled order's hold. */
  readonly makerRelease: Float64Array;
  readonly makerOpenAfter: Float64Array;
  readonly countMax: number;
  count = 0;
  /** Why matching stopped with quantity left: Ok (no more liquidity at the limit) or a reason. */
  stop: Status = Status.Ok;
  /** [taker quantity left, taker cost: quote incl. fees for a buy, base for a sell]. */
  readonly totals = new Float64Array(2);

  constructor(config: EngineConfig) {
    const n = config.fillsPerCommandMax;
    this.countMax = n;
    this.makerSlot = new Int32Array(n);
    this.quantity = new Float64Array(n);
    this.price = new Float64Array(n);
    this.notional = new Float64Array(n);
    this.takerFee = new Float64Array(n);
    this.makerFee = new Float64Array(n);
    this.makerRelease = new Float64Array(n);
    this.makerOpenAfter = new Float64Array(n);
  }
}

export class Matcher {
  readonly plan: MatchPlan;
  /**
   * Inputs of `match` that may exceed int32: [limit price, quantity, funds (-1: no cap)]. Set by
   * the caller; passed in a typed array because a double argument to a call that is not inlined
   * is boxed, and the engine must not allocate.
   */
  readonly params = new Float64Array(3);
  private readonly accounts: Accounts;
  private readonly orders: Orders;
  private readonly levels: Levels;
  private readonly instruments: Instruments;
  /** A sum of what `readAhead` loads, kept so that the loads are not optimised away. */
  private readonly kept = new Float64Array(1);

  constructor(
    config: EngineConfig,
    accounts: Accounts,
    orders: Orders,
    levels: Levels,
    instruments: Instruments,
  ) {
    this.plan = new MatchPlan(config);
    this.accounts = accounts;
    this.orders = orders;
    this.levels = levels;
    this.instruments = instruments;
  }

  /** True when a `side` order at `limit` would trade with the best opposite level. */
  crosses(instrument: number, side: number, limit: number): boolean {
    const best = this.levels.best(instrument * 2 + (1 - side));
    if (best === -1) return false;
    const price = this.levels.price(best);
    return side === Side.Buy ? price <= limit : price >= limit;
  }

  /**
   * Plans a taker on `side` for account slot `account`, with `params` = [limit (SAFE_MAX for a
   * market buy, 0 for a market sell), quantity, quote it may spend (a market buy) or -1].
   */
  match(instrument: number, side: number, account: number, stp: number): void {
    const plan = this.plan;
    const levels = this.levels;
    const limit = this.params[0];
    plan.count = 0;
    plan.stop = Status.Ok;
    plan.totals[0] = this.params[1];
    plan.totals[1] = 0;
    const s = instrument * 2 + (1 - side);
    const base = s * levels.perSide;
    for (let at = levels.sideCount[s] - 1; at >= 0; at--) {
      const level = levels.sideLevels[base + at];
      const price = levels.price(level);
      if (side === Side.Buy ? price > limit : price < limit) return;
      // The taker's balance of what it receives is settled with each fill: read it ahead too.
      this.kept[0] += this.accountLines(instrument, account);
      if (!this.matchLevel(instrument, side, level, account, stp)) return;
    }
  }

  /** Fills within one level, oldest first. Returns false when matching must stop. */
  private matchLevel(
    instrument: number,
    side: number,
    level: number,
    account: number,
    stp: number,
  ): boolean {
    const plan = this.plan;
    const orders = this.orders;
    const price = this.levels.price(level);
    const capped = side === Side.Buy && this.params[2] >= 0;
    for (let o = this.levels.head(level); o !== -1; o = orders.next(o)) {
      if (plan.count === plan.countMax) return this.stopWith(Status.MatchingFillLimit);
      if (orders.account(o) === account) {
        if (stp === SelfTradePrevention.CancelTaker) return this.stopWith(Status.MatchingSelfTrade);
        this.addCancel(instrument, o);
        if (stp === SelfTradePrevention.CancelBoth) return this.stopWith(Status.MatchingSelfTrade);
        continue;
      }
      const left = plan.totals[0];
      const open = orders.open(o);
      let fill = left < open ? left : open;
      if (capped) {
        fill = this.affordable(instrument, price, fill);
        if (fill === 0) return this.stopWith(Status.MatchingFundsExhausted);
      }
      this.addFill(instrument, side, o, fill, price);
      if (plan.totals[0] === 0) return false;
      if (fill < open) return this.stopWith(Status.MatchingFundsExhausted);
    }
    return true;
  }

  private stopWith(reason: Status): boolean {
    this.plan.stop = reason;
    return false;
  }

  private addFill(
    instrument: number,
    side: number,
    maker: number,
    fill: number,
    price: number,
  ): void {
    const plan = this.plan;
    const ins = this.instruments;
    const i = plan.count++;
    const notional = (fill / ins.lot[instrument]) * price;
    const takerFee = bpsOf(notional, ins.takerBps[instrument]);
    const makerFee = bpsOf(notional, ins.makerBps[instrument]);
    const openBefore = this.orders.open(maker);
    const openAfter = openBefore - fill;
    let release = 0;
    if (side === Side.Sell) {
      // The maker buys: it held buyHold(openBefore); it pays notional + its fee and keeps
      // buyHold(openAfter). Floors make the leftover non-negative (see instruments.ts).
      release =
        ins.buyHold(instrument, openBefore, price) -
        (notional + makerFee) -
        ins.buyHold(instrument, openAfter, price);
      assert(release >= 0, 'matcher: maker release is not negative');
    }
    this.readAhead(instrument, maker, openAfter === 0);
    plan.makerSlot[i] = maker;
    plan.quantity[i] = fill;
    plan.price[i] = price;
    plan.notional[i] = notional;
    plan.takerFee[i] = takerFee;
    plan.makerFee[i] = makerFee;
    plan.makerRelease[i] = release;
    plan.makerOpenAfter[i] = openAfter;
    plan.totals[0] -= fill;
    plan.totals[1] += side === Side.Buy ? notional + takerFee : fill;
  }

  private addCancel(instrument: number, maker: number): void {
    const plan = this.plan;
    const orders = this.orders;
    const i = plan.count++;
    this.readAhead(instrument, maker, true);
    plan.makerSlot[i] = maker;
    plan.quantity[i] = 0;
    plan.price[i] = orders.price(maker);
    plan.notional[i] = 0;
    plan.takerFee[i] = 0;
    plan.makerFee[i] = 0;
    plan.makerRelease[i] = restingHold(this.instruments, orders, instrument, maker);
    plan.makerOpenAfter[i] = 0;
  }

  /**
   * Reads, without using them, the lines that carrying out the plan will touch for `maker`: its
   * account's record and balances (accountLines), and, when it leaves the book (`leaves`), its
   * id's entry in the order table, its links and its account's ends in the accounts' order
   * lists. They are cache misses (a maker rested long ago), and the events that need them come
   * one after another, each waiting for its own: loaded here, while the walk goes on, they are
   * in flight together. Nothing is written but `kept`, which no decision reads.
   */
  private readAhead(instrument: number, maker: number, leaves: boolean): void {
    const orders = this.orders;
    const a = orders.account(maker);
    let sum = this.accountLines(instrument, a);
    if (leaves) sum += orders.leavingLines(maker, a);
    this.kept[0] += sum;
  }

  /** The sum of account slot `a`'s id and its balances of the instrument's two assets. */
  private accountLines(instrument: number, a: number): number {
    const accounts = this.accounts;
    const ins = this.instruments;
    const f64 = accounts.f64;
    const b = a * accounts.blockSize;
    return f64[b] + f64[b + ins.base[instrument] * 2] + f64[b + ins.quote[instrument] * 2];
  }

  /** The largest multiple of the lot, at most `fill`, whose cost with taker fee fits the funds. */
  private affordable(instrument: number, price: number, fill: number): number {
    const ins = this.instruments;
    const funds = this.params[2] - this.plan.totals[1];
    const lot = ins.lot[instrument];
    const bps = ins.takerBps[instrument];
    const lotsMax = fill / lot;
    let lots = Math.floor(funds / ((price * (10_000 + bps)) / 10_000));
    if (lots > lotsMax) lots = lotsMax;
    // The float estimate may be off by a lot or two either way; settle it exactly.
    for (let i = 0; i < 4 && lots < lotsMax && cost(lots + 1, price, bps) <= funds; i++) lots++;
    for (let i = 0; i < 4 && lots > 0 && cost(lots, price, bps) > funds; i++) lots--;
    assert(lots === 0 || cost(lots, price, bps) <= funds, 'matcher: affordable lots fit funds');
    return lots * lot;
  }
}

function cost(lots: number, price: number, bps: number): number {
  const notional = lots * price;
  return notional + bpsOf(notional, bps);
}

/** What a resting order holds: quote for a buy, its open base quantity for a sell. */
export function restingHold(
  instruments: Instruments,
  orders: Orders,
  instrument: number,
  slot: number,
): number {
  const open = orders.open(slot);
  if (orders.side(slot) === Side.Sell) return open;
  return instruments.buyHold(instrument, open, orders.price(slot));
}
