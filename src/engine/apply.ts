/**
 * Apply: the only code that changes engine state, one function per event kind.
 *
 *   primary:  decideX ──► emit event e ──► applyX(e, slots decide found)
 *   replica:  apply(e) ──► resolve ids to slots ──► applyX(e, slots)
 *
 * Both paths run the same applyX, which reads every amount from the event itself, so the event
 * is the whole truth and replay, standbys and the primary build the same state. The primary
 * skips only the generic dispatch and the id lookups decide already did; with BOURSE_VERIFY=1,
 * applyX asserts that the slots it is given hold the event's ids. (Measured: a generic
 * re-dispatch of every event on the primary cost 3x in throughput, mostly in instruction-cache
 * misses.) That check is a verify one: reading an id back from the event and comparing it cost
 * ~35-60 instructions a party, ~110 of a command's ~4,950 on the mixed workload (callgrind), and
 * on the replica path it only compares the slot with the lookup that just found it.
 */
import { assert as assertImport } from '../stdx/assert.js';
import { verify as verifyImport } from '../constants.js';
import { mixNumber as mixNumberImport } from '../stdx/hash.js';
import { EventFlag, EventKind, EventWord } from '../protocol/event-layout.js';
import {
  readU64 as readU64Import,
  recordWordsMax as recordWordsMaxImport,
} from '../stdx/records.js';
import type { Accounts } from './ledger/accounts.js';
import type { Assets } from './ledger/assets.js';
import type { PendingTransfers } from './ledger/pending-transfers.js';
import type { Clients } from './idempotency.js';
import type { Instruments } from './order-book/instruments.js';
import type { Book } from './order-book/book.js';
import { OrderApplier } from './order-book/order-apply.js';
import { applyCoverSet as applyCoverSetImport } from './cancel-cover.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const verify: typeof verifyImport = verifyImport;
const mixNumber: typeof mixNumberImport = mixNumberImport;
const readU64: typeof readU64Import = readU64Import;
const recordWordsMax: typeof recordWordsMaxImport = recordWordsMaxImport;
const applyCoverSet: typeof applyCoverSetImport = applyCoverSetImport;

export class Applier {
  /** [last applied sequence, last applied timestamp]. */
  readonly position = new Float64Array(2);
  readonly orders: OrderApplier;
  private readonly accounts: Accounts;
  private readonly assets: Assets;
  private readonly pendings: PendingTransfers;
  private readonly clients: Clients;
  private readonly instruments: Instruments;

  constructor(
    accounts: Accounts,
    assets: Assets,
    pendings: PendingTransfers,
    clients: Clients,
    instruments: Instruments,
    book: Book,
  ) {
    this.accounts = accounts;
    this.assets = assets;
    this.pendings = pendings;
    this.clients = clients;
    this.instruments = instruments;
    this.orders = new OrderApplier(accounts, instruments, book, clients);
  }

  /** The replica path: applies the event at word `e` of `u32`, whatever its kind. */
  apply(u32: Uint32Array, e: number): void {
    // The appliers mask word indexes below recordWordsMax (order-apply.ts): none is above it.
    assert(e < recordWordsMax, 'apply: event word within recordWordsMax');
    this.advance(u32, e);
    if ((u32[e + EventWord.flagsTifStp] & EventFlag.Record) !== 0) this.recordOutcome(u32, e);
    const kind = u32[e + EventWord.kindStatus] & 0xff;
    if (kind >= EventKind.OrderAccepted && kind <= EventKind.OrderAmended) {
      this.orders.apply(u32, e, kind);
    } else if (kind >= EventKind.Deposited && kind <= EventKind.PendingExpired) {
      this.applyLedger(u32, e, kind);
    } else {
      this.applyAdmin(u32, e, kind);
    }
  }

  /** Moves the applied position to the event's sequence and timestamp. */
  advance(u32: Uint32Array, e: number): void {
    const sequence = readU64(u32, e + EventWord.sequence);
    const timestamp = readU64(u32, e + EventWord.timestamp);
    // A command's events share its sequence, and every command has events (a linked chain's
    // members get theirs when it closes), so the next event is at most one sequence on. A
    // larger step is an event lost or read from the wrong place (a ring slot a lap ahead).
    const step = sequence - this.position[0];
    assert(step === 0 || step === 1, 'apply: events follow without a gap');
    assert(timestamp >= this.position[1], 'apply: time goes forward');
    this.position[0] = sequence;
    this.position[1] = timestamp;
  }

  /** Moves the applied position to the [sequence, timestamp] of the command just executed. */
  advanceTo(clock: Float64Array): void {
    assert(clock[0] >= this.position[0], 'apply: sequence goes forward');
    assert(clock[1] >= this.position[1], 'apply: time goes forward');
    this.position[0] = clock[0];
    this.position[1] = clock[1];
  }

  /**
   * Remembers a command's outcome for idempotent retries (its head event, flagged Record), with
   * the fingerprint the head carries (0 in events written before it did: not known).
   */
  recordOutcome(u32: Uint32Array, e: number): void {
    this.clients.record(u32, e);
  }

  applyDeposited(u32: Uint32Array, e: number, slot: number): void {
    const asset = u32[e + EventWord.ref];
    const amount = readU64(u32, e + EventWord.amount);
    this.accounts.moveAvailable(this.check(u32, e + EventWord.account, slot), asset, amount);
    this.assets.changeSupply(asset, amount);
  }

  applyWithdrawn(u32: Uint32Array, e: number, slot: number): void {
    const asset = u32[e + EventWord.ref];
    const amount = readU64(u32, e + EventWord.amount);
    this.accounts.moveAvailable(this.check(u32, e + EventWord.account, slot), asset, -amount);
    this.assets.changeSupply(asset, -amount);
  }

  applyTransferred(u32: Uint32Array, e: number, debit: number, credit: number): void {
    const asset = u32[e + EventWord.ref];
    const amount = readU64(u32, e + EventWord.amount);
    // One balance each (Accounts.moveAvailable says why not `move`).
    this.accounts.moveAvailable(this.check(u32, e + EventWord.account, debit), asset, -amount);
    this.accounts.moveAvailable(this.check(u32, e + EventWord.counterparty, credit), asset, amount);
  }

  applyPendingCreated(u32: Uint32Array, e: number, debit: number, credit: number): void {
    const asset = u32[e + EventWord.ref];
    const amount = readU64(u32, e + EventWord.amount);
    this.check(u32, e + EventWord.account, debit);
    this.check(u32, e + EventWord.counterparty, credit);
    this.accounts.move(debit, asset, -amount, amount);
    this.pendings.create(
      readU64(u32, e + EventWord.id),
      debit,
      credit,
      asset,
      amount,
      readU64(u32, e + EventWord.aux),
      this.accounts.id(debit),
    );
  }

  /** Post, void or expiry: the held amount goes to the credit account (posted) or back. */
  applyPendingResolved(u32: Uint32Array, e: number, slot: number): void {
    const p = this.pendings;
    assert(p.ids[slot] === readU64(u32, e + EventWord.id), 'apply: pending slot holds the id');
    const debit = p.debitSlot[slot];
    const asset = p.asset[slot];
    const posted = readU64(u32, e + EventWord.amount);
    const release = readU64(u32, e + EventWord.release);
    assert(posted + release === p.amount[slot], 'apply: pending resolves its whole amount');
    this.accounts.move(debit, asset, release, -(posted + release));
    if (posted > 0) this.accounts.move(p.creditSlot[slot], asset, posted, 0);
    if ((u32[e + EventWord.kindStatus] & 0xff) === EventKind.PendingExpired)
      p.noteExpired(p.ids[slot]);
    p.remove(slot, this.accounts.id(debit));
  }

  applyAccountCreated(u32: Uint32Array, e: number): void {
    this.accounts.create(readU64(u32, e + EventWord.account));
  }

  applyAssetAdded(u32: Uint32Array, e: number): void {
    this.assets.add(u32[e + EventWord.ref], u32[e + EventWord.aux]);
  }

  applyInstrumentAdded(u32: Uint32Array, e: number): void {
    const feeAccount = readU64(u32, e + EventWord.account);
    const feeSlot = feeAccount === 0 ? -1 : this.accounts.slotOf(feeAccount);
    assert(feeAccount === 0 || feeSlot !== -1, 'apply: fee account exists');
    let config = 0;
    for (let w = EventWord.account; w < EventWord.release; w += 2) {
      config = mixNumber(config, readU64(u32, e + w));
    }
    this.instruments.add(
      u32[e + EventWord.ref],
      u32[e + EventWord.id],
      u32[e + EventWord.otherId],
      readU64(u32, e + EventWord.price),
      readU64(u32, e + EventWord.quantity),
      u32[e + EventWord.fee],
      u32[e + EventWord.counterpartyFee],
      feeSlot,
      config,
    );
  }

  applyHalted(u32: Uint32Array, e: number, halted: number): void {
    this.instruments.setHalted(u32[e + EventWord.ref], halted);
  }

  private applyLedger(u32: Uint32Array, e: number, kind: number): void {
    switch (kind) {
      case EventKind.Deposited:
        return this.applyDeposited(u32, e, this.find(u32, e + EventWord.account));
      case EventKind.Withdrawn:
        return this.applyWithdrawn(u32, e, this.find(u32, e + EventWord.account));
      case EventKind.Transferred:
        return this.applyTransferred(
          u32,
          e,
          this.find(u32, e + EventWord.account),
          this.find(u32, e + EventWord.counterparty),
        );
      case EventKind.PendingCreated:
        return this.applyPendingCreated(
          u32,
          e,
          this.find(u32, e + EventWord.account),
          this.find(u32, e + EventWord.counterparty),
        );
      default: {
        const slot = this.pendings.slotOf(readU64(u32, e + EventWord.id));
        assert(slot !== -1, 'apply: pending transfer exists');
        return this.applyPendingResolved(u32, e, slot);
      }
    }
  }

  private applyAdmin(u32: Uint32Array, e: number, kind: number): void {
    switch (kind) {
      case EventKind.AccountCreated:
        return this.applyAccountCreated(u32, e);
      case EventKind.AssetAdded:
        return this.applyAssetAdded(u32, e);
      case EventKind.InstrumentAdded:
        return this.applyInstrumentAdded(u32, e);
      case EventKind.InstrumentHalted:
        return this.applyHalted(u32, e, 1);
      case EventKind.InstrumentResumed:
        return this.applyHalted(u32, e, 0);
      case EventKind.CancelOnDisconnectSet:
        return applyCoverSet(this.clients, u32, e);
      case EventKind.Rejected:
      case EventKind.Duplicate:
      case EventKind.Ticked:
      case EventKind.AllCanceled: // its OrderCanceled events that follow change the state
        return;
      default:
        assert(false, 'apply: unknown event kind');
    }
  }

  /** The slot of the account whose id is at word `w`. */
  private find(u32: Uint32Array, w: number): number {
    const slot = this.accounts.slotOf(readU64(u32, w));
    assert(slot !== -1, 'apply: account exists');
    return slot;
  }

  /** Asserts (when verifying) that `slot` holds the account id at word `w`; returns the slot. */
  private check(u32: Uint32Array, w: number, slot: number): number {
    // A slot of -1 reads outside the table (undefined), so this also rejects "no slot".
    if (verify) {
      assert(this.accounts.id(slot) === readU64(u32, w), 'apply: slot holds the account');
    }
    return slot;
  }
}
