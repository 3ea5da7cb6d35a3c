/**
 * Deciding administrative commands: create account, add asset, add instrument, halt and resume
 * an instrument, and Tick (which only advances logical time). Same contract as the other
 * deciders: Status.Ok with events emitted, or a rejection with nothing emitted.
 */
import { assetScaleMax, feeBpsMax } from '../constants.js';
import { Status } from '../protocol/status.js';
import { CommandWord } from '../protocol/command-layout.js';
import { EventKind, EventWord } from '../protocol/event-layout.js';
import {
  amountStatus as amountStatusImport,
  idStatus as idStatusImport,
} from '../protocol/command-fields.js';
import { readI64 as readI64Import, readU64 as readU64Import } from '../stdx/records.js';
import type { Accounts } from './ledger/accounts.js';
import type { Assets } from './ledger/assets.js';
import type { Instruments } from './order-book/instruments.js';
import type { CommandCursor } from './cursor.js';
import type { Emitter } from './emitter.js';
import type { Applier } from './apply.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const amountStatus: typeof amountStatusImport = amountStatusImport;
const idStatus: typeof idStatusImport = idStatusImport;
const readI64: typeof readI64Import = readI64Import;
const readU64: typeof readU64Import = readU64Import;

export class AdminDecider {
  private readonly accounts: Accounts;
  private readonly assets: Assets;
  private readonly instruments: Instruments;
  private readonly cursor: CommandCursor;
  private readonly emitter: Emitter;
  private readonly applier: Applier;

  constructor(
    accounts: Accounts,
    assets: Assets,
    instruments: Instruments,
    cursor: CommandCursor,
    emitter: Emitter,
    applier: Applier,
  ) {
    this.applier = applier;
    this.accounts = accounts;
    this.assets = assets;
    this.instruments = instruments;
    this.cursor = cursor;
    this.emitter = emitter;
  }

  decideCreateAccount(): Status {
    const c = this.cursor;
    const status = idStatus(c.u32, c.w + CommandWord.account);
    if (status !== Status.Ok) return status;
    const id = readU64(c.u32, c.w + CommandWord.account);
    if (this.accounts.slotOf(id) !== -1) return Status.LedgerAccountExists;
    if (this.accounts.isFull()) return Status.LedgerAccountTableFull;
    const e = this.emitter.begin(EventKind.AccountCreated, Status.Ok, 0, 0);
    this.emitter.set(e, EventWord.account, id);
    this.applier.applyAccountCreated(this.emitter.u32, e);
    return Status.Ok;
  }

  decideAddAsset(): Status {
    const c = this.cursor;
    const asset = c.word(CommandWord.ref);
    if (asset === 0 || asset >= this.assets.countMax) return Status.LedgerAssetIdInvalid;
    if (this.assets.exists(asset)) return Status.LedgerAssetExists;
    const scaleHi = c.word(CommandWord.aux + 1);
    const scale = c.word(CommandWord.aux);
    if (scaleHi !== 0 || scale > assetScaleMax) return Status.LedgerAssetScaleInvalid;
    const e = this.emitter.begin(EventKind.AssetAdded, Status.Ok, 0, asset);
    this.emitter.set(e, EventWord.aux, scale);
    this.applier.applyAssetAdded(this.emitter.u32, e);
    return Status.Ok;
  }

  decideAddInstrument(): Status {
    const c = this.cursor;
    const ins = this.instruments;
    const id = c.word(CommandWord.ref);
    if (id === 0 || id >= ins.countMax) return Status.MatchingInstrumentIdInvalid;
    if (ins.has(id)) return Status.MatchingInstrumentExists;
    const base = this.assetIn(CommandWord.target);
    const quote = this.assetIn(CommandWord.aux);
    if (base === -1 || quote === -1 || base === quote)
      return Status.MatchingInstrumentAssetsInvalid;
    let status = amountStatus(c.u32, c.w + CommandWord.price);
    if (status !== Status.Ok) return status;
    status = amountStatus(c.u32, c.w + CommandWord.quantity);
    if (status !== Status.Ok) return status;
    const bps = c.word(CommandWord.feeBps);
    const makerBps = bps & 0xffff;
    const takerBps = bps >>> 16;
    if (makerBps > feeBpsMax || takerBps > feeBpsMax) return Status.MatchingFeeInvalid;
    const noFeeAccount = c.word(CommandWord.account) === 0 && c.word(CommandWord.account + 1) === 0;
    if (noFeeAccount && bps !== 0) return Status.MatchingFeeInvalid;
    if (!noFeeAccount) {
      status = idStatus(c.u32, c.w + CommandWord.account);
      if (status !== Status.Ok) return status;
      const feeAccount = readU64(c.u32, c.w + CommandWord.account);
      if (this.accounts.slotOf(feeAccount) === -1) return Status.LedgerAccountUnknown;
    }
    const em = this.emitter;
    const e = em.begin(EventKind.InstrumentAdded, Status.Ok, 0, id);
    em.set(e, EventWord.account, noFeeAccount ? 0 : readU64(c.u32, c.w + CommandWord.account));
    em.set(e, EventWord.id, base);
    em.set(e, EventWord.otherId, quote);
    em.set(e, EventWord.price, readI64(c.u32, c.w + CommandWord.price));
    em.set(e, EventWord.quantity, readI64(c.u32, c.w + CommandWord.quantity));
    em.set(e, EventWord.fee, makerBps);
    em.set(e, EventWord.counterpartyFee, takerBps);
    this.applier.applyInstrumentAdded(em.u32, e);
    return Status.Ok;
  }

  decideHalt(halt: boolean): Status {
    const id = this.cursor.word(CommandWord.ref);
    if (!this.instruments.has(id)) return Status.MatchingInstrumentUnknown;
    const halted = this.instruments.halted[id] === 1;
    if (halt && halted) return Status.MatchingInstrumentAlreadyHalted;
    if (!halt && !halted) return Status.MatchingInstrumentNotHalted;
    const kind = halt ? EventKind.InstrumentHalted : EventKind.InstrumentResumed;
    const e = this.emitter.begin(kind, Status.Ok, 0, id);
    this.applier.applyHalted(this.emitter.u32, e, halt ? 1 : 0);
    return Status.Ok;
  }

  decideTick(): Status {
    this.emitter.begin(EventKind.Ticked, Status.Ok, 0, 0);
    return Status.Ok;
  }

  /** The known asset id in the 64-bit command field at `word`, or -1. */
  private assetIn(word: number): number {
    const c = this.cursor;
    if (c.word(word + 1) !== 0) return -1;
    const asset = c.word(word);
    return this.assets.exists(asset) ? asset : -1;
  }
}
