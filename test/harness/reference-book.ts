/**
 * The reference model's order books: orders in a Map, matching by sorting the opposite side on
 * every taker (best price, then time). Slow and obvious on purpose.
 */
import {
  cancelAllLooksPerCancel,
  cancelAllPerCommandMax,
  type EngineConfig,
} from '../../src/constants.js';
import {
  CommandFlag,
  CommandKind,
  SelfTradePrevention,
  TimeInForce,
} from '../../src/protocol/command-layout.js';
import { EventFlag, EventKind } from '../../src/protocol/event-layout.js';
import { Status } from '../../src/protocol/status.js';
import type { ModelCommand, ModelInstrument, ModelOrder, ModelState } from './model-types.js';
import { amountStatus, bal, idStatus, SAFE, type EventSink } from './reference-model.js';

/** floor(n * bps / 10000), exactly. */
export function fee(n: number, bps: number): number {
  return Number((BigInt(n) * BigInt(bps)) / 10000n);
}

function buyHold(ins: ModelInstrument, q: number, p: number): number {
  const n = (q / ins.lot) * p;
  return n + fee(n, Math.max(ins.makerBps, ins.takerBps));
}

function heldAsset(ins: ModelInstrument, sell: boolean): number {
  return sell ? ins.base : ins.quote;
}

function restingHold(ins: ModelInstrument, o: ModelOrder): number {
  return o.sell ? o.open : buyHold(ins, o.open, o.price);
}

interface Entry {
  maker: ModelOrder;
  /** 0: a self-trade cancellation. */
  fill: number;
  notional: number;
  takerFee: number;
  makerFee: number;
  release: number;
}

interface Plan {
  entries: Entry[];
  left: number;
  cost: number;
  stop: Status;
}

interface Taker {
  instrument: number;
  ins: ModelInstrument;
  account: number;
  sell: boolean;
  limit: number;
  quantity: number;
  stp: number;
  funds: number; // -1: no cap
}

function crosses(sell: boolean, makerPrice: number, limit: number): boolean {
  return sell ? makerPrice >= limit : makerPrice <= limit;
}

/** Opposite side, best first, then oldest first. */
function opposite(s: ModelState, instrument: number, sell: boolean): ModelOrder[] {
  const side = [...s.orders.values()].filter((o) => o.instrument === instrument && o.sell !== sell);
  return side.sort((a, b) => {
    if (a.price !== b.price) return sell ? b.price - a.price : a.price - b.price;
    return a.priority - b.priority;
  });
}

function plan(s: ModelState, config: EngineConfig, t: Taker): Plan {
  const p: Plan = { entries: [], left: t.quantity, cost: 0, stop: Status.Ok };
  for (const maker of opposite(s, t.instrument, t.sell)) {
    if (!crosses(t.sell, maker.price, t.limit)) break;
    if (p.entries.length === config.fillsPerCommandMax)
      return { ...p, stop: Status.MatchingFillLimit };
    if (maker.account === t.account) {
      if (t.stp === SelfTradePrevention.CancelTaker)
        return { ...p, stop: Status.MatchingSelfTrade };
      p.entries.push({
        maker,
        fill: 0,
        notional: 0,
        takerFee: 0,
        makerFee: 0,
        release: restingHold(t.ins, maker),
      });
      if (t.stp === SelfTradePrevention.CancelBoth) return { ...p, stop: Status.MatchingSelfTrade };
      continue;
    }
    let fill = Math.min(p.left, maker.open);
    if (t.funds >= 0) {
      let lots = fill / t.ins.lot;
      const cost = (k: number): number => k * maker.price + fee(k * maker.price, t.ins.takerBps);
      while (lots > 0 && cost(lots) > t.funds - p.cost) lots--;
      fill = lots * t.ins.lot;
      if (fill === 0) return { ...p, stop: Status.MatchingFundsExhausted };
    }
    const notional = (fill / t.ins.lot) * maker.price;
    const takerFee = fee(notional, t.ins.takerBps);
    const makerFee = fee(notional, t.ins.makerBps);
    const release = maker.sell
      ? 0
      : buyHold(t.ins, maker.open, maker.price) -
        notional -
        makerFee -
        buyHold(t.ins, maker.open - fill, maker.price);
    p.entries.push({ maker, fill, notional, takerFee, makerFee, release });
    p.left -= fill;
    p.cost += t.sell ? fill : notional + takerFee;
    if (p.left === 0) return p;
    if (fill < maker.open) return { ...p, stop: Status.MatchingFundsExhausted };
  }
  return p;
}

export function decideOrderCommand(
  sink: EventSink,
  s: ModelState,
  config: EngineConfig,
  cmd: ModelCommand,
): Status {
  if (cmd.kind === CommandKind.PlaceOrder) return place(sink, s, config, cmd);
  if (idStatus(cmd.account ?? 0) !== Status.Ok) return Status.CommandIdInvalid;
  if (idStatus(cmd.target ?? 0) !== Status.Ok) return Status.CommandIdInvalid;
  const o = s.orders.get(cmd.target ?? 0);
  if (o === undefined) return Status.MatchingOrderUnknown;
  if (o.account !== cmd.account) return Status.MatchingOrderNotOwner;
  const ins = s.instruments.get(o.instrument)!;
  if (cmd.kind === CommandKind.CancelOrder) {
    const release = restingHold(ins, o);
    sink.emit(EventKind.OrderCanceled, Status.Ok, o.sell ? EventFlag.Sell : 0, o.instrument, {
      account: o.account,
      id: o.id,
      price: o.price,
      quantity: o.open,
      release,
    });
    cancel(s, ins, o);
    return Status.Ok;
  }
  return amend(sink, s, config, cmd, o, ins);
}

/**
 * CancelAll: the account's orders oldest first (by id), from the target's place when it is one
 * of them; at most cancelAllPerCommandMax canceled and cancelAllLooksPerCancel times that many
 * looked at, and only those placed before `aux` (when not 0). The head names the first order
 * not looked at (0: none left before that bound).
 */
export function cancelAll(
  sink: EventSink,
  s: ModelState,
  config: EngineConfig,
  cmd: ModelCommand,
): Status {
  const account = cmd.account ?? 0;
  if (idStatus(account) !== Status.Ok) return Status.CommandIdInvalid;
  if (!s.accounts.has(account)) return Status.LedgerAccountUnknown;
  const instrument = cmd.ref ?? 0;
  if (instrument !== 0 && !s.instruments.has(instrument)) return Status.MatchingInstrumentUnknown;
  const target = cmd.target ?? 0;
  if (target !== 0 && idStatus(target) !== Status.Ok) return Status.CommandIdInvalid;
  const before = cmd.aux ?? 0; // only orders placed before it (0: all)
  if (before !== 0 && idStatus(before) !== Status.Ok) return Status.CommandIdInvalid;
  const mine = [...s.orders.values()].filter(
    (o) => o.account === account && (before === 0 || o.id < before),
  );
  mine.sort((a, b) => a.id - b.id);
  let at = Math.max(
    0,
    mine.findIndex((o) => o.id === target),
  ); // not found: the oldest
  const head = sink.emit(EventKind.AllCanceled, Status.Ok, 0, instrument, { account });
  const cancelsMax = cancelAllPerCommandMax(config);
  let canceled = 0;
  for (let looks = 0; at < mine.length && canceled < cancelsMax; looks++, at++) {
    if (looks === cancelsMax * cancelAllLooksPerCancel) break;
    const o = mine[at];
    if (instrument !== 0 && o.instrument !== instrument) continue;
    const ins = s.instruments.get(o.instrument)!;
    sink.emit(EventKind.OrderCanceled, Status.Ok, o.sell ? EventFlag.Sell : 0, o.instrument, {
      account,
      id: o.id,
      price: o.price,
      quantity: o.open,
      release: restingHold(ins, o),
    });
    cancel(s, ins, o);
    canceled++;
  }
  head.quantity = canceled;
  head.otherId = at < mine.length ? mine[at].id : 0;
  return Status.Ok;
}

/**
 * CancelClientOrders: the orders client `ref` placed, on any account, oldest first, from
 * `target` when it is one of them before the bound (else the oldest); at most
 * cancelAllPerCommandMax, `other_id` the first one left.
 */
export function cancelClientOrders(
  sink: EventSink,
  s: ModelState,
  config: EngineConfig,
  cmd: ModelCommand,
): Status {
  const client = cmd.ref ?? 0;
  if (client === 0) return Status.CommandIdInvalid;
  const target = cmd.target ?? 0;
  if (target !== 0 && idStatus(target) !== Status.Ok) return Status.CommandIdInvalid;
  const before = cmd.aux ?? 0;
  if (before !== 0 && idStatus(before) !== Status.Ok) return Status.CommandIdInvalid;
  const mine = [...s.orders.values()].filter(
    (o) => o.client === client && (before === 0 || o.id < before),
  );
  mine.sort((a, b) => a.id - b.id);
  let at = Math.max(
    0,
    mine.findIndex((o) => o.id === target),
  );
  const head = sink.emit(EventKind.AllCanceled, Status.Ok, 0, client, {});
  const cancelsMax = cancelAllPerCommandMax(config);
  let canceled = 0;
  for (; at < mine.length && canceled < cancelsMax; at++) {
    const o = mine[at];
    const ins = s.instruments.get(o.instrument)!;
    sink.emit(EventKind.OrderCanceled, Status.Ok, o.sell ? EventFlag.Sell : 0, o.instrument, {
      account: o.account,
      id: o.id,
      price: o.price,
      quantity: o.open,
      release: restingHold(ins, o),
    });
    cancel(s, ins, o);
    canceled++;
  }
  head.quantity = canceled;
  head.otherId = at < mine.length ? mine[at].id : 0;
  return Status.Ok;
}

function shapeStatus(s: ModelState, cmd: ModelCommand): Status {
  const flags = cmd.flags ?? 0;
  const tif = cmd.tif ?? 0;
  const stp = cmd.stp ?? 0;
  if ((flags & ~(CommandFlag.Sell | CommandFlag.Market | CommandFlag.PostOnly)) !== 0) {
    return Status.CommandFlagsInvalid;
  }
  if (tif > 2 || stp > 2) return Status.CommandFlagsInvalid;
  const market = (flags & CommandFlag.Market) !== 0;
  if ((flags & CommandFlag.PostOnly) !== 0 && (market || tif !== TimeInForce.Gtc)) {
    return Status.CommandFlagsInvalid;
  }
  if (idStatus(cmd.account ?? 0) !== Status.Ok) return Status.CommandIdInvalid;
  const ins = s.instruments.get(cmd.ref ?? 0);
  if (ins === undefined) return Status.MatchingInstrumentUnknown;
  if (ins.halted) return Status.MatchingInstrumentHalted;
  if (market) {
    if ((cmd.price ?? 0) !== 0) return Status.MatchingMarketPriceNotAllowed;
  } else {
    const status = amountStatus(cmd.price ?? 0);
    if (status !== Status.Ok) return status;
    if ((cmd.price ?? 0) % ins.tick !== 0) return Status.MatchingPriceTick;
  }
  const status = amountStatus(cmd.quantity ?? 0);
  if (status !== Status.Ok) return status;
  if ((cmd.quantity ?? 0) % ins.lot !== 0) return Status.MatchingQuantityLot;
  return Status.Ok;
}

function notionalFits(ins: ModelInstrument, sell: boolean, q: number, p: number): boolean {
  if ((q / ins.lot) * p > SAFE) return false;
  return sell || buyHold(ins, q, p) <= SAFE;
}

function place(sink: EventSink, s: ModelState, config: EngineConfig, cmd: ModelCommand): Status {
  let status = shapeStatus(s, cmd);
  if (status !== Status.Ok) return status;
  const account = cmd.account ?? 0;
  if (!s.accounts.has(account)) return Status.LedgerAccountUnknown;
  const instrument = cmd.ref ?? 0;
  const ins = s.instruments.get(instrument)!;
  const flags = cmd.flags ?? 0;
  const sell = (flags & CommandFlag.Sell) !== 0;
  const market = (flags & CommandFlag.Market) !== 0;
  const price = cmd.price ?? 0;
  const quantity = cmd.quantity ?? 0;
  let funds = -1;
  if (market) {
    if (sell && bal(s, account, ins.base).available < quantity) return Status.RiskInsufficientFunds;
    if (!sell) {
      funds = bal(s, account, ins.quote).available;
      if (funds === 0) return Status.RiskInsufficientFunds;
    }
  } else {
    if (!notionalFits(ins, sell, quantity, price)) return Status.RiskNotionalTooLarge;
    const required = sell ? quantity : buyHold(ins, quantity, price);
    if (bal(s, account, heldAsset(ins, sell)).available < required)
      return Status.RiskInsufficientFunds;
  }
  if ((flags & CommandFlag.PostOnly) !== 0) {
    const best = opposite(s, instrument, sell)[0];
    if (best !== undefined && crosses(sell, best.price, price))
      return Status.MatchingPostOnlyWouldCross;
  }
  const limit = market ? (sell ? 0 : SAFE) : price;
  const t: Taker = { instrument, ins, account, sell, limit, quantity, stp: cmd.stp ?? 0, funds };
  let p = plan(s, config, t);
  const tif = cmd.tif ?? 0;
  const killed = tif === TimeInForce.Fok && p.left > 0;
  if (killed) p = { entries: [], left: quantity, cost: 0, stop: Status.MatchingFokNotFilled };
  const rest = !killed && tif === TimeInForce.Gtc && !market && p.stop === Status.Ok ? p.left : 0;
  if (rest > 0) {
    status = roomStatus(s, config, instrument, sell, price, true);
    if (status !== Status.Ok) return status;
  }
  let headFlags = sell ? EventFlag.Sell : 0;
  if (market) headFlags |= EventFlag.Market;
  if ((flags & CommandFlag.PostOnly) !== 0) headFlags |= EventFlag.PostOnly;
  const order: ModelOrder = {
    id: cmd.sequence,
    account,
    instrument,
    sell,
    price,
    open: 0,
    postOnly: (flags & CommandFlag.PostOnly) !== 0,
    stp: cmd.stp ?? 0,
    client: cmd.clientId,
    priority: 0,
  };
  emitTaker(sink, s, ins, order, EventKind.OrderAccepted, headFlags, quantity, p, rest, 0);
  return Status.Ok;
}

function amend(
  sink: EventSink,
  s: ModelState,
  config: EngineConfig,
  cmd: ModelCommand,
  o: ModelOrder,
  ins: ModelInstrument,
): Status {
  if (ins.halted) return Status.MatchingInstrumentHalted;
  let status = amountStatus(cmd.price ?? 0);
  if (status !== Status.Ok) return status;
  status = amountStatus(cmd.quantity ?? 0);
  if (status !== Status.Ok) return status;
  const price = cmd.price ?? 0;
  const quantity = cmd.quantity ?? 0;
  if (price % ins.tick !== 0) return Status.MatchingPriceTick;
  if (quantity % ins.lot !== 0) return Status.MatchingQuantityLot;
  if (price === o.price && quantity === o.open) return Status.MatchingAmendNoChange;
  if (price === o.price && quantity < o.open) {
    const release = restingHold(ins, o) - (o.sell ? quantity : buyHold(ins, quantity, price));
    sink.emit(
      EventKind.OrderAmended,
      Status.Ok,
      (o.sell ? EventFlag.Sell : 0) | EventFlag.PriorityKept,
      o.instrument,
      { account: o.account, id: o.id, price, quantity, release, aux: quantity },
    );
    const b = bal(s, o.account, heldAsset(ins, o.sell));
    b.held -= release;
    b.available += release;
    o.open = quantity;
    return Status.Ok;
  }
  if (!notionalFits(ins, o.sell, quantity, price)) return Status.RiskNotionalTooLarge;
  const oldHold = restingHold(ins, o);
  const required = o.sell ? quantity : buyHold(ins, quantity, price);
  if (bal(s, o.account, heldAsset(ins, o.sell)).available + oldHold < required) {
    return Status.RiskInsufficientFunds;
  }
  if (o.postOnly) {
    const best = opposite(s, o.instrument, o.sell)[0];
    if (best !== undefined && crosses(o.sell, best.price, price))
      return Status.MatchingPostOnlyWouldCross;
  }
  const t: Taker = {
    instrument: o.instrument,
    ins,
    account: o.account,
    sell: o.sell,
    limit: price,
    quantity,
    stp: o.stp,
    funds: -1,
  };
  const p = plan(s, config, t);
  const rest = p.stop === Status.Ok ? p.left : 0;
  if (rest > 0 && price !== o.price) {
    status = roomStatus(s, config, o.instrument, o.sell, price, false);
    if (status !== Status.Ok) return status;
  }
  const headFlags = (o.sell ? EventFlag.Sell : 0) | (o.postOnly ? EventFlag.PostOnly : 0);
  s.orders.delete(o.id);
  const b = bal(s, o.account, heldAsset(ins, o.sell));
  b.held -= oldHold;
  b.available += oldHold;
  const replaced = { ...o, price };
  emitTaker(sink, s, ins, replaced, EventKind.OrderAmended, headFlags, quantity, p, rest, oldHold);
  return Status.Ok;
}

function roomStatus(
  s: ModelState,
  config: EngineConfig,
  instrument: number,
  sell: boolean,
  price: number,
  needsOrder: boolean,
): Status {
  if (needsOrder && s.orders.size >= config.orderCountMax) return Status.MatchingOrderTableFull;
  const levels = new Set<string>();
  const sideLevels = new Set<number>();
  for (const o of s.orders.values()) {
    levels.add(`${o.instrument}/${o.sell}/${o.price}`);
    if (o.instrument === instrument && o.sell === sell) sideLevels.add(o.price);
  }
  if (sideLevels.has(price)) return Status.Ok;
  if (sideLevels.size >= config.levelsPerSideMax || levels.size >= config.levelCountMax) {
    return Status.MatchingLevelTableFull;
  }
  return Status.Ok;
}

/** Emits and applies the head event, the plan, and the expiry of the remainder. */
function emitTaker(
  sink: EventSink,
  s: ModelState,
  ins: ModelInstrument,
  order: ModelOrder,
  kind: EventKind,
  headFlags: number,
  quantity: number,
  p: Plan,
  rest: number,
  oldHold: number,
): void {
  const held = order.sell
    ? quantity - p.left + rest
    : p.cost + (rest > 0 ? buyHold(ins, rest, order.price) : 0);
  sink.emit(kind, Status.Ok, headFlags, order.instrument, {
    account: order.account,
    id: order.id,
    price: order.price,
    quantity,
    amount: held,
    release: oldHold,
    aux: rest,
  });
  const b = bal(s, order.account, heldAsset(ins, order.sell));
  b.available -= held;
  b.held += held;
  if (rest > 0) {
    s.orders.set(order.id, { ...order, open: rest, priority: s.priorityNext++ });
  }
  for (const entry of p.entries) applyEntry(sink, s, ins, order, entry);
  const expired = p.left - rest;
  if (expired > 0) {
    const reason = p.stop === Status.Ok ? Status.MatchingNoLiquidity : p.stop;
    sink.emit(EventKind.OrderExpired, reason, order.sell ? EventFlag.Sell : 0, order.instrument, {
      account: order.account,
      id: order.id,
      quantity: expired,
    });
  }
}

function applyEntry(
  sink: EventSink,
  s: ModelState,
  ins: ModelInstrument,
  taker: ModelOrder,
  e: Entry,
): void {
  const maker = s.orders.get(e.maker.id)!;
  if (e.fill === 0) {
    sink.emit(
      EventKind.OrderCanceled,
      Status.MatchingSelfTrade,
      maker.sell ? EventFlag.Sell : 0,
      maker.instrument,
      {
        account: maker.account,
        id: maker.id,
        price: maker.price,
        quantity: maker.open,
        release: e.release,
      },
    );
    cancel(s, ins, maker);
    return;
  }
  sink.emit(EventKind.Trade, Status.Ok, taker.sell ? EventFlag.Sell : 0, taker.instrument, {
    account: taker.account,
    counterparty: maker.account,
    id: taker.id,
    otherId: maker.id,
    price: maker.price,
    quantity: e.fill,
    amount: e.notional,
    fee: e.takerFee,
    counterpartyFee: e.makerFee,
    release: e.release,
    aux: maker.open - e.fill,
  });
  const buyer = taker.sell ? maker.account : taker.account;
  const seller = taker.sell ? taker.account : maker.account;
  const buyerFee = taker.sell ? e.makerFee : e.takerFee;
  const sellerFee = taker.sell ? e.takerFee : e.makerFee;
  bal(s, buyer, ins.quote).held -= e.notional + buyerFee;
  bal(s, buyer, ins.base).available += e.fill;
  bal(s, seller, ins.base).held -= e.fill;
  bal(s, seller, ins.quote).available += e.notional - sellerFee;
  if (e.takerFee + e.makerFee > 0)
    bal(s, ins.feeAccount, ins.quote).available += e.takerFee + e.makerFee;
  const mb = bal(s, maker.account, ins.quote);
  mb.held -= e.release;
  mb.available += e.release;
  maker.open -= e.fill;
  if (maker.open === 0) s.orders.delete(maker.id);
}

function cancel(s: ModelState, ins: ModelInstrument, o: ModelOrder): void {
  const release = restingHold(ins, o);
  const b = bal(s, o.account, heldAsset(ins, o.sell));
  b.held -= release;
  b.available += release;
  s.orders.delete(o.id);
}
