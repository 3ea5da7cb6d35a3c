/**
 * The main thread's side of the read model (read-model.ts): sends queries to the snapshot
 * worker, matches answers to them by id, and hands book views to the gateway. Bounded: past
 * `readQueriesPendingMax` waiting queries, a query fails at once (HTTP 503), and a query not
 * answered within `readQueryTimeoutMs` fails too.
 */
import type { Worker } from 'node:worker_threads';
import { readQueriesPendingMax, readQueryTimeoutMs } from '../constants.js';
import { ReadBusyError, type StateQuery, type StateReads } from '../gateway/reads.js';
import type { ReadAnswer, ReadRequest } from './read-model.js';
import { BookBoard, viewWordsMax } from './book-board.js';

interface Waiting {
  resolve: (answer: { sequence: number; body: unknown }) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * A book's view as published: its `bookLevels` levels, and whether it is halted. `levels` is
 * valid during the call only (the next view is read into the same array).
 */
export type BookListener = (
  instrument: number,
  sequence: number,
  levels: Float64Array,
  halted: boolean,
) => void;

export class ReadClient implements StateReads {
  private readonly waiting = new Map<number, Waiting>();
  private readonly bookListeners: BookListener[] = [];
  /** The instruments asked for, in order, and a flag per instrument (at most one each). */
  private readonly watched: number[] = [];
  private readonly watching: Uint8Array;
  /** Each view read from the board, in turn (valid during the listeners' calls). */
  private readonly levels = new Float64Array(viewWordsMax);
  private nextId = 1;
  /** Queries not answered within readQueryTimeoutMs, and refused as too many waited (503s). */
  timeouts = 0;
  refusals = 0;

  /** Where the read model writes book views (book-board.ts): made here, sent to the worker. */
  private readonly board: BookBoard;

  constructor(
    private readonly worker: Worker,
    readonly instrumentCountMax: number,
    /** The read model's last applied sequence (the snapshotter's progress word). */
    readonly applied: () => number,
  ) {
    this.board = new BookBoard(instrumentCountMax);
    this.watching = new Uint8Array(instrumentCountMax);
    worker.on('message', (message: { type: string }) => {
      if (message.type === 'answer') this.onAnswer(message as ReadAnswer);
      if (message.type === 'books') this.deliverBooks();
    });
    this.post({ type: 'board', buffer: this.board.buffer, instrumentCountMax });
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
    if (instrument < 0 || instrument >= this.instrumentCountMax) return;
    if (this.watching[instrument] === 1) return; // asked once: the read model keeps watching
    this.watching[instrument] = 1;
    this.watched.push(instrument);
    this.post({ type: 'watch', instrument });
  }

  onBook(listener: BookListener): void {
    this.bookListeners.push(listener);
  }

  /** Hands each view the board marks changed to the listeners (a notice came). */
  deliverBooks(): void {
    const board = this.board;
    for (let i = 0; i < this.watched.length; i++) {
      const instrument = this.watched[i];
      if (!board.takeChanged(instrument)) continue;
      const sequence = board.read(instrument, this.levels);
      if (sequence === -1) continue; // being written: marked again, and a notice follows
      for (let l = 0; l < this.bookListeners.length; l++) {
        this.bookListeners[l](instrument, sequence, this.levels, board.halted);
      }
    }
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
