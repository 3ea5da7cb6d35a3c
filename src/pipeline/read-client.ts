/**
 * The main thread's side of the read model (read-model.ts): sends queries to the snapshot
 * worker, matches answers to them by id, and hands book views to the gateway. Bounded: past
 * `readQueriesPendingMax` waiting queries, a query fails at once (HTTP 503), and a query not
 * answered within `readQueryTimeoutMs` fails too.
 */
import type { Worker } from 'node:worker_threads';
import { readQueriesPendingMax, readQueryTimeoutMs } from '../constants.js';
import { ReadBusyError, type StateQuery, type StateReads } from '../gateway/reads.js';
import type { BookView, ReadAnswer, ReadRequest } from './read-model.js';

interface Waiting {
  resolve: (answer: { sequence: number; body: unknown }) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** A book's view as published: its `bookLevels` levels, and whether it is halted. */
export type BookListener = (
  instrument: number,
  sequence: number,
  levels: Float64Array,
  halted: boolean,
) => void;

export class ReadClient implements StateReads {
  private readonly waiting = new Map<number, Waiting>();
  private readonly bookListeners: BookListener[] = [];
  private nextId = 1;
  /** Queries not answered within readQueryTimeoutMs, and refused as too many waited (503s). */
  timeouts = 0;
  refusals = 0;

  constructor(
    private readonly worker: Worker,
    readonly instrumentCountMax: number,
    /** The read model's last applied sequence (the snapshotter's progress word). */
    readonly applied: () => number,
  ) {
    worker.on('message', (message: { type: string }) => {
      if (message.type === 'answer') this.onAnswer(message as ReadAnswer);
      if (message.type === 'book') this.deliverBook(message as BookView);
    });
  }

  query(query: StateQuery): Promise<{ sequence: number; body: unknown }> {
    if (this.waiting.size >= readQueriesPendingMax) {
      this.refusals += 1;
      return Promise.reject(new ReadBusyError('busy: too many queries waiting'));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        this.timeouts += 1;
        reject(new ReadBusyError('the read model did not answer in time'));
      }, readQueryTimeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      this.post({ type: 'query', id, ...query } as ReadRequest);
    });
  }

  watchBook(instrument: number): void {
    this.post({ type: 'watch', instrument });
  }

  onBook(listener: BookListener): void {
    this.bookListeners.push(listener);
  }

  private deliverBook(view: BookView): void {
    for (const listener of this.bookListeners)
      listener(view.instrument, view.sequence, view.levels, view.halted);
  }

  /** Fails every waiting query (the node is stopping). */
  close(): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new ReadBusyError('the node is stopping'));
      this.waiting.delete(id);
    }
  }

  private onAnswer(answer: ReadAnswer): void {
    const w = this.waiting.get(answer.id);
    if (w === undefined) return; // timed out already
    this.waiting.delete(answer.id);
    clearTimeout(w.timer);
    w.resolve({ sequence: answer.sequence, body: answer.body });
  }

  private post(request: ReadRequest): void {
    this.worker.postMessage(request);
  }
}
