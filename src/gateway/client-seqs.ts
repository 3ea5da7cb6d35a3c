/**
 * Where each client id left off, for Welcome's next client seq (docs/PROTOCOL.md): one past
 * the highest seq the engine decided for it, or this gateway accepted from it since.
 *
 *   the read model ──(load: at listen, and again when a standby starts serving)──► highest
 *   accepted commands (binary and HTTP) ─────────────(note: raise to their seq)──► highest
 *
 * Welcome stays synchronous, so that nothing of an old session's commands can reach a new
 * session before its Welcome. Until a load has answered, the next seq is unknown (0) and the
 * client picks its own.
 */
import { acceptedSeqClientsMax, clientSeqsRetryMs, commandSizeBytes } from '../constants.js';
import { CommandWord } from '../protocol/command-layout.js';
import { readU64At } from '../stdx/records.js';
import type { StateReads } from './reads.js';

export class ClientSeqs {
  private readonly highest = new Map<number, number>();
  private known = false;
  /** The current load (a newer one supersedes it); -1: closed. */
  private generation = 0;

  constructor(private readonly reads: StateReads | null) {}

  /** (Re)loads the engine's table, merged with what was noted; resolves once it answered. */
  load(): Promise<void> {
    if (this.reads === null || this.generation < 0) return Promise.resolve();
    this.known = false;
    const generation = ++this.generation;
    return this.reads.query({ what: 'clients' }).then(
      (answer) => {
        if (generation !== this.generation) return;
        const pairs = answer.body as Float64Array;
        for (let i = 0; i < pairs.length; i += 2) this.note(pairs[i], pairs[i + 1]);
        this.known = true;
      },
      () => {
        // The read model was busy (a snapshot): try again; Welcome says "unknown" meanwhile.
        if (generation !== this.generation) return;
        setTimeout(() => void this.load(), clientSeqsRetryMs).unref();
      },
    );
  }

  /**
   * A command of `clientId` with `seq` was accepted (or decided). Only a valid seq (1 to
   * 2^53 - 1) counts: the engine rejects any other (CommandClientSeqInvalid), and one such as
   * 2^64 - 1 read as a double made Welcome say 18446744073709552000, after which every command
   * of the client's next session was refused as too old.
   */
  note(clientId: number, seq: number): void {
    if (!isClientSeq(seq)) return;
    const seen = this.highest.get(clientId);
    if (seen !== undefined && seen >= seq) return;
    if (seen === undefined && this.highest.size >= acceptedSeqClientsMax) {
      // More client ids than any deployment has (or someone inventing them): start over
      // from the engine's table, which its capacity bounds.
      this.highest.clear();
      void this.load();
    }
    this.highest.set(clientId, seq);
  }

  /** The seq a new session of `clientId` should start at; 0 when not known yet. */
  next(clientId: number): number {
    return this.known ? (this.highest.get(clientId) ?? 0) + 1 : 0;
  }

  close(): void {
    this.generation = -1;
  }
}

/** A client seq the engine may accept: a whole number from 1 to 2^53 - 1. */
function isClientSeq(seq: number): boolean {
  return Number.isSafeInteger(seq) && seq >= 1;
}

/** The client seq of a Commands frame's first command; 0 when that one is not valid. */
export function frameFirstSeq(view: DataView, start: number): number {
  const seq = readU64At(view, start + CommandWord.clientSeq * 4);
  return isClientSeq(seq) ? seq : 0;
}

/**
 * The seq a Commands frame raises its client's to: its last command's, or when that one is
 * invalid (and rejected), the last valid one before it. Seqs increase within a frame, so this
 * reads one command, and walks back only over a frame's invalid tail.
 */
export function frameClientSeq(view: DataView, start: number, count: number): number {
  for (let i = count - 1; i >= 0; i--) {
    const seq = readU64At(view, start + i * commandSizeBytes + CommandWord.clientSeq * 4);
    if (isClientSeq(seq)) return seq;
  }
  return 0;
}
