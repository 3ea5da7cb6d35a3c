/**
 * With a standby log (replication/standby-log.ts): LMDB's writes of the groups the log made
 * durable, off the acknowledgement's path. Everything that reached the log while LMDB's last
 * write was in flight goes in its next transaction, with the log's mark past it (so a start
 * replays only what LMDB lacks). One write at a time, in the log's order.
 *
 *   group commit ─► log append (one flush) ─► acknowledged
 *                                      └────► add() ─► queued ─► one LMDB transaction (its
 *                                                                 two flushes) ─► applied()
 */
import type { Entry } from '../replication/messages.js';
import type { ReplicaStore } from '../replication/replica-store.js';
import type { LogMark } from '../replication/standby-log.js';

export interface LogApplierSink {
  /** LMDB took more of the log. */
  applied(): void;
  /** LMDB's write failed: nothing more is written (the member must not ack or vote). */
  failed(error: Error): void;
}

/** What the applier writes into: a member's ReplicaStore (the simulation's model of one). */
export type AppliedStore = Pick<ReplicaStore, 'writeMany' | 'noteUnapplied' | 'dropApplied'>;

interface Logged {
  readonly writes: readonly (readonly Entry[])[];
  readonly committed: number;
  readonly after: LogMark;
}

export class LogApplier {
  private queued: Logged[] = [];
  private inFlight: Logged[] = [];
  private writing: Promise<void> | null = null;
  private broken = false;

  constructor(
    private readonly store: AppliedStore,
    private readonly sink: LogApplierSink,
  ) {}

  /**
   * Below every group LMDB does not hold yet: each cuts the journal from its first sequence,
   * so what LMDB holds there may still be a tail the log has cut. Infinity: LMDB holds all.
   */
  get below(): number {
    let below = Number.POSITIVE_INFINITY;
    for (const list of [this.inFlight, this.queued]) {
      for (const logged of list) {
        for (const entries of logged.writes) {
          if (entries.length > 0) below = Math.min(below, entries[0].first - 1);
        }
      }
    }
    return below;
  }

  /** A group the log holds (durable), up to `after`, for LMDB. */
  add(writes: readonly (readonly Entry[])[], committed: number, after: LogMark): void {
    this.queued.push({ writes, committed, after });
    this.store.noteUnapplied(writes);
    this.pump();
  }

  /** Resolves once LMDB holds everything added. @throws when one of its writes failed. */
  async idle(): Promise<void> {
    for (;;) {
      if (this.writing !== null) await this.writing;
      else if (this.queued.length > 0 && !this.broken) this.pump();
      else break;
    }
    if (this.broken) throw new Error("standby log: LMDB's write of it failed");
  }

  private pump(): void {
    if (this.writing !== null || this.queued.length === 0 || this.broken) return;
    const batch = this.queued;
    this.queued = [];
    this.inFlight = batch;
    const writes: (readonly Entry[])[] = [];
    let committed = 0;
    for (const logged of batch) {
      for (const entries of logged.writes) writes.push(entries);
      committed = Math.max(committed, logged.committed);
    }
    const mark = batch[batch.length - 1].after;
    this.writing = this.store.writeMany(writes, committed, mark).then(
      () => {
        this.writing = null;
        this.inFlight = [];
        this.store.dropApplied(writes);
        this.sink.applied();
        this.pump();
      },
      (error: Error) => {
        this.writing = null;
        this.broken = true;
        this.sink.failed(error);
      },
    );
  }
}
