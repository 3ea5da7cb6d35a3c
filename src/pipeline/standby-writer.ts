/**
 * A hot standby's journal writer: its group commits (group-commit.ts) go to a thread of their
 * own, which stores each in one synchronous LMDB transaction with its fsync, as the primary's
 * journal writer does, and says when it is durable. The event loop never waits on the disk (it
 * must keep reading heartbeats), and a group starts to be written as soon as it is handed over.
 *
 *   event loop                               writer thread (standby-writer-worker.ts)
 *   writeMany(groups) ─ pack, move buffer ──► transactionSync { cut, put, committed } + fsync
 *   resolves ◄──────────────── 'stored' ───── (durable)      or 'failed' (nothing stored)
 *   rejects  ◄──────────── thread error/exit (every write waiting, and every one after)
 *
 * It replaced lmdb-js's asynchronous writes (ReplicaStore.writeMany, until this change): their
 * commit began in a setImmediate of lmdb-js's own (one more turn of a busy event loop) and
 * ended in a callback through it; bench/RESULTS.md has the figures.
 */
import { Worker } from 'node:worker_threads';
import type { Entry } from '../replication/messages.js';
import { packWrites, type PackedWrites } from '../replication/standby-journal.js';
import type { EntryWriter } from './group-commit.js';

export interface StandbyWriterData {
  dataDir: string;
}

export type WriterRequest = { type: 'write'; id: number; packed: PackedWrites } | { type: 'close' };

export type WriterReply =
  | { type: 'ready' }
  | { type: 'stored'; id: number }
  | {
      type: 'failed';
      id: number;
      name: string;
      message: string;
      code: number | string | undefined;
    };

interface Waiting {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class StandbyWriter implements EntryWriter {
  /** The writer thread (a test ends it to see a dying writer reported). */
  readonly thread: Worker;
  /** Writes handed over and not answered yet, by id (GroupCommit has one in flight). */
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  /** Why the thread cannot write any more (it failed or exited), once it cannot. */
  private dead: Error | null = null;
  private closing: Promise<void> | null = null;
  /** Resolves once the thread has opened the storage; rejects if it cannot. */
  readonly ready: Promise<void>;
  private opened: () => void = () => {};

  constructor(readonly dataDir: string) {
    const url = new URL('./standby-writer-worker.js', import.meta.url);
    this.thread = new Worker(url, { workerData: { dataDir } satisfies StandbyWriterData });
    this.thread.on('message', (reply: WriterReply) => this.answered(reply));
    this.thread.on('error', (error) => this.die(error));
    this.thread.on('exit', (code) => this.die(new Error(`standby writer: exited (${code})`)));
    this.ready = new Promise((resolve, reject) => {
      this.opened = resolve;
      this.thread.once('exit', () => reject(this.dead));
    });
    this.ready.catch(() => {}); // the same failure reaches the writes (die)
  }

  /**
   * Stores `writes` (each an append's entries, in order) and `committed` in one transaction,
   * each write first cutting every stored batch from its first sequence on. Resolves once it
   * is durable; rejects when it failed (nothing of it stored) or the thread died or closed.
   */
  writeMany(writes: readonly (readonly Entry[])[], committed: number): Promise<void> {
    if (this.dead !== null) return Promise.reject(this.dead);
    if (this.closing !== null) return Promise.reject(new Error('standby writer: closed'));
    const id = this.nextId++;
    const packed = packWrites(writes, committed);
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) this.thread.ref();
      this.waiting.set(id, { resolve, reject });
      this.thread.postMessage({ type: 'write', id, packed } satisfies WriterRequest, [
        packed.bytes,
      ]);
    });
  }

  /** Ends the thread once the writes handed over are answered (it closes its storage). */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = new Promise((resolve) => {
      if (this.dead !== null) return resolve();
      this.thread.once('exit', () => resolve());
      this.thread.ref();
      this.thread.postMessage({ type: 'close' } satisfies WriterRequest);
    });
    return this.closing;
  }

  private answered(reply: WriterReply): void {
    if (reply.type === 'ready') {
      // Held from then on only while a write waits (writeMany): it keeps no stop waiting.
      if (this.waiting.size === 0) this.thread.unref();
      return this.opened();
    }
    const waiting = this.waiting.get(reply.id);
    if (waiting === undefined) return; // the thread died first: already rejected
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.thread.unref();
    if (reply.type === 'stored') return waiting.resolve();
    const error = Object.assign(new Error(reply.message), { code: reply.code });
    error.name = reply.name;
    waiting.reject(error);
  }

  /** The thread cannot write: every write waiting fails, and every one after. */
  private die(error: Error): void {
    if (this.dead !== null) return;
    this.dead = this.closing !== null ? new Error('standby writer: closed') : error;
    for (const waiting of this.waiting.values()) waiting.reject(this.dead);
    this.waiting.clear();
  }
}
