/**
 * Resting orders as packed 64-byte records (one cache line each) in a fixed pool, with an
 * id -> slot table. Matching walks orders one after another and reads several fields of each,
 * so keeping an order's fields together saves a cache miss per field. An order's id is the
 * sequence number of the command that placed it. Orders in one price level form an intrusive
 * doubly linked FIFO list through `prev`/`next` (time priority).
 *
 *   f64[8o + 0] id   f64[8o + 1] price   f64[8o + 2] open quantity
 *   i32[16o + 6] account slot  7 instrument  8 level  9 prev  10 next
 *   i32[16o + 11] checksum key A  12 key B (set when it rests)  13 side  14 post-only  15 stp
 *
 * Each account's orders also form a doubly linked list, so that CancelAll finds them without a
 * pass over the whole table. An order joins its account's list when its slot is taken and leaves
 * it when the slot is freed, so the list is in the order slots were taken: ascending ids (an id
 * is its PlaceOrder's sequence; an amendment keeps the slot, and its place in the list). That
 * order is a function of the records alone: the lists are rebuilt from them on restore, and are
 * neither in snapshots nor in the checksum.
 *
 *   accountEnds[2a] - 1 ──► o1 ⇄ o2 ⇄ o3 ◄── accountEnds[2a + 1] - 1   (0: the account has none)
 *   links[2o] next, links[2o + 1] prev (-1: none): one array, so an order's two links share a line,
 *   as an account's two ends do
 */
import { assert } from '../../stdx/assert.js';
import { SlotPool } from '../../stdx/slot-pool.js';
import { U53Map } from '../../stdx/u53-map.js';
import { verify, type EngineConfig } from '../../constants.js';
import { pushUsed, type StateImage } from '../../stdx/state-image.js';

export const enum Side {
  Buy = 0,
  Sell = 1,
}

const enum OrderF64 {
  id = 0,
  price = 1,
  open = 2,
  size = 8,
}

const enum OrderI32 {
  account = 6,
  instrument = 7,
  level = 8,
  prev = 9,
  next = 10,
  keyA = 11,
  keyB = 12,
  side = 13,
  postOnly = 14,
  stp = 15,
  size = 16,
}

export class Orders {
  readonly map: U53Map;
  readonly pool: SlotPool;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  /** Per account slot: its first and last order's slot + 1 (0, as allocated: none). */
  /** Per account slot: its first order + 1 and its last order + 1 (0: none), side by side. */
  private readonly accountEnds: Int32Array;
  /** Per order slot: the next and the previous order of its account (-1: none). */
  private readonly links: Int32Array;

  constructor(config: EngineConfig) {
    const n = config.orderCountMax;
    this.map = new U53Map(n);
    this.pool = new SlotPool(n);
    const buffer = new ArrayBuffer(n * OrderF64.size * 8);
    this.f64 = new Float64Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.accountEnds = new Int32Array(config.accountCountMax * 2);
    this.links = new Int32Array(n * 2);
  }

  slotOf(id: number): number {
    return this.map.get(id);
  }

  available(): number {
    return this.pool.available();
  }

  id(o: number): number {
    return this.f64[o * OrderF64.size + OrderF64.id];
  }
  price(o: number): number {
    return this.f64[o * OrderF64.size + OrderF64.price];
  }
  open(o: number): number {
    return this.f64[o * OrderF64.size + OrderF64.open];
  }
  /** Index of the open quantity in `f64` (for the checksum, which reads it in place). */
  openIndex(o: number): number {
    return o * OrderF64.size + OrderF64.open;
  }
  account(o: number): number {
    return this.i32[o * OrderI32.size + OrderI32.account];
  }
  instrument(o: number): number {
    return this.i32[o * OrderI32.size + OrderI32.instrument];
  }
  level(o: number): number {
    return this.i32[o * OrderI32.size + OrderI32.level];
  }
  prev(o: number): number {
    return this.i32[o * OrderI32.size + OrderI32.prev];
  }
  next(o: number): number {
    return this.i32[o * OrderI32.size + OrderI32.next];
  }
  keyA(o: number): number {
    return this.i32[o * OrderI32.size + OrderI32.keyA];
  }
  keyB(o: number): number {
    return this.i32[o * OrderI32.size + OrderI32.keyB];
  }
  side(o: number): number {
    return this.i32[o * OrderI32.size + OrderI32.side];
  }
  postOnly(o: number): number {
    return this.i32[o * OrderI32.size + OrderI32.postOnly];
  }
  stp(o: number): number {
    return this.i32[o * OrderI32.size + OrderI32.stp];
  }
  /** The oldest order of account slot `a`, or -1. */
  firstOfAccount(a: number): number {
    return this.accountEnds[a * 2] - 1;
  }
  /** The youngest order of account slot `a`, or -1. */
  lastOfAccount(a: number): number {
    return this.accountEnds[a * 2 + 1] - 1;
  }
  /** The next (younger) order of order `o`'s account, or -1. */
  nextOfAccount(o: number): number {
    return this.links[o * 2];
  }

  setPrice(o: number, price: number): void {
    this.f64[o * OrderF64.size + OrderF64.price] = price;
  }
  setOpen(o: number, open: number): void {
    this.f64[o * OrderF64.size + OrderF64.open] = open;
  }
  setLevel(o: number, level: number): void {
    this.i32[o * OrderI32.size + OrderI32.level] = level;
  }
  setPrev(o: number, prev: number): void {
    this.i32[o * OrderI32.size + OrderI32.prev] = prev;
  }
  setNext(o: number, next: number): void {
    this.i32[o * OrderI32.size + OrderI32.next] = next;
  }
  setKeys(o: number, a: number, b: number): void {
    this.i32[o * OrderI32.size + OrderI32.keyA] = a;
    this.i32[o * OrderI32.size + OrderI32.keyB] = b;
  }

  acquire(
    id: number,
    account: number,
    instrument: number,
    side: number,
    postOnly: number,
    stp: number,
  ): number {
    const o = this.pool.acquire();
    this.map.insert(id, o);
    const f = o * OrderF64.size;
    const i = o * OrderI32.size;
    this.f64[f + OrderF64.id] = id;
    this.f64[f + OrderF64.price] = 0;
    this.f64[f + OrderF64.open] = 0;
    this.i32[i + OrderI32.account] = account;
    this.i32[i + OrderI32.instrument] = instrument;
    this.i32[i + OrderI32.level] = -1;
    this.i32[i + OrderI32.prev] = -1;
    this.i32[i + OrderI32.next] = -1;
    this.i32[i + OrderI32.side] = side;
    this.i32[i + OrderI32.postOnly] = postOnly;
    this.i32[i + OrderI32.stp] = stp;
    this.appendToAccount(o, account);
    return o;
  }

  release(o: number): void {
    assert(this.level(o) === -1, 'orders: released while in a level');
    assert(this.id(o) > 0, 'orders: slot in use');
    this.map.remove(this.id(o));
    this.removeFromAccount(o, this.account(o));
    // The whole record is cleared: a snapshot stores records up to the pool's high water only.
    const f = o * OrderF64.size;
    for (let k = 0; k < OrderF64.size; k++) this.f64[f + k] = 0;
    this.pool.release(o);
  }

  private appendToAccount(o: number, a: number): void {
    const last = this.accountEnds[a * 2 + 1] - 1;
    assert(a >= 0 && a * 2 < this.accountEnds.length, 'orders: account slot in range');
    // Reading the last order's record may cost a cache miss: checked only when verifying.
    if (verify) assert(last === -1 || this.id(last) < this.id(o), 'orders: ids ascend');
    this.links[o * 2] = -1;
    this.links[o * 2 + 1] = last;
    if (last === -1) this.accountEnds[a * 2] = o + 1;
    else this.links[last * 2] = o;
    this.accountEnds[a * 2 + 1] = o + 1;
  }

  private removeFromAccount(o: number, a: number): void {
    const next = this.links[o * 2];
    const prev = this.links[o * 2 + 1];
    assert(prev !== -1 || this.accountEnds[a * 2] === o + 1, 'orders: first of its account');
    assert(next !== -1 || this.accountEnds[a * 2 + 1] === o + 1, 'orders: last of its account');
    if (prev === -1) this.accountEnds[a * 2] = next + 1;
    else this.links[prev * 2] = next;
    if (next === -1) this.accountEnds[a * 2 + 1] = prev + 1;
    else this.links[next * 2 + 1] = prev;
    this.links[o * 2] = -1;
    this.links[o * 2 + 1] = -1;
  }

  /**
   * Empties the account lists of the orders held now: before a restore overwrites the records.
   * Only the accounts with orders are written, so a fresh engine's lists stay unmapped.
   */
  clearAccountLists(): void {
    for (let o = 0; o < this.pool.highWater; o++) {
      if (this.id(o) === 0) continue;
      this.accountEnds[this.account(o) * 2] = 0;
      this.accountEnds[this.account(o) * 2 + 1] = 0;
    }
  }

  /**
   * Builds the account lists from the records (after a restore): each order appended to its
   * account's in ascending id order, as they were when the state was saved. `ids` is room to
   * sort them in, one per order in use (the caller allocates it: restore only).
   */
  rebuildAccountLists(ids: Float64Array): void {
    assert(ids.length === this.pool.used(), 'orders: room for every id');
    let n = 0;
    for (let o = 0; o < this.pool.highWater; o++) if (this.id(o) > 0) ids[n++] = this.id(o);
    assert(n === ids.length, 'orders: every slot in use has an id');
    ids.sort();
    for (let k = 0; k < n; k++) {
      const o = this.map.get(ids[k]);
      assert(o !== -1, 'orders: id in the map');
      this.appendToAccount(o, this.account(o));
    }
  }

  saveImage(image: StateImage): void {
    this.map.saveImage(image);
    this.pool.saveImage(image);
    pushUsed(image, this.f64, this.pool.highWater * OrderF64.size * 8);
  }

  loadCounters(counters: readonly number[], at: number): number {
    return this.pool.loadCounters(counters, this.map.loadCounters(counters, at));
  }
}
