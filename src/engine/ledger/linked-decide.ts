/**
 * Deciding a closed linked chain as one unit (see linked-chain.ts for the buffer and overlay).
 *
 *   all members duplicates        -> a Duplicate event each (a retried chain)
 *   a member's seq used by another
 *     command (IdempotencySeqReused) -> it is rejected so; the others are answered as if it
 *                                    were a duplicate: nothing is decided
 *   some duplicates, some new     -> new members rejected IdempotencyChainMixed
 *   a member fails its own checks -> it is rejected with its reason, the others with
 *                                    LedgerLinkedEventFailed; nothing changes
 *   every member decides Ok       -> all their events stand and are applied together
 */
import { Status } from '../../protocol/status.js';
import { CommandKind, CommandWord, SequencedWord } from '../../protocol/command-layout.js';
import { Clients, Idempotency } from '../idempotency.js';
import type { CommandCursor } from '../cursor.js';
import type { Emitter } from '../emitter.js';
import {
  emitDuplicate as emitDuplicateImport,
  emitRejected as emitRejectedImport,
} from '../outcomes.js';
import {
  clientSeqStatus as clientSeqStatusImport,
  idempotencyStatus as idempotencyStatusImport,
} from '../command-checks.js';
import { commandFingerprint as commandFingerprintImport } from '../fingerprint.js';
import type { LedgerDecider } from './ledger-decide.js';
import type { LinkedChain } from './linked-chain.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const emitDuplicate: typeof emitDuplicateImport = emitDuplicateImport;
const emitRejected: typeof emitRejectedImport = emitRejectedImport;
const clientSeqStatus: typeof clientSeqStatusImport = clientSeqStatusImport;
const idempotencyStatus: typeof idempotencyStatusImport = idempotencyStatusImport;
const commandFingerprint: typeof commandFingerprintImport = commandFingerprintImport;

export class LinkedDecider {
  private readonly chain: LinkedChain;
  private readonly clients: Clients;
  private readonly ledger: LedgerDecider;
  private readonly cursor: CommandCursor;
  private readonly emitter: Emitter;
  /** Per member: its Idempotency class, and its own rejection status when it has one. */
  private readonly memberClass: Uint8Array;
  private readonly memberStatus: Uint16Array;
  private readonly memberFound: Int32Array;
  /** Per member: its fingerprint, computed once when classified (0 when its seq is invalid). */
  private readonly memberFingerprint: Int32Array;

  constructor(
    chain: LinkedChain,
    clients: Clients,
    ledger: LedgerDecider,
    cursor: CommandCursor,
    emitter: Emitter,
  ) {
    this.chain = chain;
    this.clients = clients;
    this.ledger = ledger;
    this.cursor = cursor;
    this.emitter = emitter;
    this.memberClass = new Uint8Array(chain.lengthMax);
    this.memberStatus = new Uint16Array(chain.lengthMax);
    this.memberFound = new Int32Array(chain.lengthMax);
    this.memberFingerprint = new Int32Array(chain.lengthMax);
  }

  /** Decides the buffered chain, which has just closed, and empties the buffer. */
  close(): void {
    const news = this.classify();
    const length = this.chain.length;
    if (news === length && !this.anyOwnStatus()) {
      this.decideMembers();
    } else {
      // A seq reused by another command is a used seq too: the chain mixes old and new.
      const used = this.countClass(Idempotency.Duplicate) + this.countClass(Idempotency.Reused);
      const anyDuplicate = used > 0;
      this.answer(anyDuplicate ? Status.IdempotencyChainMixed : Status.LedgerLinkedEventFailed);
    }
    this.chain.clear();
  }

  /** Rejects every buffered member with `status` (the chain cannot close) and empties it. */
  reject(status: Status): void {
    this.classify();
    this.answer(status);
    this.chain.clear();
  }

  /** Answers each member without deciding it: duplicates, own rejections, or `status`. */
  private answer(status: Status): void {
    const em = this.emitter;
    for (let i = 0; i < this.chain.length; i++) {
      this.pointAt(i);
      const cls = this.memberClass[i];
      if (cls === Idempotency.Duplicate) {
        const found = this.memberFound[i];
        const entries = this.clients.entries;
        emitDuplicate(em, this.cursor, entries[found + 2], entries[found + 1]);
      } else if (this.memberStatus[i] !== Status.Ok) {
        if (cls === Idempotency.New) em.markRecord(this.memberFingerprint[i]);
        emitRejected(em, this.cursor, this.memberStatus[i]);
      } else {
        em.markRecord(this.memberFingerprint[i]);
        emitRejected(em, this.cursor, status);
      }
    }
  }

  /** Decides every member against the overlay; on the first failure drops all their events. */
  private decideMembers(): void {
    const em = this.emitter;
    const start = em.count;
    this.chain.active = true;
    let failedAt = -1;
    let failure: Status = Status.Ok;
    for (let i = 0; i < this.chain.length && failedAt === -1; i++) {
      this.pointAt(i);
      em.markRecord(this.memberFingerprint[i]);
      failure = this.decideMember();
      if (failure !== Status.Ok) failedAt = i;
    }
    this.chain.active = false;
    if (failedAt === -1) return;
    em.rewind(start);
    for (let i = 0; i < this.chain.length; i++) {
      this.pointAt(i);
      em.markRecord(this.memberFingerprint[i]);
      emitRejected(em, this.cursor, i === failedAt ? failure : Status.LedgerLinkedEventFailed);
    }
  }

  private decideMember(): Status {
    const ledger = this.ledger;
    switch (this.cursor.kind()) {
      case CommandKind.Deposit:
        return ledger.decideDeposit();
      case CommandKind.Withdraw:
        return ledger.decideWithdraw();
      case CommandKind.Transfer:
        return ledger.decideTransfer();
      case CommandKind.TransferPending:
        return ledger.decideTransferPending();
      case CommandKind.TransferPost:
        return ledger.decideTransferPost();
      case CommandKind.TransferVoid:
        return ledger.decideTransferVoid();
      default:
        return Status.LedgerLinkedKindInvalid;
    }
  }

  /** Classifies every member for idempotency; returns how many are new. */
  private classify(): number {
    const clientId = this.chain.clientId();
    let floor = 0;
    let news = 0;
    for (let i = 0; i < this.chain.length; i++) {
      this.pointAt(i);
      this.memberStatus[i] = Status.Ok;
      let status = clientSeqStatus(this.cursor);
      let cls: number = Idempotency.OutOfOrder;
      this.memberFingerprint[i] = 0;
      if (status === Status.Ok) {
        const clientSeq = this.cursor.clientSeq();
        const fingerprint = commandFingerprint(this.cursor.u32, this.cursor.w);
        this.memberFingerprint[i] = fingerprint;
        cls = this.clients.check(clientId, clientSeq, floor, fingerprint);
        this.memberFound[i] = this.clients.foundIndex;
        status = idempotencyStatus(cls);
        if (cls === Idempotency.New) {
          floor = clientSeq;
          news++;
          status = this.memberKindStatus();
        }
      }
      this.memberClass[i] = cls;
      this.memberStatus[i] = status;
    }
    return news;
  }

  /** A member's own shape problem: a kind that cannot be linked, or stray flags. */
  private memberKindStatus(): Status {
    const kind = this.cursor.kind();
    if (kind < CommandKind.Deposit || kind > CommandKind.TransferVoid) {
      return Status.LedgerLinkedKindInvalid;
    }
    return this.cursor.word(CommandWord.bits) >>> 9 === 0 ? Status.Ok : Status.CommandFlagsInvalid;
  }

  private anyOwnStatus(): boolean {
    for (let i = 0; i < this.chain.length; i++) if (this.memberStatus[i] !== Status.Ok) return true;
    return false;
  }

  private countClass(cls: number): number {
    let n = 0;
    for (let i = 0; i < this.chain.length; i++) if (this.memberClass[i] === cls) n++;
    return n;
  }

  private pointAt(i: number): void {
    this.cursor.point(this.chain.commands.u32, i * SequencedWord.size);
    this.emitter.startCommand(this.cursor);
  }
}
