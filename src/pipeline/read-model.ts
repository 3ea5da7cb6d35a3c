/**
 * The node's read model: the snapshotter's replica, which holds exactly the durable state (it
 * runs behind the journal writer), answers queries and publishes book views. It lives in the
 * snapshot worker, so reads never touch the business-logic thread.
 *
 *   main thread (gateway)                       snapshot worker
 *   ─────────────────────                       ───────────────
 *   query {id, balances|orders|book|  ───────►  answer {id, sequence, body}
 *          clients|covered}
 *   watch {instrument}                ───────►  every bookPublishIntervalMs, each watched book
 *                                               whose view changed is written into its slot
 *   read the changed slots             ◄───────  of the book board (book-board.ts), then one
 *                                               notice {type: 'books'} for them all
 *
 * Queries are served between applied ranges, and each range ends at a journal batch, so
 * every answer and every book view is consistent at one durable sequence, which it names.
 * Book views are conflated: a subscriber sees the latest view at most once per interval.
 */
import { bookDepthLevels, bookPublishIntervalMs, readModelQueryBudgetMs } from '../constants.js';
import type { Replica } from './replay.js';
import { assert } from '../stdx/assert.js';
import { balances, bookLevels, bookLevelsInto, openOrders } from './state-view.js';
import { BookBoard, bookNotice, viewWordsMax } from './book-board.js';

export type ReadRequest =
  | { type: 'query'; id: number; what: 'balances' | 'orders' | 'account'; account: number }
  | { type: 'query'; id: number; what: 'book'; instrument: number; depth: number }
  | { type: 'query'; id: number; what: 'clients' }
  | { type: 'query'; id: number; what: 'covered' }
  | { type: 'watch'; instrument: number }
  /** The book board (book-board.ts), sent once by the main thread before any watch. */
  | { type: 'board'; buffer: SharedArrayBuffer; instrumentCountMax: number };

type Query = Exclude<ReadRequest, { type: 'watch' | 'board' }>;

export interface ReadAnswer {
  type: 'answer';
  id: number;
  sequence: number;
  body: unknown;
}

/** The notice that book views changed on the board (read-client.ts reads them). */
export type BooksNotice = typeof bookNotice;

export class ReadModel {
  /** The watched instruments, in the order first watched, and a flag per instrument. */
  private readonly watched: number[] = [];
  private watching = new Uint8Array(0);
  /** Where views are written: the main thread's (null until its first message, 'board'). */
  private board: BookBoard | null = null;
  /** A view as bookLevelsInto writes it, compared with the board's before it is written. */
  private readonly view = new Float64Array(viewWordsMax);
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Queries waiting, oldest first from `head`; `serving` while a serveSome is scheduled. */
  private readonly queue: Query[] = [];
  private head = 0;
  private serving = false;

  constructor(
    private readonly replica: Replica,
    private readonly post: (message: ReadAnswer | BooksNotice) => void,
  ) {}

  /**
   * Takes a request: a watch at once, a query into the queue, served a budget at a time
   * (`serveSome`). Served as they came, back-to-back queries kept the replica from the output
   * ring (each message is handled in the turn it arrives): a soak audit's /orders pollers held
   * it there 30-40 s, the ring filled and the processor answered nothing. Now each turn the
   * loop gives them serves at most readModelQueryBudgetMs of queries, and the replica applies
   * in between: reads wait (and time out, 503) before commands do.
   */
  onMessage(request: ReadRequest): void {
    if (request.type === 'watch') return this.watch(request.instrument);
    if (request.type === 'board') {
      assert(this.board === null, 'read-model: one board');
      this.board = new BookBoard(request.instrumentCountMax, request.buffer);
      this.watching = new Uint8Array(request.instrumentCountMax);
      return;
    }
    this.queue.push(request);
    if (!this.serving) {
      this.serving = true;
      setImmediate(() => this.serveSome());
    }
  }

  /** Queries waiting to be served. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  private serveSome(): void {
    const until = performance.now() + readModelQueryBudgetMs;
    do this.answer(this.queue[this.head++]);
    while (this.head < this.queue.length && performance.now() < until);
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.serving = false;
    } else setImmediate(() => this.serveSome()); // the replica applies first
  }

  private answer(request: Query): void {
    const engine = this.replica.engine;
    let body: unknown;
    if (request.what === 'book') body = this.book(request.instrument, request.depth);
    else if (request.what === 'clients') body = this.clientSeqs();
    else if (request.what === 'covered') body = this.covered();
    else if (engine.accounts.slotOf(request.account) === -1)
      body = null; // no such account
    else if (request.what === 'account') body = true;
    else if (request.what === 'balances') body = balances(engine, request.account);
    else body = openOrders(engine, request.account);
    this.post({ type: 'answer', id: request.id, sequence: this.replica.sequence, body });
  }

  private book(instrument: number, depth: number): unknown {
    if (!this.exists(instrument)) return null;
    const levels = bookLevels(this.replica.engine, instrument, depth);
    const rows = (first: number, n: number): unknown[] =>
      Array.from({ length: n }, (_, i) => ({
        price: levels[2 + (first + i) * 3],
        quantity: levels[3 + (first + i) * 3],
        orders: levels[4 + (first + i) * 3],
      }));
    // A halted book keeps its orders but takes no new ones (cancels still go): a reader of
    // the book must tell it from a quiet one.
    const halted = this.replica.engine.instruments.halted[instrument] === 1;
    return { instrument, halted, bids: rows(0, levels[0]), asks: rows(levels[0], levels[1]) };
  }

  /** (client id, highest decided client seq) pairs of every client the engine knows. */
  private clientSeqs(): Float64Array {
    const clients = this.replica.engine.clients;
    const pairs = new Float64Array(clients.count * 2);
    for (let slot = 0; slot < clients.count; slot++) {
      pairs[slot * 2] = clients.ids[slot];
      pairs[slot * 2 + 1] = clients.highWaterMark[slot];
    }
    return pairs;
  }

  /** The client ids the state marks as having a cancel-on-disconnect session (cancel-cover.ts). */
  private covered(): Float64Array {
    const clients = this.replica.engine.clients;
    let n = 0;
    for (let slot = 0; slot < clients.count; slot++) n += clients.covered[slot];
    const ids = new Float64Array(n);
    let i = 0;
    for (let slot = 0; slot < clients.count; slot++) {
      if (clients.covered[slot] === 1) ids[i++] = clients.ids[slot];
    }
    return ids;
  }

  private exists(instrument: number): boolean {
    const engine = this.replica.engine;
    return instrument < engine.config.instrumentCountMax && engine.instruments.has(instrument);
  }

  private watch(instrument: number): void {
    assert(this.board !== null, 'read-model: the board comes before any watch');
    if (instrument >= this.replica.engine.config.instrumentCountMax) return;
    if (instrument >= this.board.instrumentCountMax) return;
    if (this.watching[instrument] === 1) return;
    this.watching[instrument] = 1;
    this.watched.push(instrument); // at most instrumentCountMax; its slot is unwritten: sent
    this.timer ??= setInterval(() => this.publishBooks(), bookPublishIntervalMs);
  }

  /**
   * Writes each watched book whose view changed since it was last written into the board,
   * then one notice for them all. Allocates nothing but the notice's clone (one a tick).
   */
  publishBooks(): void {
    const engine = this.replica.engine;
    const board = this.board;
    assert(board !== null, 'read-model: the board comes before any watch');
    let changed = false;
    for (let i = 0; i < this.watched.length; i++) {
      const instrument = this.watched[i];
      const words = bookLevelsInto(engine, instrument, bookDepthLevels, this.view);
      const halted = engine.instruments.halted[instrument] === 1;
      if (board.holds(instrument, this.view, words, halted)) continue;
      board.write(instrument, this.replica.sequence, this.view, words, halted);
      changed = true;
    }
    if (changed) this.post(bookNotice);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
