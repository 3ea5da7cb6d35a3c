/**
 * The business-logic processor: a pure, synchronous, deterministic state machine.
 *
 *   command ──► decide ──► events ──► apply ──► state
 *               (reads state,          (the only writer)
 *                writes nothing)
 *
 * `execute` is the primary's path: it decides one command and applies the events it wrote.
 * `apply` is the replica's path: replay and hot standbys apply journaled events only, so every
 * replica runs the same state-changing code. No I/O, no clock, no randomness: the sequencer
 * passes the sequence number and the logical timestamp in. All memory is allocated here, in the
 * constructor, from the config; nothing on the per-command path allocates.
 */
import { assert as assertImport } from '../stdx/assert.js';
import {
  emptyImage,
  PrefixSource,
  usedBytes,
  type ArraySource,
  type Imaged,
  type StateImage,
} from '../stdx/state-image.js';
import {
  assertConstants,
  assertEngineConfig,
  eventsPerCommandMax,
  type EngineConfig,
} from '../constants.js';
import { Status } from '../protocol/status.js';
import { CommandFlag, CommandKind, CommandWord } from '../protocol/command-layout.js';
import { EventKind, EventWord } from '../protocol/event-layout.js';
import type { RecordBuffer } from '../stdx/records.js';
import { StateChecksum } from './checksum.js';
import { CommandCursor } from './cursor.js';
import { Emitter } from './emitter.js';
import { Accounts } from './ledger/accounts.js';
import { Assets } from './ledger/assets.js';
import { PendingTransfers } from './ledger/pending-transfers.js';
import { LinkedChain } from './ledger/linked-chain.js';
import { LedgerDecider } from './ledger/ledger-decide.js';
import { LinkedDecider } from './ledger/linked-decide.js';
import { Clients, Idempotency } from './idempotency.js';
import { Instruments } from './order-book/instruments.js';
import { Orders } from './order-book/orders.js';
import { Levels } from './order-book/levels.js';
import { Book } from './order-book/book.js';
import { Matcher } from './order-book/matcher.js';
import { OrderDecider } from './order-book/order-decide.js';
import { CancelAllDecider } from './order-book/cancel-all.js';
import { AdminDecider } from './admin-decide.js';
import { CancelCoverDecider } from './cancel-cover.js';
import { Applier } from './apply.js';
import { Prefetcher } from './prefetch.js';
import {
  emitDuplicate as emitDuplicateImport,
  emitRejected as emitRejectedImport,
} from './outcomes.js';
import {
  clientSeqStatus as clientSeqStatusImport,
  idempotencyStatus as idempotencyStatusImport,
} from './command-checks.js';
import { commandFingerprint as commandFingerprintImport } from './fingerprint.js';

// Imports the hot path calls, held in module constants: TurboFan folds a module constant to its
// value, but reads an import through its cell at every use, testing it (initialised yet? the same
// function?): ~6 instructions each (callgrind). Same functions; only the reads differ. Every hot
// engine and stdx module does so for its own imports (a shared module of them would be an import).
const assert: typeof assertImport = assertImport;
const emitDuplicate: typeof emitDuplicateImport = emitDuplicateImport;
const emitRejected: typeof emitRejectedImport = emitRejectedImport;
const clientSeqStatus: typeof clientSeqStatusImport = clientSeqStatusImport;
const idempotencyStatus: typeof idempotencyStatusImport = idempotencyStatusImport;
const commandFingerprint: typeof commandFingerprintImport = commandFingerprintImport;

export class Engine {
  readonly config: EngineConfig;
  /** The most events one `execute` call writes: reserve this much room in `out`. */
  readonly eventsPerCommandMax: number;
  readonly checksum = new StateChecksum();
  readonly accounts: Accounts;
  readonly assets: Assets;
  readonly pendings: PendingTransfers;
  readonly clients: Clients;
  readonly instruments: Instruments;
  readonly orders: Orders;
  readonly levels: Levels;
  readonly book: Book;
  private readonly cursor = new CommandCursor();
  private readonly emitter: Emitter;
  private readonly chain: LinkedChain;
  private readonly ledger: LedgerDecider;
  private readonly linked: LinkedDecider;
  private readonly orderDecider: OrderDecider;
  private readonly cancelAll: CancelAllDecider;
  private readonly admin: AdminDecider;
  private readonly cover: CancelCoverDecider;
  private readonly applier: Applier;
  private readonly prefetcher: Prefetcher;
  /** [last decided sequence, last decided timestamp]. */
  private readonly decided = new Float64Array(2);
  /** Events of the current `execute` call already applied. */
  private appliedCount = 0;

  /**
   * `joinStamps`: keep each resting order's place in its level (Orders.joinedAt), for a read
   * model's queries; the processor's engine does without.
   */
  constructor(config: EngineConfig, joinStamps = false) {
    assertConstants();
    assertEngineConfig(config);
    this.config = config;
    this.eventsPerCommandMax = eventsPerCommandMax(config);
    const checksum = this.checksum;
    this.accounts = new Accounts(config, checksum);
    this.assets = new Assets(config, checksum);
    this.pendings = new PendingTransfers(config, checksum);
    this.clients = new Clients(config, checksum);
    this.instruments = new Instruments(config, checksum);
    this.orders = new Orders(config, this.clients.slotCountMax, joinStamps);
    this.levels = new Levels(config);
    this.book = new Book(this.orders, this.levels, checksum, this.clients.ids);
    this.chain = new LinkedChain(config);
    this.applier = new Applier(
      this.accounts,
      this.assets,
      this.pendings,
      this.clients,
      this.instruments,
      this.book,
    );
    const cursor = this.cursor;
    const em = new Emitter(this.eventsPerCommandMax);
    this.emitter = em;
    const applier = this.applier;
    this.ledger = new LedgerDecider(
      this.accounts,
      this.assets,
      this.pendings,
      this.chain,
      cursor,
      em,
      applier,
    );
    this.linked = new LinkedDecider(this.chain, this.clients, this.ledger, cursor, em);
    const matcher = new Matcher(config, this.accounts, this.orders, this.levels, this.instruments);
    this.orderDecider = new OrderDecider(
      this.accounts,
      this.instruments,
      this.orders,
      this.levels,
      matcher,
      cursor,
      em,
      applier.orders,
    );
    this.cancelAll = new CancelAllDecider(
      config,
      this.accounts,
      this.clients,
      this.instruments,
      this.orders,
      cursor,
      em,
      this.orderDecider.taker,
    );
    this.prefetcher = new Prefetcher(this.accounts, this.orders, this.instruments);
    this.admin = new AdminDecider(
      this.accounts,
      this.assets,
      this.instruments,
      cursor,
      em,
      applier,
    );
    this.cover = new CancelCoverDecider(this.clients, cursor, em);
  }

  /**
   * True while a linked chain is open: its members are decided, and get their events, only
   * when it closes. State images exclude it (restore drops it), so an image taken now is not
   * at a command boundary, whatever `position()` says: expiries run before a member is
   * buffered and stamp their events with its sequence.
   */
  chainOpen(): boolean {
    return this.chain.length > 0;
  }

  /**
   * The logical time (µs) at which the next pending transfer expires, or 0 when none waits.
   * Expiry only runs before a command, so the node's timer reads this (through the processor)
   * to send a Tick when it is due; the engine itself never looks at a clock.
   */
  nextExpiryUs(): number {
    const heap = this.pendings.expiries;
    return heap.size === 0 ? 0 : heap.peekKey();
  }

  /** Sequence and timestamp of the last applied event. */
  position(): Float64Array {
    return this.applier.position;
  }

  /**
   * The whole state as parts, for a snapshot (allocates). The arrays are live views: copy them
   * before the next command or event changes them.
   */
  image(): StateImage {
    const image = emptyImage();
    image.arrays.push(this.checksum.lanes, this.applier.position);
    const parts = this.parts();
    for (let i = 0; i < parts.length; i++) parts[i].saveImage(image);
    this.clients.saveMarksImage(image); // last: layout 6 snapshots hold the arrays before it
    return image;
  }

  /**
   * Loads a state saved by `image()` from an engine with the same config: its arrays, in the
   * same order (as bytes, each given shorter than it is when the rest is zeros; or as a sparse
   * snapshot's ArraySource), and the counters. `lengths`: the full byte lengths, checked against
   * this engine's. Any open linked chain is dropped (it was never durable). Only the bytes this
   * state may hold past its base are cleared (StateImage.used), so restoring into a fresh engine
   * writes, and maps, only what is given.
   */
  restore(
    arrays: readonly Uint8Array[] | ArraySource,
    counters: readonly number[],
    lengths: readonly number[],
  ): void {
    const source = Array.isArray(arrays) ? new PrefixSource(arrays) : (arrays as ArraySource);
    this.orders.clearLists(); // derived from the records, which are about to change
    const target = this.image();
    assert(source.count === target.arrays.length, 'engine: snapshot has every array');
    assert(lengths.length === target.arrays.length, 'engine: snapshot has every length');
    for (let i = 0; i < source.count; i++) {
      const view = target.arrays[i];
      assert(lengths[i] === view.byteLength, 'engine: snapshot array sizes match');
      const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      source.write(i, bytes, usedBytes(target, i));
    }
    let at = 0;
    const parts = this.parts();
    for (let i = 0; i < parts.length; i++) at = parts[i].loadCounters(counters, at);
    assert(at === counters.length, 'engine: snapshot has every counter');
    this.orders.rebuildLists(new Float64Array(this.orders.pool.used()));
    this.book.restampLevels();
    this.decided[0] = this.applier.position[0];
    this.decided[1] = this.applier.position[1];
    this.chain.clear();
  }

  private parts(): Imaged[] {
    return [
      this.accounts,
      this.assets,
      this.pendings,
      this.clients,
      this.instruments,
      this.orders,
      this.levels,
    ];
  }

  /**
   * Decides the SequencedCommand at word `w` of `cmd` and applies its events. Events go to `out`
   * from index `outStart`, which must leave `eventsPerCommandMax` free. Returns how many were
   * written (zero while a linked chain stays open: its events come when it closes).
   */
  execute(cmd: Uint32Array, w: number, out: RecordBuffer, outStart: number): number {
    const c = this.cursor;
    c.point(cmd, w);
    assert(c.clock[0] === this.decided[0] + 1, 'engine: sequences are gapless');
    assert(c.clock[1] >= this.decided[1], 'engine: time goes forward');
    assert(outStart + this.eventsPerCommandMax <= out.capacity, 'engine: room for events');
    this.decided[0] = c.clock[0];
    this.decided[1] = c.clock[1];
    const em = this.emitter;
    em.reset(out, outStart);
    this.appliedCount = outStart;
    const chain = this.chain;
    if (chain.overflowClient !== 0) {
      if (chain.overflowClient === cmd[w + CommandWord.clientId]) {
        this.refuseOverflowed();
        this.applier.advanceTo(c.clock);
        return em.count - outStart;
      }
      chain.overflowClient = 0;
    }
    if (chain.length > 0 && chain.clientId() !== cmd[w + CommandWord.clientId]) {
      this.linked.reject(Status.LedgerLinkedChainOpen);
      this.applyPending();
      c.point(cmd, w);
    }
    if (chain.length === 0 && this.pendings.expiries.size > 0) this.expire();
    const linked = (c.flags() & CommandFlag.Linked) !== 0;
    if ((chain.length > 0 || linked) && c.word(CommandWord.clientId) !== 0) {
      this.decideLinked(cmd, w, linked);
      this.applyPending();
      if (em.count > outStart) this.applier.advanceTo(c.clock);
    } else {
      // A command decided alone always has events (its head at least), so the position moves
      // before the call, while the applier and the clock are at hand: after it, TurboFan checks
      // every object's map again (~25 instructions a command).
      this.applier.advanceTo(c.clock);
      this.decideOne();
      assert(em.count > outStart, 'engine: a command decided alone has events');
    }
    return em.count - outStart;
  }

  /**
   * Reading ahead (prefetch.ts), changing nothing: note each of up to `prefetchCommandsMax`
   * commands (the command at word `w` of `cmd`), then `prefetchRead` the state they will touch
   * first, then decide them: their cache misses overlap instead of following one another.
   */
  prefetchNote(cmd: Uint32Array, w: number): void {
    this.prefetcher.note(cmd, w);
  }

  /** The same for an event about to be applied (a replica's or a replay's read ahead). */
  prefetchNoteEvent(u32: Uint32Array, w: number): void {
    this.prefetcher.noteEvent(u32, w);
  }

  /** Reads what was noted (prefetch.ts). */
  prefetchRead(): void {
    this.prefetcher.read();
  }

  /**
   * Makes a replica (built by `restore` and `apply`) ready to decide: the next command follows
   * the last applied event. Recovery calls it before the processor takes commands again.
   */
  takeOver(): void {
    this.decided[0] = this.applier.position[0];
    this.decided[1] = this.applier.position[1];
    this.chain.clear();
  }

  /** Applies the event at index `index` of `events` (the replica path). */
  apply(events: RecordBuffer, index: number): void {
    this.applier.apply(events.u32, index * EventWord.size);
  }

  /** Applies the event at word `w` of `u32` (the replica path, from any aligned view). */
  applyAt(u32: Uint32Array, w: number): void {
    this.applier.apply(u32, w);
  }

  /** Applies, through the generic replica path, events written but not yet applied. */
  private applyPending(): void {
    const em = this.emitter;
    for (let i = this.appliedCount; i < em.count; i++)
      this.applier.apply(em.u32, i * EventWord.size);
    this.appliedCount = em.count;
  }

  /** Expires due pending transfers, a bounded number per command, in (expiry, id) order. */
  private expire(): void {
    const pendings = this.pendings;
    const heap = pendings.expiries;
    const em = this.emitter;
    const c = this.cursor;
    em.startSystem(c);
    for (let n = 0; n < this.config.expiriesPerCommandMax; n++) {
      if (heap.size === 0 || heap.peekKey() > c.clock[1]) break;
      const slot = heap.peek();
      const e = em.begin(EventKind.PendingExpired, Status.Ok, 0, pendings.asset[slot]);
      em.set(e, EventWord.account, this.accounts.id(pendings.debitSlot[slot]));
      em.set(e, EventWord.counterparty, this.accounts.id(pendings.creditSlot[slot]));
      em.set(e, EventWord.id, pendings.ids[slot]);
      em.set(e, EventWord.release, pendings.amount[slot]);
      this.applier.applyPendingResolved(em.u32, e, slot);
    }
    this.appliedCount = em.count;
  }

  /**
   * Decides one command outside any chain; its decider applies what it emits. A `refusal` other
   * than Ok rejects a new command with that status instead of deciding it.
   */
  private decideOne(refusal: Status = Status.Ok): void {
    const em = this.emitter;
    const c = this.cursor;
    em.startCommand(c);
    const clientId = c.word(CommandWord.clientId);
    let status = clientId === 0 ? Status.CommandClientInvalid : clientSeqStatus(c);
    if (status === Status.Ok) {
      // Computed for every command: a new one records it, a repeat is compared with it.
      const fingerprint = commandFingerprint(c.u32, c.w);
      const cls = this.clients.check(clientId, c.clientSeq(), 0, fingerprint);
      if (cls === Idempotency.Duplicate) {
        emitDuplicate(em, c, this.clients.foundOutcome(), this.clients.foundSequence());
        this.appliedCount = em.count;
        return;
      }
      // A new command (nearly every one) skips the switch of idempotencyStatus.
      status = cls === Idempotency.New ? Status.Ok : idempotencyStatus(cls);
      if (status === Status.Ok) {
        em.markRecord(fingerprint);
        status = refusal === Status.Ok ? this.dispatch() : refusal;
      }
    }
    if (status !== Status.Ok) emitRejected(em, c, status);
    if (em.recordHead >= 0) {
      assert(em.headKeepsFingerprint(), 'engine: no payload overwrites the fingerprint');
      this.applier.recordOutcome(em.u32, em.recordHead);
    }
    this.appliedCount = em.count;
  }

  /** Buffers a chain member; decides the chain when this command closes it. */
  private decideLinked(cmd: Uint32Array, w: number, linked: boolean): void {
    const chain = this.chain;
    if (chain.length === chain.lengthMax) {
      this.linked.reject(Status.LedgerLinkedChainTooLong);
      this.applyPending();
      this.cursor.point(cmd, w);
      chain.overflowClient = cmd[w + CommandWord.clientId];
      this.refuseOverflowed();
      return;
    }
    chain.push(cmd, w);
    if (!linked) this.linked.close();
  }

  /**
   * Rejects a member of a chain that outgrew the buffer, from the one that overflowed it to the
   * one that closes it: the whole chain fails, as linked commands must, rather than its tail
   * standing alone as a new chain. Each is checked and recorded for idempotency as usual.
   */
  private refuseOverflowed(): void {
    if ((this.cursor.flags() & CommandFlag.Linked) === 0) this.chain.overflowClient = 0;
    this.decideOne(Status.LedgerLinkedChainTooLong);
  }

  private dispatch(): Status {
    const c = this.cursor;
    const kind = c.kind();
    if (kind !== CommandKind.PlaceOrder && c.word(CommandWord.bits) >>> 8 !== 0) {
      return Status.CommandFlagsInvalid;
    }
    switch (kind) {
      case CommandKind.CreateAccount:
        return this.admin.decideCreateAccount();
      case CommandKind.AddAsset:
        return this.admin.decideAddAsset();
      case CommandKind.Deposit:
        return this.ledger.decideDeposit();
      case CommandKind.Withdraw:
        return this.ledger.decideWithdraw();
      case CommandKind.Transfer:
        return this.ledger.decideTransfer();
      case CommandKind.TransferPending:
        return this.ledger.decideTransferPending();
      case CommandKind.TransferPost:
        return this.ledger.decideTransferPost();
      case CommandKind.TransferVoid:
        return this.ledger.decideTransferVoid();
      case CommandKind.AddInstrument:
        return this.admin.decideAddInstrument();
      case CommandKind.HaltInstrument:
        return this.admin.decideHalt(true);
      case CommandKind.ResumeInstrument:
        return this.admin.decideHalt(false);
      case CommandKind.PlaceOrder:
        return this.orderDecider.decidePlaceOrder();
      case CommandKind.CancelOrder:
        return this.orderDecider.decideCancelOrder();
      case CommandKind.AmendOrder:
        return this.orderDecider.decideAmendOrder();
      case CommandKind.Tick:
        return this.admin.decideTick();
      case CommandKind.CancelAll:
        return this.cancelAll.decide();
      case CommandKind.CancelClientOrders:
        return this.cancelAll.decideClient();
      case CommandKind.SetCancelOnDisconnect:
        return this.cover.decide();
      default:
        return Status.CommandKindUnknown;
    }
  }
}
