/**
 * Applying trading events: holds, settlement and book changes (see apply.ts for the two paths).
 *
 * A trade settles both accounts and the fee account in one step:
 *   buyer:  held quote -= notional + buyer fee     available base  += quantity
 *   seller: held base  -= quantity                 available quote += notional - seller fee
 *   fees:   available quote of the fee account += maker fee + taker fee
 *   maker (a buy): the hold left over after the fill (fee rounding) returns to available
 */
import { assert as assertImport } from '../../stdx/assert.js';
import { verify as verifyImport } from '../../constants.js';
import { EventFlag, EventKind, EventWord } from '../../protocol/event-layout.js';
import {
  readU64 as readU64Import,
  recordWordsMax as recordWordsMaxImport,
} from '../../stdx/records.js';
import type { Accounts } from '../ledger/accounts.js';
import type { Clients } from '../idempotency.js';
import type { Book } from './book.js';
import type { Instruments } from './instruments.js';
import { restingHold as restingHoldImport } from './matcher.js';
import { Side } from './orders.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const verify: typeof verifyImport = verifyImport;
const readU64: typeof readU64Import = readU64Import;
const restingHold: typeof restingHoldImport = restingHoldImport;
const recordWordsMax: typeof recordWordsMaxImport = recordWordsMaxImport;

/**
 * Masks an event's first word below recordWordsMax, changing nothing (the emitter's buffers and
 * Applier.apply's events are asserted below it): V8 then adds each field's `e + k` without an
 * overflow check and its jump (records.ts; emitter.ts's stamp does the same).
 */
const wordMask = recordWordsMax - 1;

export class OrderApplier {
  private readonly accounts: Accounts;
  private readonly instruments: Instruments;
  private readonly book: Book;
  private readonly clients: Clients;

  constructor(accounts: Accounts, instruments: Instruments, book: Book, clients: Clients) {
    this.accounts = accounts;
    this.instruments = instruments;
    this.book = book;
    this.clients = clients;
  }

  /** The replica path for order events: resolves ids, then the per-kind apply. */
  apply(u32: Uint32Array, e: number, kind: number): void {
    switch (kind) {
      case EventKind.OrderAccepted:
        return this.applyAccepted(u32, e, this.account(u32, e + EventWord.account));
      case EventKind.Trade:
        return this.applyTrade(
          u32,
          e,
          this.account(u32, e + EventWord.account),
          this.order(u32, e + EventWord.otherId),
        );
      case EventKind.OrderCanceled:
        return this.applyCanceled(u32, e, this.order(u32, e + EventWord.id));
      case EventKind.OrderAmended:
        return this.applyAmended(u32, e, this.order(u32, e + EventWord.id));
      default:
        return; // OrderExpired changes nothing: its quantity was never held.
    }
  }

  applyAccepted(u32: Uint32Array, at: number, account: number): void {
    const e = at & wordMask;
    this.checkAccount(u32, e + EventWord.account, account);
    const instrument = u32[e + EventWord.ref];
    const bits = u32[e + EventWord.flagsTifStp];
    const side = (bits & EventFlag.Sell) !== 0 ? Side.Sell : Side.Buy;
    const held = readU64(u32, e + EventWord.amount);
    if (held > 0)
      this.accounts.move(account, this.instruments.heldAsset(instrument, side), -held, held);
    const rest = readU64(u32, e + EventWord.aux);
    if (rest === 0) return;
    const postOnly = (bits & EventFlag.PostOnly) !== 0 ? 1 : 0;
    const clientId = u32[e + EventWord.clientId];
    assert(clientId !== 0, 'apply: a resting order has the client that placed it');
    const o = this.book.orders.acquire(
      readU64(u32, e + EventWord.id),
      account,
      instrument,
      side,
      postOnly,
      bits >>> 24,
      this.clients.slotFor(clientId),
    );
    this.book.rest(o, readU64(u32, e + EventWord.price), rest);
  }

  applyTrade(u32: Uint32Array, at: number, taker: number, makerOrder: number): void {
    const e = at & wordMask;
    const accounts = this.accounts;
    const ins = this.instruments;
    const orders = this.book.orders;
    this.checkAccount(u32, e + EventWord.account, taker);
    this.checkOrder(u32, e + EventWord.otherId, makerOrder);
    const instrument = u32[e + EventWord.ref];
    const base = ins.base[instrument];
    const quote = ins.quote[instrument];
    const maker = orders.account(makerOrder);
    const quantity = readU64(u32, e + EventWord.quantity);
    const notional = readU64(u32, e + EventWord.amount);
    const takerFee = readU64(u32, e + EventWord.fee);
    const makerFee = readU64(u32, e + EventWord.counterpartyFee);
    const takerSells = (u32[e + EventWord.flagsTifStp] & EventFlag.Sell) !== 0;
    const buyer = takerSells ? maker : taker;
    const seller = takerSells ? taker : maker;
    // One balance each (Accounts.moveAvailable says why not `move`).
    accounts.moveHeld(buyer, quote, -(notional + (takerSells ? makerFee : takerFee)));
    accounts.moveAvailable(buyer, base, quantity);
    accounts.moveHeld(seller, base, -quantity);
    accounts.moveAvailable(seller, quote, notional - (takerSells ? takerFee : makerFee));
    if (takerFee + makerFee > 0)
      accounts.moveAvailable(ins.feeAccountSlot[instrument], quote, takerFee + makerFee);
    const release = readU64(u32, e + EventWord.release);
    if (release > 0) accounts.hold(maker, quote, -release);
    assert(
      orders.open(makerOrder) - quantity === readU64(u32, e + EventWord.aux),
      'apply: maker open agrees',
    );
    this.book.lowerOpen(makerOrder, quantity);
  }

  applyCanceled(u32: Uint32Array, at: number, o: number): void {
    const e = at & wordMask;
    this.checkOrder(u32, e + EventWord.id, o);
    const orders = this.book.orders;
    const instrument = orders.instrument(o);
    const release = readU64(u32, e + EventWord.release);
    if (verify) {
      assert(
        release === restingHold(this.instruments, orders, instrument, o),
        'apply: cancel release',
      );
    }
    this.accounts.hold(
      orders.account(o),
      this.instruments.heldAsset(instrument, orders.side(o)),
      -release,
    );
    this.book.remove(o);
  }

  applyAmended(u32: Uint32Array, at: number, o: number): void {
    const e = at & wordMask;
    this.checkOrder(u32, e + EventWord.id, o);
    const orders = this.book.orders;
    const account = orders.account(o);
    const asset = this.instruments.heldAsset(orders.instrument(o), orders.side(o));
    const release = readU64(u32, e + EventWord.release);
    if (release > 0) this.accounts.hold(account, asset, -release);
    const quantity = readU64(u32, e + EventWord.quantity);
    if ((u32[e + EventWord.flagsTifStp] & EventFlag.PriorityKept) !== 0) {
      this.book.lowerOpen(o, orders.open(o) - quantity);
      return;
    }
    this.book.unlink(o);
    const held = readU64(u32, e + EventWord.amount);
    if (held > 0) this.accounts.hold(account, asset, held);
    const rest = readU64(u32, e + EventWord.aux);
    if (rest > 0) this.book.rest(o, readU64(u32, e + EventWord.price), rest);
    else orders.release(o);
  }

  private account(u32: Uint32Array, w: number): number {
    const slot = this.accounts.slotOf(readU64(u32, w));
    assert(slot !== -1, 'apply: account exists');
    return slot;
  }

  private order(u32: Uint32Array, w: number): number {
    const slot = this.book.orders.slotOf(readU64(u32, w));
    assert(slot !== -1, 'apply: order rests');
    return slot;
  }

  /** When verifying (apply.ts says why only then): slot `slot` holds the account at word `w`. */
  private checkAccount(u32: Uint32Array, w: number, slot: number): void {
    if (!verify) return;
    assert(
      slot >= 0 && this.accounts.id(slot) === readU64(u32, w),
      'apply: slot holds the account',
    );
  }

  /** When verifying: order slot `o` holds the order whose id is at word `w`. */
  private checkOrder(u32: Uint32Array, w: number, o: number): void {
    if (!verify) return;
    assert(o >= 0 && this.book.orders.id(o) === readU64(u32, w), 'apply: slot holds the order');
  }
}
