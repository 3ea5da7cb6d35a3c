/**
 * Resting orders as packed 64-byte records (one cache line each) in a fixed pool, with an
 * id -> slot table. Matching walks orders one after another and reads several fields of each,
 * so keeping an order's fields together saves a cache miss per field. An order's id is the
 * sequence number of the command that placed it. Orders in one price level form an intrusive
 * doubly linked FIFO list through `prev`/`next` (time priority).
 *
 *   f64[8o + 0] id   f64[8o + 1] price   f64[8o + 2] open quantity
 *   i32[16o + 6] account slot  7 instrument  8 level  9 prev  10 next
 *   i32[16o + 11] checksum key A  12 key B (set when it rests)  13 side
 *   i32[16o + 14] post-only | stp << 1  15 client slot (the client table's, idempotency.ts)
 *
 * Each account's orders, and each client's (the client id that placed them), also form a
 * doubly linked list, so that CancelAll and CancelClientOrders find them without a pass over
 * the whole table. An order joins both lists when its slot is taken and leaves them when the
 * slot is freed, so each list is in the order slots were taken: ascending ids (an id is its
 * PlaceOrder's sequence; an amendment keeps the slot, and its place in the lists). That order
 * is a function of the records alone: the lists are rebuilt from them on restore, and are
 * neither in snapshots nor in the checksum (the client slot is in the record, and so in both).
 *
 *   ends[2a] - 1 ──► o1 ⇄ o2 ⇄ o3 ◄── ends[2a + 1] - 1   (0: none; accountEnds, clientEnds)
 *   links[4o] next, links[4o + 1] prev of its account's list; links[4o + 2], [4o + 3] of its
 *   client's (-1: none): one array, so an order's four links share a line, as a list's two
 *   ends do
 *
 * A read model's engine (the snapshotter's replica) also stamps each order as it joins the back
 * of a level (`joined`, a count of joins), so that an order's place in its level is known
 * without walking the level from its head (GET /orders: 20 ms for a level of 1M orders). The
 * stamps ascend along every level; they are derived like the lists (restampLevels on restore),
 * kept out of snapshots and the checksum, and the processor's engine keeps none.
 */
import { assert as assertImport } from '../../stdx/assert.js';
import { SlotPool } from '../../stdx/slot-pool.js';
import { U53Map } from '../../stdx/u53-map.js';
import { verify as verifyImport, type EngineConfig } from '../../constants.js';
import { pushUsed, type StateImage } from '../../stdx/state-image.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const verify: typeof verifyImport = verifyImport;

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

/**
 * An order's record index is its slot shifted, its field's offset or-ed in: `(o << 4) | k` is
 * `o * 16 + k` for a slot below 2^27 (assertEngineConfig bounds orderCountMax) and k below
 * 16, and V8 compiles it without the two overflow checks (and jumps) of the multiply and the
 * add, in each of the many inlined accessors (callgrind).
 */
const enum OrderShift {
  f64 = 3,
  i32 = 4,
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
  /** Post-only in bit 0, the self-trade prevention above it. */
  postOnlyStp = 14,
  client = 15,
  size = 16,
}

/** Where an order's links of each list start among its four (links[4o + base]). */
const enum ListBase {
  account = 0,
  client = 2,
}

export class Orders {
  readonly map: U53Map;
  readonly pool: SlotPool;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  /** Per account slot: its first order + 1 and its last order + 1 (0: none), side by side. */
  private readonly accountEnds: Int32Array;
  /** Per client slot: the same, for the orders the client placed. */
  private readonly clientEnds: Int32Array;
  /** Per order slot: the next and the previous order of its account, then of its client. */
  private readonly links: Int32Array;
  /** Per order slot: the join count when it last joined the back of a level; null: not kept. */
  private readonly joined: Float64Array | null;
  /** Joins so far (a float: a long-lived node may count past 2^31). */
  private joins = 0;

  /**
   * `clientSlots`: the client table's slots (Clients.slotCountMax); `joinStamps`: keep each
   * order's join stamp (a read model's engine).
   */
  constructor(config: EngineConfig, clientSlots: number, joinStamps: boolean) {
    const n = config.orderCountMax;
    assert(n <= 2 ** 27, 'orders: slots below 2^27, so that (o << 4) | k indexes (OrderShift)');
    assert(1 << OrderShift.f64 === OrderF64.size, 'orders: f64 shift and record size agree');
    assert(1 << OrderShift.i32 === OrderI32.size, 'orders: i32 shift and record size agree');
    this.map = new U53Map(n);
    this.pool = new SlotPool(n);
    const buffer = new ArrayBuffer(n * OrderF64.size * 8);
    this.f64 = new Float64Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.accountEnds = new Int32Array(config.accountCountMax * 2);
    this.clientEnds = new Int32Array(clientSlots * 2);
    this.links = new Int32Array(n * 4);
    this.joined = joinStamps ? new Float64Array(n) : null;
  }

  /** Whether join stamps are kept (joinedAt). */
  get stamped(): boolean {
    return this.joined !== null;
  }

  /** Notes that order `o` joins the back of a level now (when stamps are kept). */
  noteJoined(o: number): void {
    if (this.joined !== null) this.joined[o] = ++this.joins;
  }

  /** Order `o`'s join stamp: of two orders in one level, the lower is ahead. */
  joinedAt(o: number): number {
    assert(this.joined !== null, 'orders: join stamps are kept');
    assert(this.level(o) !== -1, 'orders: a resting order');
    return this.joined[o];
  }

  slotOf(id: number): number {
    return this.map.get(id);
  }

  available(): number {
    return this.pool.available();
  }

  id(o: number): number {
    return this.f64[(o << OrderShift.f64) | OrderF64.id];
  }
  price(o: number): number {
    return this.f64[(o << OrderShift.f64) | OrderF64.price];
  }
  open(o: number): number {
    return this.f64[(o << OrderShift.f64) | OrderF64.open];
  }
  /** Index of the open quantity in `f64` (for the checksum, which reads it in place). */
  openIndex(o: number): number {
    return (o << OrderShift.f64) | OrderF64.open;
  }
  account(o: number): number {
    return this.i32[(o << OrderShift.i32) | OrderI32.account];
  }
  instrument(o: number): number {
    return this.i32[(o << OrderShift.i32) | OrderI32.instrument];
  }
  level(o: number): number {
    return this.i32[(o << OrderShift.i32) | OrderI32.level];
  }
  prev(o: number): number {
    return this.i32[(o << OrderShift.i32) | OrderI32.prev];
  }
  next(o: number): number {
    return this.i32[(o << OrderShift.i32) | OrderI32.next];
  }
  keyA(o: number): number {
    return this.i32[(o << OrderShift.i32) | OrderI32.keyA];
  }
  keyB(o: number): number {
    return this.i32[(o << OrderShift.i32) | OrderI32.keyB];
  }
  side(o: number): number {
    return this.i32[(o << OrderShift.i32) | OrderI32.side];
  }
  postOnly(o: number): number {
    return this.i32[(o << OrderShift.i32) | OrderI32.postOnlyStp] & 1;
  }
  stp(o: number): number {
    return this.i32[(o << OrderShift.i32) | OrderI32.postOnlyStp] >>> 1;
  }
  /** The client slot of the client that placed order `o`. */
  client(o: number): number {
    return this.i32[(o << OrderShift.i32) | OrderI32.client];
  }
  /** The oldest order of account slot `a`, or -1. */
  firstOfAccount(a: number): number {
    return this.accountEnds[a * 2] - 1;
  }
  /**
   * A reader ahead's sum (Matcher.readAhead) of the lines order `o`, of account slot `a`, touches
   * when it leaves the book: its id's entry in the id table, its links and its account's ends.
   * One call site, not four accessors: each was a call in decidePlaceOrder, past its inlining
   * budget (~30 instructions a call, callgrind).
   */
  leavingLines(o: number, a: number): number {
    const map = this.map;
    const id = this.f64[(o << OrderShift.f64) | OrderF64.id];
    return map.entries[map.probeStart(id)] + this.links[o * 4] + this.accountEnds[a * 2];
  }
  /** The youngest order of account slot `a`, or -1. */
  lastOfAccount(a: number): number {
    return this.accountEnds[a * 2 + 1] - 1;
  }
  /** The next (younger) order of order `o`'s account, or -1. */
  nextOfAccount(o: number): number {
    return this.links[o * 4 + ListBase.account];
  }
  /** The oldest order client slot `c` placed, or -1. */
  firstOfClient(c: number): number {
    return this.clientEnds[c * 2] - 1;
  }
  /** The next (younger) order of order `o`'s client, or -1. */
  nextOfClient(o: number): number {
    return this.links[o * 4 + ListBase.client];
  }

  setPrice(o: number, price: number): void {
    this.f64[(o << OrderShift.f64) | OrderF64.price] = price;
  }
  setOpen(o: number, open: number): void {
    this.f64[(o << OrderShift.f64) | OrderF64.open] = open;
  }
  setLevel(o: number, level: number): void {
    this.i32[(o << OrderShift.i32) | OrderI32.level] = level;
  }
  setPrev(o: number, prev: number): void {
    this.i32[(o << OrderShift.i32) | OrderI32.prev] = prev;
  }
  setNext(o: number, next: number): void {
    this.i32[(o << OrderShift.i32) | OrderI32.next] = next;
  }
  setKeys(o: number, a: number, b: number): void {
    this.i32[(o << OrderShift.i32) | OrderI32.keyA] = a;
    this.i32[(o << OrderShift.i32) | OrderI32.keyB] = b;
  }

  acquire(
    id: number,
    account: number,
    instrument: number,
    side: number,
    postOnly: number,
    stp: number,
    client: number,
  ): number {
    const o = this.pool.acquire();
    this.map.insert(id, o);
    const f = o << OrderShift.f64;
    const i = o << OrderShift.i32;
    this.f64[f | OrderF64.id] = id;
    this.f64[f | OrderF64.price] = 0;
    this.f64[f | OrderF64.open] = 0;
    this.i32[i | OrderI32.account] = account;
    this.i32[i | OrderI32.instrument] = instrument;
    this.i32[i | OrderI32.level] = -1;
    this.i32[i | OrderI32.prev] = -1;
    this.i32[i | OrderI32.next] = -1;
    this.i32[i | OrderI32.side] = side;
    this.i32[i | OrderI32.postOnlyStp] = postOnly | (stp << 1);
    this.i32[i | OrderI32.client] = client;
    this.appendToLists(o, account, client);
    return o;
  }

  release(o: number): void {
    assert(this.level(o) === -1, 'orders: released while in a level');
    assert(this.id(o) > 0, 'orders: slot in use');
    this.map.remove(this.id(o));
    this.removeFrom(this.accountEnds, ListBase.account, o, this.account(o));
    this.removeFrom(this.clientEnds, ListBase.client, o, this.client(o));
    // The whole record is cleared: a snapshot stores records up to the pool's high water only.
    // Unrolled: TurboFan checks the array's map, length and a stack guard on each turn of a
    // loop (~150 instructions for the eight words, ~40 written out).
    const f64 = this.f64;
    const f = o << OrderShift.f64;
    f64[f] = 0;
    f64[f | 1] = 0;
    f64[f | 2] = 0;
    f64[f | 3] = 0;
    f64[f | 4] = 0;
    f64[f | 5] = 0;
    f64[f | 6] = 0;
    f64[f | 7] = 0;
    this.pool.release(o);
  }

  private appendToLists(o: number, account: number, client: number): void {
    this.appendTo(this.accountEnds, ListBase.account, o, account);
    this.appendTo(this.clientEnds, ListBase.client, o, client);
  }

  /** Appends order `o` to the list of slot `a` whose ends are in `ends`, links at `base`. */
  private appendTo(ends: Int32Array, base: number, o: number, a: number): void {
    assert(a >= 0 && a * 2 < ends.length, 'orders: account or client slot in range');
    const last = ends[a * 2 + 1] - 1;
    // Reading the last order's record may cost a cache miss: checked only when verifying.
    if (verify) assert(last === -1 || this.id(last) < this.id(o), 'orders: ids ascend');
    this.links[o * 4 + base] = -1;
    this.links[o * 4 + base + 1] = last;
    if (last === -1) ends[a * 2] = o + 1;
    else this.links[last * 4 + base] = o;
    ends[a * 2 + 1] = o + 1;
  }

  /** Takes order `o` out of the list of slot `a` whose ends are in `ends`, links at `base`. */
  private removeFrom(ends: Int32Array, base: number, o: number, a: number): void {
    const next = this.links[o * 4 + base];
    const prev = this.links[o * 4 + base + 1];
    assert(prev !== -1 || ends[a * 2] === o + 1, 'orders: first of its list');
    assert(next !== -1 || ends[a * 2 + 1] === o + 1, 'orders: last of its list');
    if (prev === -1) ends[a * 2] = next + 1;
    else this.links[prev * 4 + base] = next;
    if (next === -1) ends[a * 2 + 1] = prev + 1;
    else this.links[next * 4 + base + 1] = prev;
    this.links[o * 4 + base] = -1;
    this.links[o * 4 + base + 1] = -1;
  }

  /**
   * Empties the account and client lists of the orders held now: before a restore overwrites
   * the records. Only the accounts and clients with orders are written, so a fresh engine's
   * lists stay unmapped.
   */
  clearLists(): void {
    for (let o = 0; o < this.pool.highWater; o++) {
      if (this.id(o) === 0) continue;
      this.accountEnds[this.account(o) * 2] = 0;
      this.accountEnds[this.account(o) * 2 + 1] = 0;
      this.clientEnds[this.client(o) * 2] = 0;
      this.clientEnds[this.client(o) * 2 + 1] = 0;
    }
  }

  /**
   * Builds the account and client lists from the records (after a restore): each order
   * appended to its account's and its client's in ascending id order, as they were when the
   * state was saved. `ids` is room to sort them in, one per order in use (the caller allocates
   * it: restore only).
   */
  rebuildLists(ids: Float64Array): void {
    assert(ids.length === this.pool.used(), 'orders: room for every id');
    let n = 0;
    for (let o = 0; o < this.pool.highWater; o++) if (this.id(o) > 0) ids[n++] = this.id(o);
    assert(n === ids.length, 'orders: every slot in use has an id');
    ids.sort();
    for (let k = 0; k < n; k++) {
      const o = this.map.get(ids[k]);
      assert(o !== -1, 'orders: id in the map');
      this.appendToLists(o, this.account(o), this.client(o));
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
