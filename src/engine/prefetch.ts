/**
 * Reading ahead: before a run of commands is decided, the state lines each will touch first
 * (its accounts' records at the balances it moves, the order a cancel or amend names and that
 * order's account) are read in tight loops. Decided one by one, each command waits for its
 * own cache misses in turn (a transfer between two of 100,000 accounts: ~450 ns, most of it
 * two misses); read ahead together, the misses of many commands are in flight at once and
 * deciding finds the lines in cache (~190 ns). Nothing here writes state: commands decide, and
 * events apply, the same way with or without it (the processor, replicas and replay use it).
 *
 *   run:   [ c0 c1 c2 ... c127 ]   note:  each command's account slots, a cancel's order id,
 *                                         a new order's account and id
 *                                  read:  the ids' table entries, then their slots, the
 *                                         orders' records (their accounts, their places in
 *                                         the accounts' order lists), then every noted
 *                                         account line, then the new orders' list ends and
 *                                         id entries, each loop a handful of loads
 *                                  decide: c0, c1, ... (hits)
 *
 * Reading in phases, each a loop over independent loads, keeps more misses in flight than one
 * loop that follows each command's chain of loads to its end (measured: 4-14% of the whole
 * run). An order id's table entry is a miss of its own (ids are hashed over 32 MB), so every
 * noted id's entry is read before any id is looked up (with the checksum's single write per
 * change, orders only at 100k accounts took 0.84-0.88 of the time). The accounts' order lists
 * (orders.ts) cost misses of their own: an order that leaves reads its links and its account's
 * list ends, one that rests its account's last order. With those and the new order's id entry
 * read here, and the makers' lines read as the match walks them (matcher.ts), a profile of the
 * orders-only stream lost the stalls it showed at each, and bench:engine's two phases took 3-4%
 * less CPU time (alternated runs, 12 pairs, twice, 2026-12-05). Tried and left out: a new
 * order's level tail and free slot (finding the level costs more than the miss it saves), a
 * cancelled order's FIFO neighbours and level, the first makers of the book side a new order
 * takes from (their records, accounts and id entries: the head of the best level only, or four
 * deep), the account of the head of the opposite best level (no gain measured for any). A new
 * order's id entry alone, before the lists, measured no gain either.
 */
import { prefetchCommandsMax as prefetchCommandsMaxImport } from '../constants.js';
import {
  CommandFlag,
  CommandKind,
  CommandWord,
  SequencedWord,
} from '../protocol/command-layout.js';
import { EventFlag, EventKind, EventWord } from '../protocol/event-layout.js';
import { readU64 as readU64Import } from '../stdx/records.js';
import type { Accounts } from './ledger/accounts.js';
import type { Instruments } from './order-book/instruments.js';
import type { Orders } from './order-book/orders.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const prefetchCommandsMax: typeof prefetchCommandsMaxImport = prefetchCommandsMaxImport;
const readU64: typeof readU64Import = readU64Import;

/** CommandFlag.Sell within the command's `bits` word (the flags byte is its second). */
const sellBit = CommandFlag.Sell << 8;

export class Prefetcher {
  /** Noted account lines: the index in `accounts.f64` of a balance, and of its record. */
  private readonly balances: Int32Array;
  private readonly records: Int32Array;
  private balanceCount = 0;
  /** Noted order ids: their id-table entries are read first, then their slots found. */
  private readonly orderIds: Float64Array;
  private orderIdCount = 0;
  /** Noted order slots, whose records (and accounts) are read next. */
  private readonly orderSlots: Int32Array;
  private orderCount = 0;
  /**
   * Noted new orders: the account slot (whose order list the order joins if it rests) and the
   * order's id (its PlaceOrder's sequence, whose table entry it takes).
   */
  private readonly placedAccounts: Int32Array;
  private readonly placedIds: Float64Array;
  private placedCount = 0;
  /** A sum of everything read, kept so that the reads are not optimised away. */
  private readonly kept = new Float64Array(1);

  constructor(
    private readonly accounts: Accounts,
    private readonly orders: Orders,
    private readonly instruments: Instruments,
  ) {
    // A command or an event notes at most two accounts, or one account and one order (whose
    // account is noted when it is read): past that, notes are dropped (less is read ahead).
    this.balances = new Int32Array(prefetchCommandsMax * 2);
    this.records = new Int32Array(prefetchCommandsMax * 2);
    this.orderSlots = new Int32Array(prefetchCommandsMax);
    this.orderIds = new Float64Array(prefetchCommandsMax);
    this.placedAccounts = new Int32Array(prefetchCommandsMax);
    this.placedIds = new Float64Array(prefetchCommandsMax);
  }

  /** Notes what the command at word `w` of `u32` will touch first (past capacity: nothing). */
  note(u32: Uint32Array, w: number): void {
    const bits = u32[w + CommandWord.bits];
    const kind = bits & 0xff;
    if (kind === CommandKind.CancelOrder || kind === CommandKind.AmendOrder) {
      this.noteOrder(readU64(u32, w + CommandWord.target));
      return;
    }
    const slot = this.accounts.slotOf(readU64(u32, w + CommandWord.account));
    if (slot < 0) return;
    const ref = u32[w + CommandWord.ref];
    if (kind === CommandKind.PlaceOrder) {
      this.noteBalance(slot, this.heldAsset(ref, (bits & sellBit) === 0 ? 0 : 1));
      this.notePlaced(slot, readU64(u32, w + SequencedWord.sequence));
      return;
    }
    this.noteBalance(slot, ref);
    if (kind !== CommandKind.Transfer && kind !== CommandKind.TransferPending) return;
    this.noteAccount(readU64(u32, w + CommandWord.target), ref);
  }

  /**
   * Notes what applying the event at word `e` of `u32` will touch first (a replica's or a
   * replay's read ahead): the accounts a ledger event or a trade moves, the order an order
   * event names. Events were checked when decided; this still only reads.
   */
  noteEvent(u32: Uint32Array, e: number): void {
    const kind = u32[e + EventWord.kindStatus] & 0xff;
    const ref = u32[e + EventWord.ref];
    switch (kind) {
      case EventKind.Transferred:
      case EventKind.PendingCreated:
        this.noteAccount(readU64(u32, e + EventWord.counterparty), ref);
        this.noteAccount(readU64(u32, e + EventWord.account), ref);
        return;
      case EventKind.Deposited:
      case EventKind.Withdrawn:
        this.noteAccount(readU64(u32, e + EventWord.account), ref);
        return;
      case EventKind.Trade:
        this.noteAccount(readU64(u32, e + EventWord.account), this.heldAsset(ref, 1));
        this.noteOrder(readU64(u32, e + EventWord.otherId)); // the maker, and its account
        return;
      case EventKind.OrderAccepted: {
        const side = (u32[e + EventWord.flagsTifStp] & EventFlag.Sell) === 0 ? 0 : 1;
        const slot = this.accounts.slotOf(readU64(u32, e + EventWord.account));
        if (slot < 0) return;
        this.noteBalance(slot, this.heldAsset(ref, side));
        if (readU64(u32, e + EventWord.aux) > 0)
          this.notePlaced(slot, readU64(u32, e + EventWord.id));
        return;
      }
      case EventKind.OrderCanceled:
      case EventKind.OrderAmended:
        this.noteOrder(readU64(u32, e + EventWord.id));
        return;
      default:
    }
  }

  /** Reads what was noted since the last call, and forgets it. */
  read(): void {
    const orders = this.orders;
    const ids = this.orderIds;
    const map = orders.map;
    let sum = 0;
    for (let k = 0; k < this.orderIdCount; k++) sum += map.entries[map.probeStart(ids[k])];
    for (let k = 0; k < this.orderIdCount; k++) {
      const o = orders.slotOf(ids[k]);
      if (o >= 0) this.orderSlots[this.orderCount++] = o;
    }
    for (let k = 0; k < this.orderCount; k++) {
      const o = this.orderSlots[k];
      const a = orders.account(o);
      this.noteBalance(a, this.heldAsset(orders.instrument(o), orders.side(o)));
      // Its links and its account's ends in the accounts' order lists, which it leaves.
      sum += orders.nextOfAccount(o) + orders.firstOfAccount(a);
    }
    const f64 = this.accounts.f64;
    for (let k = 0; k < this.balanceCount; k++) {
      sum += f64[this.records[k]] + f64[this.balances[k]];
    }
    for (let k = 0; k < this.placedCount; k++) {
      sum += orders.lastOfAccount(this.placedAccounts[k]);
      sum += map.entries[map.probeStart(this.placedIds[k])];
    }
    this.kept[0] += sum;
    this.placedCount = 0;
    this.orderIdCount = 0;
    this.orderCount = 0;
    this.balanceCount = 0;
  }

  /** The asset an order on `side` of instrument `ins` holds (0 for an unknown instrument). */
  private heldAsset(ins: number, side: number): number {
    return ins < this.instruments.countMax ? this.instruments.heldAsset(ins, side) : 0;
  }

  private noteAccount(id: number, asset: number): void {
    const slot = this.accounts.slotOf(id);
    if (slot >= 0) this.noteBalance(slot, asset);
  }

  /** Notes an order id to look up (in `read`, after its table entry has been read). */
  private noteOrder(id: number): void {
    if (id > 0 && this.orderIdCount < this.orderIds.length) this.orderIds[this.orderIdCount++] = id;
  }

  /** Notes a new order's account (its order list's end) and id (its table entry). */
  private notePlaced(slot: number, id: number): void {
    if (this.placedCount === this.placedIds.length) return;
    this.placedAccounts[this.placedCount] = slot;
    this.placedIds[this.placedCount++] = id;
  }

  /** Notes the account's first line (id, checksum keys) and its balance of `asset`. */
  private noteBalance(slot: number, asset: number): void {
    if (this.balanceCount === this.balances.length) return;
    const accounts = this.accounts;
    const b = slot * accounts.blockSize;
    const a = asset < accounts.blockSize >> 1 ? asset : 0;
    this.records[this.balanceCount] = b;
    this.balances[this.balanceCount++] = b + a * 2;
  }
}
