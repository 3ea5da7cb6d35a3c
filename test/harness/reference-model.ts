/**
 * The reference model: the engine's rules written a second time, as plainly as possible, with
 * Maps and objects. Property tests run the same commands through both and compare every event
 * and every balance. It shares no code with src/engine; only the protocol's enums, the fee
 * rounding rule (floor) and the fingerprint's hash steps (model-fingerprint.ts) are common ground.
 */
import { pendingExpiredRemembered, type EngineConfig } from '../../src/constants.js';
import { CommandFlag, CommandKind } from '../../src/protocol/command-layout.js';
import { EventFlag, EventKind } from '../../src/protocol/event-layout.js';
import { Status } from '../../src/protocol/status.js';
import { clientIdMax } from '../../src/protocol/command-writer.js';
import {
  cloneState,
  emptyState,
  type Balance,
  type ModelCommand,
  type ModelEvent,
  type ModelState,
} from './model-types.js';
import { cancelAll, cancelClientOrders, decideOrderCommand } from './reference-book.js';
import { fingerprintField, fingerprintIn, fingerprintOf } from './model-fingerprint.js';

export const SAFE = Number.MAX_SAFE_INTEGER;

/** Status of a value for an amount field: positive and safe. */
export function amountStatus(v: number): Status {
  if (v === 0) return Status.CommandAmountZero;
  if (v < 0) return Status.CommandAmountNegative;
  if (v > SAFE) return Status.CommandAmountTooLarge;
  return Status.Ok;
}

export function idStatus(v: number): Status {
  return v <= 0 || v > SAFE ? Status.CommandIdInvalid : Status.Ok;
}

/** Collects one command's events, stamping them as the engine does. */
export class EventSink {
  readonly events: ModelEvent[] = [];
  private cmd: ModelCommand | null = null;
  private system = false;
  private headPending = false;
  private recordPending = false;
  private fingerprint = 0;
  /** The head event, if it was recorded. */
  recordHead: ModelEvent | null = null;

  start(cmd: ModelCommand, system: boolean): void {
    this.cmd = cmd;
    this.system = system;
    this.headPending = !system;
    this.recordPending = false;
    this.recordHead = null;
  }

  markRecord(): void {
    this.recordPending = true;
    this.fingerprint = fingerprintOf(this.cmd as ModelCommand);
  }

  emit(
    kind: EventKind,
    status: Status,
    flags: number,
    ref: number,
    f: Partial<ModelEvent>,
  ): ModelEvent {
    const c = this.cmd as ModelCommand;
    let allFlags = flags;
    let head = false;
    if (this.headPending) {
      allFlags |= EventFlag.Head;
      if (((c.flags ?? 0) & CommandFlag.Linked) !== 0) allFlags |= EventFlag.Linked;
      if (this.recordPending) allFlags |= EventFlag.Record;
      head = this.recordPending;
      this.headPending = false;
    }
    const e: ModelEvent = {
      sequence: c.sequence,
      timestamp: c.timestamp,
      clientSeq: this.system ? 0 : c.clientSeq,
      clientId: this.system ? 0 : c.clientId,
      kind,
      commandKind: this.system ? 0 : c.kind,
      status,
      flags: allFlags,
      tif: this.system ? 0 : (c.tif ?? 0),
      stp: this.system ? 0 : (c.stp ?? 0),
      ref,
      account: 0,
      counterparty: 0,
      id: 0,
      otherId: 0,
      price: 0,
      quantity: 0,
      amount: 0,
      fee: 0,
      counterpartyFee: 0,
      release: 0,
      aux: 0,
      ...f,
    };
    if (head) {
      e[fingerprintField(kind)] = this.fingerprint >>> 0;
      this.recordHead = e;
    }
    this.events.push(e);
    return e;
  }

  rejected(status: Status): void {
    const c = this.cmd as ModelCommand;
    this.emit(EventKind.Rejected, status, 0, c.ref ?? 0, {
      account: c.account ?? 0,
      counterparty: c.target ?? 0,
      price: c.price ?? 0,
      quantity: c.quantity ?? 0,
      aux: c.aux ?? 0,
    });
  }

  /** A Duplicate of an original of `kind` (what it made, if anything, is named by its id). */
  duplicate(status: number, sequence: number, kind = 0): void {
    const c = this.cmd as ModelCommand;
    const creates = [CommandKind.PlaceOrder, CommandKind.Transfer, CommandKind.TransferPending];
    const id = status === Status.Ok && creates.includes(kind) ? sequence : 0;
    this.emit(EventKind.Duplicate, status, 0, c.ref ?? 0, { otherId: sequence, id });
  }
}

const enum Cls {
  New,
  Duplicate,
  OutOfOrder,
  TooOld,
  TableFull,
  /** The seq was recorded for another command (another fingerprint). */
  Reused,
}

export class ReferenceModel {
  state: ModelState = emptyState();
  readonly config: EngineConfig;
  private chain: ModelCommand[] = [];
  /** The client whose chain outgrew chainLengthMax, until the chain closes (0: none). */
  private overflowClient = 0;

  constructor(config: EngineConfig) {
    this.config = config;
  }

  balance(account: number, asset: number): Balance {
    return this.state.accounts.get(account)?.get(asset) ?? { available: 0, held: 0 };
  }

  /** Runs one command; returns its events (none while a linked chain stays open). */
  execute(cmd: ModelCommand): ModelEvent[] {
    const sink = new EventSink();
    const linked = ((cmd.flags ?? 0) & CommandFlag.Linked) !== 0;
    if (this.overflowClient !== 0 && this.overflowClient === cmd.clientId) {
      this.refuseOverflowed(sink, cmd, linked);
      return sink.events;
    }
    this.overflowClient = 0;
    if (this.chain.length > 0 && this.chain[0].clientId !== cmd.clientId) {
      this.rejectChain(sink, Status.LedgerLinkedChainOpen);
    }
    if (this.chain.length === 0) this.expire(sink, cmd);
    if ((this.chain.length > 0 || linked) && cmd.clientId !== 0) {
      this.linkedMember(sink, cmd, linked);
    } else {
      this.decideOne(sink, cmd);
    }
    return sink.events;
  }

  private expire(sink: EventSink, cmd: ModelCommand): void {
    sink.start(cmd, true);
    for (let n = 0; n < this.config.expiriesPerCommandMax; n++) {
      let due: { id: number; expiresAt: number } | null = null;
      for (const p of this.state.pendings.values()) {
        if (p.expiresAt === 0 || p.expiresAt > cmd.timestamp) continue;
        if (
          due === null ||
          p.expiresAt < due.expiresAt ||
          (p.expiresAt === due.expiresAt && p.id < due.id)
        )
          due = p;
      }
      if (due === null) return;
      const p = this.state.pendings.get(due.id)!;
      sink.emit(EventKind.PendingExpired, Status.Ok, 0, p.asset, {
        account: p.debit,
        counterparty: p.credit,
        id: p.id,
        release: p.amount,
      });
      this.resolvePending(this.state, p.id, 0);
      this.state.expired.push(p.id);
      if (this.state.expired.length > pendingExpiredRemembered) this.state.expired.shift();
    }
  }

  /** A chain that outgrew chainLengthMax: every member up to the closing one is rejected. */
  private refuseOverflowed(sink: EventSink, cmd: ModelCommand, linked: boolean): void {
    if (!linked) this.overflowClient = 0;
    this.decideOne(sink, cmd, Status.LedgerLinkedChainTooLong);
  }

  private decideOne(sink: EventSink, cmd: ModelCommand, refusal = Status.Ok): void {
    sink.start(cmd, false);
    if (cmd.clientId === 0) return sink.rejected(Status.CommandClientInvalid);
    if (cmd.clientSeq <= 0 || cmd.clientSeq > SAFE)
      return sink.rejected(Status.CommandClientSeqInvalid);
    const cls = this.classify(cmd.clientId, cmd.clientSeq, 0, fingerprintOf(cmd));
    if (cls.cls === Cls.Duplicate) return sink.duplicate(cls.status, cls.sequence, cls.kind);
    const idem = idempotencyStatus(cls.cls);
    let status = idem;
    if (idem === Status.Ok) {
      sink.markRecord();
      status = refusal === Status.Ok ? this.dispatch(sink, this.state, cmd, null) : refusal;
    }
    if (status !== Status.Ok) sink.rejected(status);
    if (sink.recordHead !== null) this.record(sink.recordHead);
  }

  /**
   * Idempotency class of (client, seq); `floor` is the last seq taken earlier in a chain. A
   * recorded seq is a duplicate when its fingerprint is `fingerprint` or not known (0).
   */
  private classify(
    clientId: number,
    seq: number,
    floor: number,
    fingerprint: number,
  ): { cls: Cls; status: number; sequence: number; kind?: number } {
    const client = this.state.clients.get(clientId);
    if (client === undefined) {
      // clientCountMax customers; the node's own ids (past clientIdMax) always find a slot.
      const customers = [...this.state.clients.keys()].filter((id) => id <= clientIdMax).length;
      if (clientId <= clientIdMax && customers >= this.config.clientCountMax)
        return { cls: Cls.TableFull, status: 0, sequence: 0 };
      return { cls: seq > floor ? Cls.New : Cls.OutOfOrder, status: 0, sequence: 0 };
    }
    if (seq > client.hwm)
      return { cls: seq > floor ? Cls.New : Cls.OutOfOrder, status: 0, sequence: 0 };
    const entry = client.log.find((e) => e.seq === seq);
    if (entry !== undefined) {
      const same = entry.fingerprint === 0 || entry.fingerprint === fingerprint;
      return { cls: same ? Cls.Duplicate : Cls.Reused, ...entry };
    }
    const forgotten = client.recorded > this.config.idempotencyWindow && seq < client.log[0].seq;
    return { cls: forgotten ? Cls.TooOld : Cls.OutOfOrder, status: 0, sequence: 0 };
  }

  private record(head: ModelEvent): void {
    let client = this.state.clients.get(head.clientId);
    if (client === undefined) {
      client = { hwm: 0, log: [], recorded: 0 };
      this.state.clients.set(head.clientId, client);
    }
    client.hwm = head.clientSeq;
    const { clientSeq: seq, sequence, status, commandKind: kind } = head;
    client.log.push({ seq, sequence, status, kind, fingerprint: fingerprintIn(head) });
    if (client.log.length > this.config.idempotencyWindow) client.log.shift();
    client.recorded++;
  }

  /** Decides and applies one command against `s`; `chainCreated` counts pendings in a chain. */
  dispatch(
    sink: EventSink,
    s: ModelState,
    cmd: ModelCommand,
    chain: { created: number } | null,
  ): Status {
    const bitsAbove = (cmd.flags ?? 0) | (cmd.tif ?? 0) | (cmd.stp ?? 0);
    if (cmd.kind !== CommandKind.PlaceOrder && chain === null && bitsAbove !== 0) {
      return Status.CommandFlagsInvalid;
    }
    switch (cmd.kind) {
      case CommandKind.CreateAccount:
        return this.createAccount(sink, s, cmd);
      case CommandKind.AddAsset:
        return this.addAsset(sink, s, cmd);
      case CommandKind.Deposit:
      case CommandKind.Withdraw:
      case CommandKind.Transfer:
        return this.move(sink, s, cmd);
      case CommandKind.TransferPending:
        return this.pending(sink, s, cmd, chain);
      case CommandKind.TransferPost:
      case CommandKind.TransferVoid:
        return this.resolve(sink, s, cmd);
      case CommandKind.AddInstrument:
        return this.addInstrument(sink, s, cmd);
      case CommandKind.HaltInstrument:
      case CommandKind.ResumeInstrument:
        return this.halt(sink, s, cmd);
      case CommandKind.Tick:
        sink.emit(EventKind.Ticked, Status.Ok, 0, 0, {});
        return Status.Ok;
      case CommandKind.PlaceOrder:
      case CommandKind.CancelOrder:
      case CommandKind.AmendOrder:
        return decideOrderCommand(sink, s, this.config, cmd);
      case CommandKind.CancelAll:
        return cancelAll(sink, s, this.config, cmd);
      case CommandKind.CancelClientOrders:
        return cancelClientOrders(sink, s, this.config, cmd);
      default:
        return Status.CommandKindUnknown;
    }
  }

  private createAccount(sink: EventSink, s: ModelState, cmd: ModelCommand): Status {
    const id = cmd.account ?? 0;
    if (idStatus(id) !== Status.Ok) return Status.CommandIdInvalid;
    if (s.accounts.has(id)) return Status.LedgerAccountExists;
    if (s.accounts.size >= this.config.accountCountMax) return Status.LedgerAccountTableFull;
    s.accounts.set(id, new Map());
    s.accountOrder.push(id);
    sink.emit(EventKind.AccountCreated, Status.Ok, 0, 0, { account: id });
    return Status.Ok;
  }

  private addAsset(sink: EventSink, s: ModelState, cmd: ModelCommand): Status {
    const asset = cmd.ref ?? 0;
    if (asset === 0 || asset >= this.config.assetCountMax) return Status.LedgerAssetIdInvalid;
    if (s.assets.has(asset)) return Status.LedgerAssetExists;
    const scale = cmd.aux ?? 0;
    if (scale < 0 || scale > 18) return Status.LedgerAssetScaleInvalid;
    s.assets.set(asset, { scale, supply: 0 });
    sink.emit(EventKind.AssetAdded, Status.Ok, 0, asset, { aux: scale });
    return Status.Ok;
  }

  private shapeStatus(s: ModelState, cmd: ModelCommand, transfer: boolean): Status {
    if (idStatus(cmd.account ?? 0) !== Status.Ok) return Status.CommandIdInvalid;
    if (!s.assets.has(cmd.ref ?? 0)) return Status.LedgerAssetUnknown;
    const amount = amountStatus(cmd.quantity ?? 0);
    if (amount !== Status.Ok || !transfer) return amount;
    if (idStatus(cmd.target ?? 0) !== Status.Ok) return Status.CommandIdInvalid;
    return cmd.account === cmd.target ? Status.LedgerSameAccount : Status.Ok;
  }

  private move(sink: EventSink, s: ModelState, cmd: ModelCommand): Status {
    const transfer = cmd.kind === CommandKind.Transfer;
    const status = this.shapeStatus(s, cmd, transfer);
    if (status !== Status.Ok) return status;
    const asset = cmd.ref ?? 0;
    const amount = cmd.quantity ?? 0;
    const from = cmd.account ?? 0;
    if (!s.accounts.has(from)) return Status.LedgerAccountUnknown;
    if (transfer && !s.accounts.has(cmd.target ?? 0)) return Status.LedgerAccountUnknown;
    const supply = s.assets.get(asset)!;
    if (cmd.kind === CommandKind.Deposit) {
      if (supply.supply + amount > SAFE) return Status.LedgerSupplyOverflow;
      bal(s, from, asset).available += amount;
      supply.supply += amount;
      sink.emit(EventKind.Deposited, Status.Ok, 0, asset, { account: from, amount });
      return Status.Ok;
    }
    if (bal(s, from, asset).available < amount) return Status.LedgerInsufficientFunds;
    bal(s, from, asset).available -= amount;
    if (cmd.kind === CommandKind.Withdraw) {
      supply.supply -= amount;
      sink.emit(EventKind.Withdrawn, Status.Ok, 0, asset, { account: from, amount });
      return Status.Ok;
    }
    bal(s, cmd.target ?? 0, asset).available += amount;
    sink.emit(EventKind.Transferred, Status.Ok, 0, asset, {
      account: from,
      counterparty: cmd.target,
      id: cmd.sequence,
      amount,
    });
    return Status.Ok;
  }

  private pending(
    sink: EventSink,
    s: ModelState,
    cmd: ModelCommand,
    chain: { created: number } | null,
  ): Status {
    const status = this.shapeStatus(s, cmd, true);
    if (status !== Status.Ok) return status;
    const timeout = cmd.aux ?? 0;
    if (timeout < 0 || timeout > SAFE) return Status.LedgerTimeoutInvalid;
    if (!s.accounts.has(cmd.account ?? 0) || !s.accounts.has(cmd.target ?? 0)) {
      return Status.LedgerAccountUnknown;
    }
    if (cmd.timestamp + timeout > SAFE) return Status.LedgerTimeoutInvalid;
    const base = chain === null ? s.pendings.size : this.chainPendingBase;
    const created = chain === null ? 0 : chain.created;
    if (this.config.pendingCountMax - base - created <= 0) return Status.LedgerPendingTableFull;
    const asset = cmd.ref ?? 0;
    const amount = cmd.quantity ?? 0;
    const b = bal(s, cmd.account ?? 0, asset);
    if (b.available < amount) return Status.LedgerInsufficientFunds;
    b.available -= amount;
    b.held += amount;
    const expiresAt = timeout === 0 ? 0 : cmd.timestamp + timeout;
    s.pendings.set(cmd.sequence, {
      id: cmd.sequence,
      debit: cmd.account ?? 0,
      credit: cmd.target ?? 0,
      asset,
      amount,
      expiresAt,
    });
    if (chain !== null) chain.created++;
    sink.emit(EventKind.PendingCreated, Status.Ok, 0, asset, {
      account: cmd.account,
      counterparty: cmd.target,
      id: cmd.sequence,
      amount,
      aux: expiresAt,
    });
    return Status.Ok;
  }

  private resolve(sink: EventSink, s: ModelState, cmd: ModelCommand): Status {
    if (idStatus(cmd.account ?? 0) !== Status.Ok) return Status.CommandIdInvalid;
    if (idStatus(cmd.target ?? 0) !== Status.Ok) return Status.CommandIdInvalid;
    const p = s.pendings.get(cmd.target ?? 0);
    if (p === undefined) {
      return s.expired.includes(cmd.target ?? 0)
        ? Status.LedgerPendingExpired
        : Status.LedgerPendingUnknown;
    }
    if (p.debit !== cmd.account && p.credit !== cmd.account) {
      return Status.LedgerPendingAccountMismatch;
    }
    if (p.expiresAt !== 0 && p.expiresAt <= cmd.timestamp) return Status.LedgerPendingExpired;
    let posted = 0;
    if (cmd.kind === CommandKind.TransferPost) {
      const status = amountStatus(cmd.quantity ?? 0);
      if (status !== Status.Ok) return status;
      posted = cmd.quantity ?? 0;
      if (posted > p.amount) return Status.LedgerPendingAmountExceeded;
    }
    const kind =
      cmd.kind === CommandKind.TransferPost ? EventKind.PendingPosted : EventKind.PendingVoided;
    sink.emit(kind, Status.Ok, 0, p.asset, {
      account: p.debit,
      counterparty: p.credit,
      id: p.id,
      amount: posted,
      release: p.amount - posted,
    });
    this.resolvePending(s, p.id, posted);
    return Status.Ok;
  }

  private resolvePending(s: ModelState, id: number, posted: number): void {
    const p = s.pendings.get(id)!;
    const debit = bal(s, p.debit, p.asset);
    debit.held -= p.amount;
    debit.available += p.amount - posted;
    bal(s, p.credit, p.asset).available += posted;
    s.pendings.delete(id);
  }

  private addInstrument(sink: EventSink, s: ModelState, cmd: ModelCommand): Status {
    const id = cmd.ref ?? 0;
    if (id === 0 || id >= this.config.instrumentCountMax) return Status.MatchingInstrumentIdInvalid;
    if (s.instruments.has(id)) return Status.MatchingInstrumentExists;
    const base = cmd.target ?? 0;
    const quote = cmd.aux ?? 0;
    if (!s.assets.has(base) || !s.assets.has(quote) || base === quote) {
      return Status.MatchingInstrumentAssetsInvalid;
    }
    let status = amountStatus(cmd.price ?? 0);
    if (status !== Status.Ok) return status;
    status = amountStatus(cmd.quantity ?? 0);
    if (status !== Status.Ok) return status;
    const maker = cmd.makerFeeBps ?? 0;
    const taker = cmd.takerFeeBps ?? 0;
    if (maker > 1000 || taker > 1000) return Status.MatchingFeeInvalid;
    const fee = cmd.account ?? 0;
    if (fee === 0 && (maker !== 0 || taker !== 0)) return Status.MatchingFeeInvalid;
    if (fee !== 0) {
      if (idStatus(fee) !== Status.Ok) return Status.CommandIdInvalid;
      if (!s.accounts.has(fee)) return Status.LedgerAccountUnknown;
    }
    s.instruments.set(id, {
      base,
      quote,
      tick: cmd.price ?? 0,
      lot: cmd.quantity ?? 0,
      makerBps: maker,
      takerBps: taker,
      feeAccount: fee,
      halted: false,
    });
    sink.emit(EventKind.InstrumentAdded, Status.Ok, 0, id, {
      account: fee,
      id: base,
      otherId: quote,
      price: cmd.price,
      quantity: cmd.quantity,
      fee: maker,
      counterpartyFee: taker,
    });
    return Status.Ok;
  }

  private halt(sink: EventSink, s: ModelState, cmd: ModelCommand): Status {
    const ins = s.instruments.get(cmd.ref ?? 0);
    if (ins === undefined) return Status.MatchingInstrumentUnknown;
    const halt = cmd.kind === CommandKind.HaltInstrument;
    if (halt && ins.halted) return Status.MatchingInstrumentAlreadyHalted;
    if (!halt && !ins.halted) return Status.MatchingInstrumentNotHalted;
    ins.halted = halt;
    sink.emit(
      halt ? EventKind.InstrumentHalted : EventKind.InstrumentResumed,
      Status.Ok,
      0,
      cmd.ref ?? 0,
      {},
    );
    return Status.Ok;
  }

  // ---- linked chains ------------------------------------------------------------------------

  private chainPendingBase = 0;

  private linkedMember(sink: EventSink, cmd: ModelCommand, linked: boolean): void {
    if (this.chain.length === this.config.chainLengthMax) {
      this.rejectChain(sink, Status.LedgerLinkedChainTooLong);
      this.overflowClient = cmd.clientId;
      this.refuseOverflowed(sink, cmd, linked);
      return;
    }
    this.chain.push(cmd);
    if (!linked) this.closeChain(sink);
  }

  private classifyChain(): Array<{
    cls: Cls;
    own: Status;
    status: number;
    sequence: number;
    kind?: number;
  }> {
    let floor = 0;
    const out: Array<{ cls: Cls; own: Status; status: number; sequence: number; kind?: number }> =
      [];
    for (const m of this.chain) {
      if (m.clientSeq <= 0 || m.clientSeq > SAFE) {
        out.push({
          cls: Cls.OutOfOrder,
          own: Status.CommandClientSeqInvalid,
          status: 0,
          sequence: 0,
        });
        continue;
      }
      const c = this.classify(m.clientId, m.clientSeq, floor, fingerprintOf(m));
      let own = idempotencyStatus(c.cls);
      if (c.cls === Cls.New) {
        floor = m.clientSeq;
        own = memberKindStatus(m);
      }
      out.push({ cls: c.cls, own, status: c.status, sequence: c.sequence, kind: c.kind });
    }
    return out;
  }

  private closeChain(sink: EventSink): void {
    const classes = this.classifyChain();
    const allNew = classes.every((c) => c.cls === Cls.New && c.own === Status.Ok);
    if (allNew) this.decideChain(sink);
    else {
      const anyDup = classes.some((c) => c.cls === Cls.Duplicate || c.cls === Cls.Reused);
      this.answerChain(
        sink,
        classes,
        anyDup ? Status.IdempotencyChainMixed : Status.LedgerLinkedEventFailed,
      );
    }
    this.chain = [];
  }

  private rejectChain(sink: EventSink, status: Status): void {
    this.answerChain(sink, this.classifyChain(), status);
    this.chain = [];
  }

  private answerChain(
    sink: EventSink,
    classes: Array<{ cls: Cls; own: Status; status: number; sequence: number; kind?: number }>,
    status: Status,
  ): void {
    this.chain.forEach((m, i) => {
      const c = classes[i];
      sink.start(m, false);
      if (c.cls === Cls.Duplicate) sink.duplicate(c.status, c.sequence, c.kind);
      else {
        if (c.cls === Cls.New || c.own === Status.Ok) sink.markRecord();
        sink.rejected(c.own !== Status.Ok ? c.own : status);
      }
      if (sink.recordHead !== null) this.record(sink.recordHead);
    });
  }

  private decideChain(sink: EventSink): void {
    const trial = cloneState(this.state);
    this.chainPendingBase = this.state.pendings.size;
    const chain = { created: 0 };
    const trialSink = new EventSink();
    const heads: ModelEvent[] = [];
    let failedAt = -1;
    let failure: Status = Status.Ok;
    for (let i = 0; i < this.chain.length && failedAt === -1; i++) {
      trialSink.start(this.chain[i], false);
      trialSink.markRecord();
      failure = this.dispatch(trialSink, trial, this.chain[i], chain);
      if (failure !== Status.Ok) failedAt = i;
      else heads.push(trialSink.recordHead!);
    }
    if (failedAt === -1) {
      this.state = trial;
      sink.events.push(...trialSink.events);
      for (const head of heads) this.record(head);
      return;
    }
    this.chain.forEach((m, i) => {
      sink.start(m, false);
      sink.markRecord();
      sink.rejected(i === failedAt ? failure : Status.LedgerLinkedEventFailed);
      this.record(sink.recordHead!);
    });
  }
}

function idempotencyStatus(cls: Cls): Status {
  if (cls === Cls.OutOfOrder) return Status.IdempotencySeqOutOfOrder;
  if (cls === Cls.TooOld) return Status.IdempotencySeqTooOld;
  if (cls === Cls.TableFull) return Status.IdempotencyClientTableFull;
  if (cls === Cls.Reused) return Status.IdempotencySeqReused;
  return Status.Ok;
}

function memberKindStatus(m: ModelCommand): Status {
  if (m.kind < CommandKind.Deposit || m.kind > CommandKind.TransferVoid)
    return Status.LedgerLinkedKindInvalid;
  const other = ((m.flags ?? 0) & ~CommandFlag.Linked) | (m.tif ?? 0) | (m.stp ?? 0);
  return other === 0 ? Status.Ok : Status.CommandFlagsInvalid;
}

/** The balance record of (account, asset), created on first use. */
export function bal(s: ModelState, account: number, asset: number): Balance {
  const balances = s.accounts.get(account)!;
  let b = balances.get(asset);
  if (b === undefined) {
    b = { available: 0, held: 0 };
    balances.set(asset, b);
  }
  return b;
}
