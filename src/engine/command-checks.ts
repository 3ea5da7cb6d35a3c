/** Checks every command passes before its kind is looked at. */
import { Status } from '../protocol/status.js';
import { CommandWord } from '../protocol/command-layout.js';
import { Idempotency } from './idempotency.js';
import type { CommandCursor } from './cursor.js';

/** The client seq must be 1 .. 2^53 - 1. */
export function clientSeqStatus(c: CommandCursor): Status {
  const hi = c.word(CommandWord.clientSeq + 1);
  if (hi > 0x1fffff) return Status.CommandClientSeqInvalid;
  if (hi === 0 && c.word(CommandWord.clientSeq) === 0) return Status.CommandClientSeqInvalid;
  return Status.Ok;
}

/** The rejection for an idempotency class (Ok for new commands and true duplicates). */
export function idempotencyStatus(cls: number): Status {
  switch (cls) {
    case Idempotency.OutOfOrder:
      return Status.IdempotencySeqOutOfOrder;
    case Idempotency.TooOld:
      return Status.IdempotencySeqTooOld;
    case Idempotency.TableFull:
      return Status.IdempotencyClientTableFull;
    case Idempotency.Reused:
      return Status.IdempotencySeqReused;
    default:
      return Status.Ok;
  }
}
