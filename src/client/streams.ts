/**
 * The client's side of its streams: Subscribe and Unsubscribe frames, and the handlers that
 * the server's stream frames go to (client.ts passes them here, by request id or book key).
 * What is kept for a reconnect is in Subscriptions (subscriptions.ts).
 *
 *   subscribeJournal ──► Subscribe(Journal, from)    Events(request id) ──► the reader
 *   subscribeTrades  ──► Subscribe(Trades, inst)     Events(Trades' fixed id) ──► each handler
 *   subscribeAccount ──► Subscribe(Account, acct[, from])  Events(Account's id, the account)
 *                                                           ──► that account's handlers
 *   subscribeBook    ──► Subscribe(Depth|Top, inst)  Book(kind, instrument) ──► each handler
 */
import type { EventRecord } from '../protocol/event-reader.js';
import { readBookFrame, type BookView } from '../protocol/book-frame.js';
import {
  FrameType,
  frameHeaderBytes,
  HelloFlag,
  StreamKind,
  SubscribeFlag,
  topicRequestId,
  writeHeader,
} from '../protocol/frames.js';
import { callHandler } from './handler-calls.js';
import { decodeEvents, frameAccount } from './frame-check.js';
import { Delivered, Subscriptions, topicHandler, warnRefused } from './subscriptions.js';

type OnEvents = (events: EventRecord[]) => void;
type OnError = (error: Error) => void;

/** What the streams need of the client. */
export interface StreamsLink {
  /** Sends a frame if the connection is open (a reconnect asks for every stream again). */
  send(frame: ArrayBuffer): void;
  /** A new request id (shared with command frames). */
  requestId(): number;
  /** Times the connection was opened again: a topic handler drops what it heard before. */
  reconnects(): number;
}

export class Streams {
  /** Journal, topic and book subscriptions, asked for again after a reconnect. */
  readonly subs = new Subscriptions();
  /**
   * Handlers of trades streams (all under the trades stream's fixed request id). These lists
   * are replaced, never changed: a handler that ends a subscription during a frame's loop
   * leaves that loop as it was.
   */
  private tradeHandlers: OnEvents[] = [];
  /** Handlers of account streams, by account (lists replaced as tradeHandlers). */
  private readonly accountHandlers = new Map<number, OnEvents[]>();
  /** Handlers of book streams, by "<stream kind>/<instrument>". */
  private readonly bookHandlers = new Map<string, ((book: BookView) => void)[]>();

  /**
   * The server says where each account stream taken without `from` starts (Welcome took
   * HelloFlag.AccountStarts): its handler waits for that, and takes only what comes after.
   */
  private startsSaid = false;
  /**
   * Likewise of each taken with `from` (HelloFlag.ResumeStarts): its handler drops the
   * account's frames until then, those of a stream of the account it ended still on their way.
   */
  private resumeStartsSaid = false;

  constructor(private readonly link: StreamsLink) {}

  /** A session opened (connect, or a reconnect) with Welcome's flags `flags`. */
  welcomed(flags: number): void {
    this.startsSaid = (flags & HelloFlag.AccountStarts) !== 0;
    this.resumeStartsSaid = (flags & HelloFlag.ResumeStarts) !== 0;
  }

  /** The journal from `fromSequence` (client.ts subscribeJournal). */
  journal(fromSequence: number, onEvents: OnEvents, onError: OnError): () => void {
    const requestId = this.subscribe(StreamKind.Journal, fromSequence);
    const reader = this.subs.addJournal(requestId, fromSequence, onEvents, onError);
    return () => {
      const id = this.subs.end(reader);
      if (id !== -1) this.sendFrame(FrameType.Unsubscribe, id, StreamKind.Journal, 0);
    };
  }

  /**
   * A trades or account stream (client.ts subscribeTrades, subscribeAccount). An account's
   * starts at `from` when given (its stored events first), and resumes after a reconnect from
   * what it delivered, or from `floor` (the session's durable sequence + 1) if nothing yet.
   */
  topic(
    kind: StreamKind,
    param: number,
    onEvents: OnEvents,
    onError: OnError = warnRefused,
    start: { from?: number; floor: number } = { floor: -1 },
  ): () => void {
    const account = kind === StreamKind.Account;
    if (account && start.from !== undefined) refuseHeld(this.subs, param);
    // One request id per stream kind: a client subscribed to two instruments gets both in
    // frames of one id, and each handler hears only the events that name its own. An account's
    // frames name the account (HelloFlag.AccountInFrames), and go to its handlers only.
    const delivered = new Delivered(); // none twice across a reconnect
    // Without `from`, not a resume's backlog shared with another handler: only what follows
    // its Subscribe. With it, not the frames of a stream of the account it ended (they came
    // live, past `from`, and its backlog below them was then taken as delivered).
    const said = start.from === undefined ? this.startsSaid : this.resumeStartsSaid;
    if (account && said) delivered.wait();
    const handler = topicHandler(kind, param, onEvents, delivered, () => this.link.reconnects());
    if (account) this.accountHandlers.set(param, [...this.handlersOf(param), handler]);
    else this.tradeHandlers = [...this.tradeHandlers, handler];
    const requestId = this.subscribe(kind, param, start.from);
    const floor = start.from ?? start.floor;
    const ask = this.subs.addAsk(requestId, kind, param, onError, delivered, floor);
    return () => {
      if (account) this.dropAccountHandler(param, handler);
      else this.tradeHandlers = this.tradeHandlers.filter((h) => h !== handler);
      this.endAsk(ask, kind, param);
    };
  }

  /** A book stream, whole (Depth) or its top (client.ts subscribeBook). */
  book(
    instrument: number,
    onBook: (book: BookView) => void,
    top: boolean,
    onError: OnError,
  ): () => void {
    const kind = top ? StreamKind.TopOfBook : StreamKind.Depth;
    const key = `${kind}/${instrument}`;
    const about = `the book of instrument ${instrument}`;
    // Its own, to take out; a throw is a warning, and the other handlers of the frame still run.
    const handler = (book: BookView): void => callHandler('onBook', onBook, book, about);
    this.bookHandlers.set(key, [...(this.bookHandlers.get(key) ?? []), handler]);
    const ask = this.subs.addAsk(this.subscribe(kind, instrument), kind, instrument, onError);
    return () => {
      const left = (this.bookHandlers.get(key) ?? []).filter((h) => h !== handler);
      this.bookHandlers.set(key, left);
      this.endAsk(ask, kind, instrument);
    };
  }

  /**
   * An Events frame of request id `requestId`: handed to its journal reader or topic handlers;
   * false when it is no stream's (an answer to commands).
   */
  onEvents(requestId: number, data: Buffer): boolean {
    if (this.subs.isJournal(requestId)) {
      this.subs.deliver(requestId, decodeEvents(data));
      return true;
    }
    if (requestId === topicRequestId(StreamKind.Trades)) {
      const events = decodeEvents(data);
      for (const handler of this.tradeHandlers) handler(events);
      return true;
    }
    if (requestId !== topicRequestId(StreamKind.Account)) return false;
    const events = decodeEvents(data);
    const account = frameAccount(data);
    for (const handler of this.accountFrameHandlers(account)) handler(events);
    return true;
  }

  /**
   * The handlers of an account frame: those of the account it names, each of which then hears
   * each event once. A server before AccountInFrames names none: every account handler then,
   * and an event naming two accounts the client streams comes to each of their handlers
   * twice (one frame per account).
   */
  private accountFrameHandlers(account: number | null): OnEvents[] {
    if (account !== null) return this.handlersOf(account);
    return [...this.accountHandlers.values()].flat();
  }

  private handlersOf(account: number): OnEvents[] {
    return this.accountHandlers.get(account) ?? [];
  }

  private dropAccountHandler(account: number, handler: OnEvents): void {
    const left = this.handlersOf(account).filter((h) => h !== handler);
    if (left.length > 0) this.accountHandlers.set(account, left);
    else this.accountHandlers.delete(account);
  }

  /** A Book frame, or where an account stream starts (Subscribed); false for another type. */
  onFrame(type: number, data: Buffer): boolean {
    if (type === FrameType.Book) this.onBook(data);
    else if (type !== FrameType.Subscribed) return false;
    else if (data.byteLength >= frameHeaderBytes + 24) {
      this.subs.started(data.readUInt32LE(4), data.readDoubleLE(frameHeaderBytes + 16));
    }
    return true;
  }

  /** A Book frame: to the handlers of its stream kind and instrument. */
  onBook(data: Buffer): void {
    const book = readBookFrame(data);
    const kind = data.readUInt32LE(4) & 0xffff;
    for (const handler of this.bookHandlers.get(`${kind}/${book.instrument}`) ?? []) handler(book);
  }

  /** Sends a Subscribe frame (flagged From with `from`, an account's); its request id. */
  subscribe(kind: StreamKind, param: number, from?: number): number {
    const requestId = this.link.requestId();
    this.sendFrame(FrameType.Subscribe, requestId, kind, param, from);
    return requestId;
  }

  /** Forgets a topic or book subscription; the server's stream ends with the last of them. */
  private endAsk(ask: object, kind: StreamKind, param: number): void {
    const id = this.subs.end(ask);
    if (id !== -1 && !this.subs.asking(kind, param)) {
      this.sendFrame(FrameType.Unsubscribe, id, kind, param);
    }
  }

  /** A Subscribe or Unsubscribe frame: stream kind, its parameter, and a from-sequence. */
  private sendFrame(
    type: FrameType,
    requestId: number,
    kind: StreamKind,
    param: number,
    from?: number,
  ): void {
    const frame = new DataView(new ArrayBuffer(frameHeaderBytes + (from === undefined ? 16 : 24)));
    writeHeader(frame, 0, type, requestId, from === undefined ? 0 : SubscribeFlag.From);
    frame.setUint8(frameHeaderBytes, kind);
    frame.setFloat64(frameHeaderBytes + 8, param, true);
    if (from !== undefined) frame.setFloat64(frameHeaderBytes + 16, from, true);
    this.link.send(frame.buffer);
  }
}

/**
 * A from-sequence for an account this client already streams (live, or resuming) is refused:
 * the server holds one stream per account and session, and ignores a second Subscribe of it,
 * so the backlog never came and the new handler heard only what came live, without a word.
 * Sending it again from `from` would repeat events to the other handlers, and their frames
 * still on the way cannot be told from the new stream's.
 */
function refuseHeld(subs: Subscriptions, account: number): void {
  if (!subs.asking(StreamKind.Account, account)) return;
  throw new Error(
    `subscribeAccount: account ${account} is already streamed on this client, and a server ` +
      `sends one stream per account and session: 'from' would be ignored. Subscribe once ` +
      `with 'from' and share its events among your handlers, or read the earlier events ` +
      `over GET /events?account=${account}&from=<sequence>`,
  );
}
