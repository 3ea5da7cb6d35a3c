/**
 * The order books' mutations, used only by apply: rest an order at the back of its price level,
 * reduce it, take it out. Each keeps level totals and the state checksum consistent.
 */
import { assert as assertImport } from '../../stdx/assert.js';
import {
  ChecksumEntity,
  entityKeyB as entityKeyBImport,
  recordKeyA as recordKeyAImport,
  type StateChecksum,
} from '../checksum.js';
import type { Levels } from './levels.js';
import type { Orders } from './orders.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const entityKeyB: typeof entityKeyBImport = entityKeyBImport;
const recordKeyA: typeof recordKeyAImport = recordKeyAImport;

/**
 * A resting order enters the checksum as one field, its open quantity, under a key that folds in
 * its id, price, side and the client id that placed it (which never change while it rests: a
 * price amendment re-rests it). The client is in it because CancelClientOrders acts on it: a
 * replica that held another client for an order would cancel other orders.
 */
const fieldOpen = 0;

/** The first checksum key of a resting order (book.ts and the full scan, checksum-scan.ts). */
export function orderKeyA(id: number, price: number, side: number, clientId: number): number {
  return recordKeyA(ChecksumEntity.Order, id, price, side + clientId * 2);
}

// Called by rest through a module constant: inside its own module, an exported function is read
// through its cell all the same (~4 instructions a call; engine.ts says more).
const orderKeyAOf: typeof orderKeyA = orderKeyA;

export class Book {
  readonly orders: Orders;
  readonly levels: Levels;
  private readonly checksum: StateChecksum;
  /** The client table's ids by slot (Clients.ids): an order keeps its client's slot. */
  private readonly clientIds: Float64Array;

  constructor(orders: Orders, levels: Levels, checksum: StateChecksum, clientIds: Float64Array) {
    this.orders = orders;
    this.levels = levels;
    this.checksum = checksum;
    this.clientIds = clientIds;
  }

  /** Appends order `o` to the back of the level at `price`, with `open` quantity. */
  rest(o: number, price: number, open: number): void {
    const orders = this.orders;
    const levels = this.levels;
    assert(open > 0, 'book: resting quantity is positive');
    assert(orders.level(o) === -1, 'book: order already rests');
    const s = orders.instrument(o) * 2 + orders.side(o);
    let l = levels.find(s, price);
    if (l === -1) l = levels.insert(s, price);
    const tail = levels.tail(l);
    orders.setPrev(o, tail);
    orders.setNext(o, -1);
    if (tail === -1) levels.setHead(l, o);
    else orders.setNext(tail, o);
    levels.setTail(l, o);
    orders.noteJoined(o);
    levels.addOrderCount(l, 1);
    levels.addQuantity(l, open);
    orders.setLevel(o, l);
    orders.setPrice(o, price);
    orders.setOpen(o, open);
    const client = this.clientIds[orders.client(o)];
    const a = orderKeyAOf(orders.id(o), price, orders.side(o), client);
    const b = entityKeyB(a);
    orders.setKeys(o, a, b);
    this.checksum.stored(a, b, fieldOpen, orders.f64, orders.openIndex(o), 1);
  }

  /**
   * Stamps every resting order again, level by level from its head (after a restore: the stamps
   * are not in the image), when stamps are kept (Orders.joinedAt). Restore only: a full walk.
   */
  restampLevels(): void {
    const orders = this.orders;
    const levels = this.levels;
    if (!orders.stamped) return;
    for (let s = 0; s < levels.sideCount.length; s++) {
      for (let i = 0; i < levels.sideCount[s]; i++) {
        const l = levels.sideLevels[s * levels.perSide + i];
        for (let o = levels.head(l); o !== -1; o = orders.next(o)) orders.noteJoined(o);
      }
    }
  }

  /** Lowers a resting order's open quantity; at zero the order leaves the book. */
  lowerOpen(o: number, quantity: number): void {
    const orders = this.orders;
    const before = orders.open(o);
    const after = before - quantity;
    assert(quantity > 0, 'book: reduction is positive');
    assert(after >= 0, 'book: open quantity below zero');
    if (after === 0) {
      this.remove(o);
      return;
    }
    const a = orders.keyA(o);
    const b = orders.keyB(o);
    this.checksum.staged[0] = after;
    this.checksum.write(a, b, fieldOpen, orders.f64, orders.openIndex(o));
    this.levels.addQuantity(orders.level(o), -quantity);
  }

  /** Takes a resting order out of its level (and the level off its side when it empties). */
  unlink(o: number): void {
    const orders = this.orders;
    const levels = this.levels;
    const l = orders.level(o);
    assert(l !== -1, 'book: order does not rest');
    const prev = orders.prev(o);
    const next = orders.next(o);
    if (prev === -1) levels.setHead(l, next);
    else orders.setNext(prev, next);
    if (next === -1) levels.setTail(l, prev);
    else orders.setPrev(next, prev);
    orders.setPrev(o, -1);
    orders.setNext(o, -1);
    orders.setLevel(o, -1);
    levels.addOrderCount(l, -1);
    levels.addQuantity(l, -orders.open(o));
    if (levels.orderCount(l) === 0) levels.remove(orders.instrument(o) * 2 + orders.side(o), l);
    this.checksum.stored(
      orders.keyA(o),
      orders.keyB(o),
      fieldOpen,
      orders.f64,
      orders.openIndex(o),
      -1,
    );
  }

  /** Unlinks a resting order and frees its slot. */
  remove(o: number): void {
    this.unlink(o);
    this.orders.release(o);
  }
}
