/**
 * A standby's group commit of the entries it receives, with the fsync off the event loop:
 * every append that arrived while the last write went to disk goes into the next transaction,
 * then one status. Writing synchronously blocked the event loop for each fsync; under load a
 * standby then read heartbeats too late, stood for election, and deposed a healthy primary.
 *
 *   append ─► add() ─► pending ──(turn ends)──► one transaction, fsync ─► stored(index, hash)
 *   append ─► add() ─► pending ─┐                      │ (in flight)
 *                               └──── next transaction, once that one is on disk
 */
import { lastSequenceOf, type Entry } from '../replication/messages.js';
import type { ReplicaStore } from '../replication/replica-store.js';

export interface GroupCommitSink {
  /** Everything up to `index`, ending with `hash`, is on disk: `events` more of them. */
  stored(index: number, hash: string, events: number): void;
  /** A write failed: nothing more is written (the member must not ack or vote). */
  failed(error: Error): void;
  /** The highest event sequence committed: the store records it with each write. */
  committedSequence(): number;
  /** True once the member stops: writes in flight finish, no new one starts. */
  stopped(): boolean;
  /** A write of entries up to `index` starts (stage-times.ts). */
  writing(index: number): void;
}

export class GroupCommit {
  /** Entries received but not yet written, and where the log ends once they are. */
  private pending: (readonly Entry[])[] = [];
  private pendingEnd: { index: number; hash: string } | null = null;
  /** The transaction on its way to disk, if any. */
  private storing: Promise<void> | null = null;
  private broken = false;

  constructor(
    private readonly store: ReplicaStore,
    private readonly sink: GroupCommitSink,
  ) {}

  /** True once a write failed. */
  get failed(): boolean {
    return this.broken;
  }

  /** True while entries are being written, or wait to be: `stored` follows (or `failed`). */
  get writing(): boolean {
    return this.storing !== null || (this.pending.length > 0 && !this.broken);
  }

  /** Entries `at`.. to write, the last ending the log at `index`. */
  add(entries: readonly Entry[], index: number): void {
    this.pending.push(entries);
    this.pendingEnd = { index, hash: entries[entries.length - 1].hash };
    if (this.pending.length === 1 && this.storing === null) setImmediate(() => this.flush());
  }

  private flush(): void {
    if (this.storing !== null) return;
    const writes = this.pending;
    const end = this.pendingEnd;
    this.pending = [];
    if (writes.length === 0 || end === null || this.sink.stopped() || this.broken) return;
    let events = 0;
    for (const entries of writes) for (const entry of entries) events += entry.count;
    this.sink.writing(end.index);
    this.storing = this.writeAll(writes).then(
      () => {
        this.storing = null;
        if (this.sink.stopped()) return;
        this.sink.stored(end.index, end.hash, events);
        // After the microtasks stored() queued, one of which sends the status: the next write
        // begins in the call (ReplicaStore.writeMany), and the wake-up of LMDB's thread could
        // otherwise take the core before the status left.
        queueMicrotask(() => this.flush());
      },
      (error: Error) => {
        this.storing = null;
        this.broken = true;
        this.sink.failed(error);
      },
    );
  }

  /** Resolves once everything received is stored (before the workers take over). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.storing !== null) await this.storing;
      else if (this.pending.length > 0 && !this.sink.stopped()) this.flush();
      else return;
    }
  }

  /**
   * At a clean stop (the member is stopped already): waits for the write in flight, then
   * stores what was received and not yet stored, so that the journal is what memory held (a
   * drill reads every stopped replica's disk; a standby caught up, by its commit, but 7,040
   * events short on disk failed the check as not identical). Rejects if that write fails.
   */
  async storeLeft(): Promise<void> {
    if (this.storing !== null) await this.storing;
    const writes = this.pending;
    this.pending = [];
    if (writes.length === 0 || this.broken) return;
    await this.writeAll(writes);
  }

  /** Stores `writes` in one transaction, with the commit as far as they reach. */
  private writeAll(writes: readonly (readonly Entry[])[]): Promise<void> {
    const last = writes[writes.length - 1];
    const stored = lastSequenceOf(last[last.length - 1]);
    return this.store.writeMany(writes, Math.min(this.sink.committedSequence(), stored));
  }
}
