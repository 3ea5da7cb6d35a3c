/**
 * Readable views of an engine's state: balances, open orders and order books, for the CLI
 * (`bourse replay`) and the node's read model (HTTP queries, book streams). Allocates freely;
 * never used on the command path.
 */
import type { Engine } from '../engine/engine.js';

export interface BalanceRow {
  account: number;
  asset: number;
  available: number;
  held: number;
}

export interface OrderRow {
  id: number;
  account: number;
  instrument: number;
  side: 'buy' | 'sell';
  price: number;
  open: number;
}

export interface LevelRow {
  price: number;
  quantity: number;
  orders: number;
}

/** Non-zero balances, by account then asset (`account` filters to one account). */
export function balances(engine: Engine, account = -1): BalanceRow[] {
  if (account !== -1) return accountBalances(engine, account);
  const rows: BalanceRow[] = [];
  const accounts = engine.accounts;
  for (let slot = 0; slot < accounts.count; slot++) {
    const id = accounts.id(slot);
    if (account !== -1 && id !== account) continue;
    for (let asset = 1; asset < engine.config.assetCountMax; asset++) {
      const available = accounts.available(slot, asset);
      const held = accounts.held(slot, asset);
      if (available !== 0 || held !== 0) rows.push({ account: id, asset, available, held });
    }
  }
  return rows;
}

/** One side of a book, best level first. */
export function bookSide(engine: Engine, instrument: number, sell: boolean): LevelRow[] {
  const levels = engine.levels;
  const s = instrument * 2 + (sell ? 1 : 0);
  const rows: LevelRow[] = [];
  for (let i = levels.sideCount[s] - 1; i >= 0; i--) {
    const l = levels.sideLevels[s * levels.perSide + i];
    rows.push({
      price: levels.price(l),
      quantity: levels.quantity(l),
      orders: levels.orderCount(l),
    });
  }
  return rows;
}

/** Resting orders in price-time order per book side (`account` filters to one account). */
export function openOrders(engine: Engine, account = -1): OrderRow[] {
  if (account !== -1) return accountOrders(engine, account);
  const rows: OrderRow[] = [];
  const { levels, orders } = engine;
  for (let instrument = 1; instrument < engine.config.instrumentCountMax; instrument++) {
    for (const sell of [false, true]) {
      const s = instrument * 2 + (sell ? 1 : 0);
      for (let i = levels.sideCount[s] - 1; i >= 0; i--) {
        const l = levels.sideLevels[s * levels.perSide + i];
        for (let o = levels.head(l); o !== -1; o = orders.next(o)) {
          const owner = engine.accounts.id(orders.account(o)); // orders keep the account's slot
          if (account !== -1 && owner !== account) continue;
          rows.push({
            id: orders.id(o),
            account: owner,
            instrument,
            side: sell ? 'sell' : 'buy',
            price: orders.price(o),
            open: orders.open(o),
          });
        }
      }
    }
  }
  return rows;
}

/**
 * One account's resting orders in the order `openOrders` gives (instrument, buys then sells,
 * best price first, then time priority), found through the account's list of orders (Orders,
 * kept for CancelAll) rather than a walk of every book: GET /orders walked all 262,144 resting
 * orders of a full table, 45-200 ms a query, and back-to-back queries held the read model off
 * the output ring until the ring filled and the processor stopped (a soak audit: no command
 * answered for 30-40 s). A pass over every record that followed still cost 30-45 ms a query
 * at 4M orders, for an account with two. Time priority within a level comes from the orders'
 * join stamps (Orders.joinedAt) where the engine keeps them (a read model's), so the work is
 * the account's orders alone; a level holding two or more of them was walked from its head
 * (an amend that lost priority keeps its id), about 20 ms a query for a level of 1M orders.
 * An engine without stamps (the processor's) still walks.
 */
function accountOrders(engine: Engine, account: number): OrderRow[] {
  const slot = engine.accounts.slotOf(account);
  if (slot === -1) return [];
  const orders = engine.orders;
  const found: number[] = [];
  for (let o = orders.firstOfAccount(slot); o !== -1; o = orders.nextOfAccount(o)) {
    if (orders.level(o) !== -1) found.push(o);
  }
  const rank = orders.stamped ? stampRanks(engine, found) : walkRanks(engine, found, slot);
  const key = (o: number): number[] => {
    const sell = orders.side(o);
    return [orders.instrument(o), sell, sell === 1 ? orders.price(o) : -orders.price(o)];
  };
  found.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return (rank.get(a) ?? 0) - (rank.get(b) ?? 0);
  });
  return found.map((o) => ({
    id: orders.id(o),
    account,
    instrument: orders.instrument(o),
    side: orders.side(o) === 1 ? 'sell' : 'buy',
    price: orders.price(o),
    open: orders.open(o),
  }));
}

/** Each of `found`'s place in its level, from its join stamp (no walk). */
function stampRanks(engine: Engine, found: readonly number[]): Map<number, number> {
  const rank = new Map<number, number>();
  for (const o of found) rank.set(o, engine.orders.joinedAt(o));
  return rank;
}

/**
 * Each of `found`'s place in its level where the level holds two or more of them: each such
 * level walked from its head until all of them are seen (account slot `slot`).
 */
function walkRanks(engine: Engine, found: readonly number[], slot: number): Map<number, number> {
  const { orders, levels } = engine;
  const rank = new Map<number, number>();
  const perLevel = new Map<number, number>();
  for (const o of found) perLevel.set(orders.level(o), (perLevel.get(orders.level(o)) ?? 0) + 1);
  for (const [level, mine] of perLevel) {
    if (mine < 2) continue;
    let at = 0;
    let seen = 0;
    for (let o = levels.head(level); o !== -1 && seen < mine; o = orders.next(o), at++) {
      if (orders.account(o) !== slot) continue;
      rank.set(o, at);
      seen++;
    }
  }
  return rank;
}

/** One account's non-zero balances (none when the account does not exist). */
function accountBalances(engine: Engine, account: number): BalanceRow[] {
  const slot = engine.accounts.slotOf(account);
  const rows: BalanceRow[] = [];
  if (slot === -1) return rows;
  for (let asset = 1; asset < engine.config.assetCountMax; asset++) {
    const available = engine.accounts.available(slot, asset);
    const held = engine.accounts.held(slot, asset);
    if (available !== 0 || held !== 0) rows.push({ account, asset, available, held });
  }
  return rows;
}

/**
 * The best `depth` levels of each side of a book, packed for a Book frame: bid count, ask
 * count, then (price, quantity, orders) per level, the bids best first, then the asks.
 * Allocates its array (a query's); bookLevelsInto writes into one made once.
 */
export function bookLevels(engine: Engine, instrument: number, depth: number): Float64Array {
  const levels = engine.levels;
  const bids = Math.min(depth, levels.sideCount[instrument * 2]);
  const asks = Math.min(depth, levels.sideCount[instrument * 2 + 1]);
  const out = new Float64Array(2 + (bids + asks) * 3);
  bookLevelsInto(engine, instrument, depth, out);
  return out;
}

/** bookLevels written into `out` (2 + 6 × depth words at least); the words written. */
export function bookLevelsInto(
  engine: Engine,
  instrument: number,
  depth: number,
  out: Float64Array,
): number {
  const levels = engine.levels;
  const bids = Math.min(depth, levels.sideCount[instrument * 2]);
  const asks = Math.min(depth, levels.sideCount[instrument * 2 + 1]);
  out[0] = bids;
  out[1] = asks;
  const at = writeSide(engine, instrument * 2, bids, out, 2);
  return writeSide(engine, instrument * 2 + 1, asks, out, at);
}

/** The best `n` levels of side `s` at `at` of `out`, best first; the word after them. */
function writeSide(engine: Engine, s: number, n: number, out: Float64Array, at: number): number {
  const levels = engine.levels;
  for (let i = 0; i < n; i++) {
    const l = levels.sideLevels[s * levels.perSide + levels.sideCount[s] - 1 - i];
    out[at++] = levels.price(l);
    out[at++] = levels.quantity(l);
    out[at++] = levels.orderCount(l);
  }
  return at;
}
