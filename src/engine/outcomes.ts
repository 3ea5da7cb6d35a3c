/**
 * Events that answer a command without changing state: a rejection (which copies the command's
 * fields, so the audit trail shows what was refused) and a duplicate (which points at the
 * original outcome).
 */
import { CommandKind, CommandWord } from '../protocol/command-layout.js';
import { EventKind, EventWord } from '../protocol/event-layout.js';
import { Status } from '../protocol/status.js';
import type { CommandCursor } from './cursor.js';
import type { Emitter } from './emitter.js';
import {
  recordedKind as recordedKindImport,
  recordedStatus as recordedStatusImport,
} from './idempotency.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const recordedKind: typeof recordedKindImport = recordedKindImport;
const recordedStatus: typeof recordedStatusImport = recordedStatusImport;

export function emitRejected(em: Emitter, c: CommandCursor, status: Status): void {
  const e = em.begin(EventKind.Rejected, status, 0, c.word(CommandWord.ref));
  copy64(em.u32, e + EventWord.account, c, CommandWord.account);
  copy64(em.u32, e + EventWord.counterparty, c, CommandWord.target);
  copy64(em.u32, e + EventWord.price, c, CommandWord.price);
  copy64(em.u32, e + EventWord.quantity, c, CommandWord.quantity);
  copy64(em.u32, e + EventWord.aux, c, CommandWord.aux);
}

/** A Duplicate of the command recorded with `outcome` (idempotency.ts) at `sequence`. */
export function emitDuplicate(
  em: Emitter,
  c: CommandCursor,
  outcome: number,
  sequence: number,
): void {
  const status = recordedStatus(outcome);
  const e = em.begin(EventKind.Duplicate, status, 0, c.word(CommandWord.ref));
  em.set(e, EventWord.otherId, sequence);
  // What the original created (an order, a transfer, a pending transfer) has its sequence for
  // an id: a client that resent a PlaceOrder after a failover needs the id to cancel it. The
  // original's kind decides (the resend's, for records kept before kinds were).
  const kind = recordedKind(outcome) || c.kind();
  if (status === Status.Ok && createsWithSequenceId(kind)) em.set(e, EventWord.id, sequence);
}

function createsWithSequenceId(kind: number): boolean {
  return (
    kind === CommandKind.PlaceOrder ||
    kind === CommandKind.Transfer ||
    kind === CommandKind.TransferPending
  );
}

function copy64(u32: Uint32Array, to: number, c: CommandCursor, from: number): void {
  u32[to] = c.word(from);
  u32[to + 1] = c.word(from + 1);
}
