/**
 * Deciding ledger commands: deposit, withdraw, transfer, and two-phase transfers (pending, then
 * post or void). Each `decide*` either returns Status.Ok having emitted the command's events, or
 * returns a rejection having emitted nothing. Outside a chain each applies its own event at once
 * (apply.ts). Inside a linked chain nothing is applied yet: decisions read through the chain's
 * overlay and record their effects there, and the chain's events are applied only if all stand.
 *
 * Command field indexes are `(c.w + CommandWord.x) | 0` (records.ts): an int32 add without an
 * overflow check and its jump, the same index for a record below word 2^31.
 */
import { Status } from '../../protocol/status.js';
import { CommandWord } from '../../protocol/command-layout.js';
import { EventKind, EventWord } from '../../protocol/event-layout.js';
import {
  amountStatus as amountStatusImport,
  idStatus as idStatusImport,
  nonNegativeStatus as nonNegativeStatusImport,
} from '../../protocol/command-fields.js';
import { readI64 as readI64Import, readU64 as readU64Import } from '../../stdx/records.js';
import { SAFE_MAX as SAFE_MAXImport } from '../../stdx/int.js';
import { assert as assertImport } from '../../stdx/assert.js';
import { verify as verifyImport } from '../../constants.js';
import type { Accounts } from './accounts.js';
import type { Assets } from './assets.js';
import type { PendingTransfers } from './pending-transfers.js';
import { LinkedChain, PendingMark } from './linked-chain.js';
import type { CommandCursor } from '../cursor.js';
import type { Emitter } from '../emitter.js';
import type { Applier } from '../apply.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const amountStatus: typeof amountStatusImport = amountStatusImport;
const idStatus: typeof idStatusImport = idStatusImport;
const nonNegativeStatus: typeof nonNegativeStatusImport = nonNegativeStatusImport;
const readI64: typeof readI64Import = readI64Import;
const readU64: typeof readU64Import = readU64Import;
const SAFE_MAX: typeof SAFE_MAXImport = SAFE_MAXImport;
const assert: typeof assertImport = assertImport;
const verify: typeof verifyImport = verifyImport;

export class LedgerDecider {
  private readonly accounts: Accounts;
  private readonly assets: Assets;
  private readonly pendings: PendingTransfers;
  private readonly chain: LinkedChain;
  private readonly cursor: CommandCursor;
  private readonly emitter: Emitter;
  private readonly applier: Applier;
  /** A pending transfer found by `loadPending`: debit slot, credit slot, asset, amount, expiry. */
  private readonly found = new Float64Array(5);
  /** Its slot in the pending table, or -1 when it was created earlier in this chain. */
  private foundSlot = -1;

  constructor(
    accounts: Accounts,
    assets: Assets,
    pendings: PendingTransfers,
    chain: LinkedChain,
    cursor: CommandCursor,
    emitter: Emitter,
    applier: Applier,
  ) {
    this.accounts = accounts;
    this.assets = assets;
    this.pendings = pendings;
    this.chain = chain;
    this.cursor = cursor;
    this.emitter = emitter;
    this.applier = applier;
  }

  decideDeposit(): Status {
    const c = this.cursor;
    const status = this.checkAccountAssetAmount();
    if (status !== Status.Ok) return status;
    const slot = this.accounts.slotOf(readU64(c.u32, (c.w + CommandWord.account) | 0));
    if (slot === -1) return Status.LedgerAccountUnknown;
    const asset = c.word(CommandWord.ref);
    const amount = readI64(c.u32, (c.w + CommandWord.quantity) | 0);
    if (this.supply(asset) + amount > SAFE_MAX) return Status.LedgerSupplyOverflow;
    const e = this.emitCommandMove(EventKind.Deposited, asset, false);
    if (!this.chain.active) {
      this.applier.applyDeposited(this.emitter.u32, e, slot);
    } else {
      this.chain.addBalance(this.accounts.balanceIndex(slot, asset), amount, 0);
      this.chain.supplyDelta[asset] += amount;
    }
    return Status.Ok;
  }

  decideWithdraw(): Status {
    const c = this.cursor;
    const status = this.checkAccountAssetAmount();
    if (status !== Status.Ok) return status;
    const slot = this.accounts.slotOf(readU64(c.u32, (c.w + CommandWord.account) | 0));
    if (slot === -1) return Status.LedgerAccountUnknown;
    const asset = c.word(CommandWord.ref);
    const amount = readI64(c.u32, (c.w + CommandWord.quantity) | 0);
    if (this.available(slot, asset) < amount) return Status.LedgerInsufficientFunds;
    const e = this.emitCommandMove(EventKind.Withdrawn, asset, false);
    if (!this.chain.active) {
      this.applier.applyWithdrawn(this.emitter.u32, e, slot);
    } else {
      this.chain.addBalance(this.accounts.balanceIndex(slot, asset), -amount, 0);
      this.chain.supplyDelta[asset] -= amount;
    }
    return Status.Ok;
  }

  decideTransfer(): Status {
    const status = this.checkTransferShape();
    if (status !== Status.Ok) return status;
    const c = this.cursor;
    const debit = this.accounts.slotOf(readU64(c.u32, (c.w + CommandWord.account) | 0));
    const credit = this.accounts.slotOf(readU64(c.u32, (c.w + CommandWord.target) | 0));
    if (debit === -1 || credit === -1) return Status.LedgerAccountUnknown;
    const asset = c.word(CommandWord.ref);
    const amount = readI64(c.u32, (c.w + CommandWord.quantity) | 0);
    if (this.available(debit, asset) < amount) return Status.LedgerInsufficientFunds;
    const e = this.emitCommandMove(EventKind.Transferred, asset, true);
    if (!this.chain.active) {
      this.applier.applyTransferred(this.emitter.u32, e, debit, credit);
    } else {
      this.chain.addBalance(this.accounts.balanceIndex(debit, asset), -amount, 0);
      this.chain.addBalance(this.accounts.balanceIndex(credit, asset), amount, 0);
    }
    return Status.Ok;
  }

  decideTransferPending(): Status {
    let status = this.checkTransferShape();
    if (status !== Status.Ok) return status;
    const c = this.cursor;
    status = nonNegativeStatus(c.u32, (c.w + CommandWord.aux) | 0);
    if (status !== Status.Ok) return Status.LedgerTimeoutInvalid;
    const debit = this.accounts.slotOf(readU64(c.u32, (c.w + CommandWord.account) | 0));
    const credit = this.accounts.slotOf(readU64(c.u32, (c.w + CommandWord.target) | 0));
    if (debit === -1 || credit === -1) return Status.LedgerAccountUnknown;
    const timeout = readI64(c.u32, (c.w + CommandWord.aux) | 0);
    const now = c.clock[1];
    if (now + timeout > SAFE_MAX) return Status.LedgerTimeoutInvalid;
    if (this.pendings.available() - this.chain.pendingCreated <= 0) {
      return Status.LedgerPendingTableFull;
    }
    const asset = c.word(CommandWord.ref);
    const amount = readI64(c.u32, (c.w + CommandWord.quantity) | 0);
    if (this.available(debit, asset) < amount) return Status.LedgerInsufficientFunds;
    const expiresAt = timeout === 0 ? 0 : now + timeout;
    const e = this.emitCommandMove(EventKind.PendingCreated, asset, true);
    this.emitter.set(e, EventWord.aux, expiresAt);
    if (!this.chain.active) this.applier.applyPendingCreated(this.emitter.u32, e, debit, credit);
    else this.notePendingCreated(debit, credit, asset, amount, expiresAt);
    return Status.Ok;
  }

  decideTransferPost(): Status {
    const c = this.cursor;
    let status = this.checkResolve();
    if (status !== Status.Ok) return status;
    status = amountStatus(c.u32, (c.w + CommandWord.quantity) | 0);
    if (status !== Status.Ok) return status;
    const posted = readI64(c.u32, (c.w + CommandWord.quantity) | 0);
    const f = this.found;
    if (posted > f[3]) return Status.LedgerPendingAmountExceeded;
    this.emitResolve(EventKind.PendingPosted, posted, f[3] - posted);
    return Status.Ok;
  }

  decideTransferVoid(): Status {
    const status = this.checkResolve();
    if (status !== Status.Ok) return status;
    this.emitResolve(EventKind.PendingVoided, 0, this.found[3]);
    return Status.Ok;
  }

  /** Available balance as the current decision sees it (state plus chain overlay). */
  available(slot: number, asset: number): number {
    const index = this.accounts.balanceIndex(slot, asset);
    let value = this.accounts.f64[index];
    if (this.chain.active) {
      const at = this.chain.findBalance(index);
      if (at !== -1) value += this.chain.availableDelta[at];
    }
    return value;
  }

  private supply(asset: number): number {
    return this.assets.supply[asset] + (this.chain.active ? this.chain.supplyDelta[asset] : 0);
  }

  /** Account id valid, asset known, amount positive and safe. */
  private checkAccountAssetAmount(): Status {
    const c = this.cursor;
    const status = idStatus(c.u32, (c.w + CommandWord.account) | 0);
    if (status !== Status.Ok) return status;
    if (!this.assets.exists(c.word(CommandWord.ref))) return Status.LedgerAssetUnknown;
    return amountStatus(c.u32, (c.w + CommandWord.quantity) | 0);
  }

  /** As above, plus a valid credit account id different from the debit one. */
  private checkTransferShape(): Status {
    const c = this.cursor;
    let status = this.checkAccountAssetAmount();
    if (status !== Status.Ok) return status;
    status = idStatus(c.u32, (c.w + CommandWord.target) | 0);
    if (status !== Status.Ok) return status;
    const sameLo = c.word(CommandWord.account) === c.word(CommandWord.target);
    const sameHi = c.word(CommandWord.account + 1) === c.word(CommandWord.target + 1);
    return sameLo && sameHi ? Status.LedgerSameAccount : Status.Ok;
  }

  /** Checks a post or void and loads its pending transfer into `found`. */
  private checkResolve(): Status {
    const c = this.cursor;
    let status = idStatus(c.u32, (c.w + CommandWord.account) | 0);
    if (status !== Status.Ok) return status;
    status = idStatus(c.u32, (c.w + CommandWord.target) | 0);
    if (status !== Status.Ok) return status;
    const id = readU64(c.u32, (c.w + CommandWord.target) | 0);
    if (!this.loadPending(id)) {
      return this.pendings.expired(id) ? Status.LedgerPendingExpired : Status.LedgerPendingUnknown;
    }
    const f = this.found;
    // Either side may resolve it: the payer, or the payee capturing (or releasing) what was
    // authorised to it, as a merchant does with a card hold.
    const acting = readU64(c.u32, (c.w + CommandWord.account) | 0);
    if (this.accounts.id(f[0]) !== acting && this.accounts.id(f[1]) !== acting) {
      return Status.LedgerPendingAccountMismatch;
    }
    if (f[4] !== 0 && f[4] <= c.clock[1]) return Status.LedgerPendingExpired;
    return Status.Ok;
  }

  /** Loads pending transfer `id` into `found`; false when unknown or resolved in this chain. */
  private loadPending(id: number): boolean {
    const f = this.found;
    const chain = this.chain;
    const at = chain.active ? chain.findPending(id) : -1;
    this.foundSlot = -1;
    if (at !== -1) {
      if (chain.pendingMark[at] === PendingMark.Resolved) return false;
      f[0] = chain.pendingDebitSlot[at];
      f[1] = chain.pendingCreditSlot[at];
      f[2] = chain.pendingAsset[at];
      f[3] = chain.pendingAmount[at];
      f[4] = chain.pendingExpiresAt[at];
      return true;
    }
    const slot = this.pendings.slotOf(id);
    if (slot === -1) return false;
    this.foundSlot = slot;
    const p = this.pendings;
    f[0] = p.debitSlot[slot];
    f[1] = p.creditSlot[slot];
    f[2] = p.asset[slot];
    f[3] = p.amount[slot];
    f[4] = p.expiresAt[slot];
    return true;
  }

  /** Emits a post or void of the pending transfer in `found`. */
  private emitResolve(kind: EventKind, posted: number, release: number): void {
    const c = this.cursor;
    const f = this.found;
    const e = this.emitMove(kind, f[2], f[0], f[1], posted);
    this.emitter.set(e, EventWord.id, readU64(c.u32, (c.w + CommandWord.target) | 0));
    this.emitter.set(e, EventWord.release, release);
    if (!this.chain.active) {
      this.applier.applyPendingResolved(this.emitter.u32, e, this.foundSlot);
      return;
    }
    this.chain.addBalance(this.accounts.balanceIndex(f[0], f[2]), release, -(posted + release));
    if (posted > 0) this.chain.addBalance(this.accounts.balanceIndex(f[1], f[2]), posted, 0);
    this.chain.markPending(readU64(c.u32, (c.w + CommandWord.target) | 0), PendingMark.Resolved);
  }

  /** Emits an event with account, counterparty (credit slot, or -1 for none) and amount. */
  private emitMove(
    kind: EventKind,
    asset: number,
    debit: number,
    credit: number,
    amount: number,
  ): number {
    const em = this.emitter;
    const e = em.begin(kind, Status.Ok, 0, asset);
    em.set(e, EventWord.account, this.accounts.id(debit));
    if (credit !== -1) em.set(e, EventWord.counterparty, this.accounts.id(credit));
    em.set(e, EventWord.amount, amount);
    return e;
  }

  /**
   * Emits an event whose account, counterparty (`credit`: the command's target, else none) and
   * amount are the command's account, target and quantity, copied word for word (Emitter.copy):
   * the decider found the accounts' slots by those ids and read the amount after amountStatus,
   * so these are the bytes emitMove writes from the slots' ids and the amount (verify checks).
   * A transfer (`credit`: Transferred, PendingCreated) also gets its id, its sequence.
   */
  private emitCommandMove(kind: EventKind, asset: number, credit: boolean): number {
    const em = this.emitter;
    // A transfer's account, counterparty, id and amount are all set below: beginTransfer
    // clears only the other payload words.
    const e = credit
      ? em.beginTransfer(kind, Status.Ok, 0, asset)
      : em.begin(kind, Status.Ok, 0, asset);
    em.copy(e, EventWord.account, CommandWord.account);
    em.copy(e, EventWord.amount, CommandWord.quantity);
    if (credit) {
      em.copy(e, EventWord.counterparty, CommandWord.target);
      em.setSequence(e, EventWord.id);
    }
    if (verify) this.checkCommandMove(e);
    return e;
  }

  /** Verify only: the copied fields hold what the decider read from the command. */
  private checkCommandMove(e: number): void {
    const c = this.cursor;
    const u32 = this.emitter.u32;
    const amount = readI64(c.u32, (c.w + CommandWord.quantity) | 0);
    assert(readU64(u32, e + EventWord.amount) === amount, 'ledger: copied amount');
    const debit = this.accounts.slotOf(readU64(c.u32, (c.w + CommandWord.account) | 0));
    assert(readU64(u32, e + EventWord.account) === this.accounts.id(debit), 'ledger: account');
  }

  private notePendingCreated(
    debit: number,
    credit: number,
    asset: number,
    amount: number,
    expiresAt: number,
  ): void {
    const chain = this.chain;
    const at = chain.markPending(this.cursor.clock[0], PendingMark.Created);
    chain.pendingDebitSlot[at] = debit;
    chain.pendingCreditSlot[at] = credit;
    chain.pendingAsset[at] = asset;
    chain.pendingAmount[at] = amount;
    chain.pendingExpiresAt[at] = expiresAt;
    chain.addBalance(this.accounts.balanceIndex(debit, asset), -amount, amount);
  }
}
