/**
 * Reads of the node's state: HTTP queries (balances, open orders, a book) and the conflated
 * book streams (depth and top of book) over uWS pub/sub. The state comes from the read model
 * (the composition root provides it), which holds the durable state and names the sequence
 * each answer is consistent at.
 *
 *   GET /balances?account=N            the account's non-zero balances (its key, or admin)
 *   GET /orders?account=N              the account's resting orders (its key, or admin)
 *   GET /book?instrument=N&depth=D     the best D levels per side (anyone)
 *
 * Each takes `at=SEQ` too: answered at SEQ or past, waiting for the read model (read-at.ts).
 *
 * A node not ready for reads (GET /ready?for=reads: a standby catching up, recovering or with
 * no primary, a primary still promoting) answers them 503 with the same reason: its read model
 * may stand far behind what the cluster committed (a restarted member, replaying its journal
 * from an old snapshot, answered 200 at sequence 6,501 while committed was 1,884,053).
 */
import { bookDepthLevels, bookQueryDepthMax } from '../constants.js';
import { bookBodyBytes, frameHeaderBytes, StreamKind } from '../protocol/frames.js';
import type { HttpResponse, TemplatedApp, WebSocket } from './uws.js';
import { BookFrames } from './book-frames.js';
import { joinCount, leaveCount, topicBytes, topicFor, TopicTag, writeTopic } from './topics.js';
import { bearerToken, json, keyRefused, notReadyFor, queryNumber, route } from './http.js';
import { remoteAddress } from './admission.js';
import { readAtOf, readModelBehindCode, SequenceWaits } from './read-at.js';
import type { NodeRole } from './gateway.js';

export type StateQuery =
  /** 'account': body true for a known account (null, as for the others, when unknown). */
  | { what: 'balances' | 'orders' | 'account'; account: number }
  | { what: 'book'; instrument: number; depth: number }
  /** Every client id the engine knows with its highest decided seq: pairs in a Float64Array. */
  | { what: 'clients' }
  /** The client ids marked as having a cancel-on-disconnect session: a Float64Array. */
  | { what: 'covered' };

/** The read model, as the gateway sees it. */
export interface StateReads {
  /** Instrument ids run 1 .. instrumentCountMax - 1. */
  readonly instrumentCountMax: number;
  /**
   * Answers a query at the read model's durable sequence; `body` is null for an unknown
   * account or instrument. @throws ReadBusyError when too many queries wait.
   */
  query(query: StateQuery): Promise<{ sequence: number; body: unknown }>;
  /** The last sequence the read model applied: a query asked now is answered at it or past. */
  applied(): number;
  /** Starts book views of an instrument (idempotent). */
  watchBook(instrument: number): void;
  /** Called with each changed book view (`bookLevels` layout). */
  onBook(
    listener: (instrument: number, sequence: number, levels: Float64Array, halted: boolean) => void,
  ): void;
}

/**
 * Whether the read model knows `account` (GET /events?account= answers 404 when it does not,
 * as /balances does); null when there is no read model or it did not answer (busy, stopping).
 */
export function accountKnown(reads: StateReads | null, account: number): Promise<boolean | null> {
  if (reads === null) return Promise.resolve(null);
  return reads.query({ what: 'account', account }).then(
    ({ body }) => body !== null,
    () => null,
  );
}

/** The book streams' kinds. */
export type BookKind = StreamKind.Depth | StreamKind.TopOfBook;

export class ReadBusyError extends Error {
  override readonly name = 'ReadBusyError';
  readonly code = 'READ_BUSY';
}

/**
 * Why a bearer token may not read an account (null: it may: its key or admin; anyone without
 * keys), counting a refused key (http-keys.ts) with the address of `res`.
 */
export type AccountReadCheck = (token: string, account: number, res: HttpResponse) => string | null;

export function mountReads(
  app: TemplatedApp,
  reads: StateReads,
  may: AccountReadCheck,
  role: NodeRole,
): void {
  const waits = new SequenceWaits(() => reads.applied());
  for (const what of ['balances', 'orders'] as const) {
    route(app, 'get', `/${what}`, (res, req) => {
      const account = queryNumber(req.getQuery('account'));
      if (!Number.isSafeInteger(account) || account < 1) {
        return json(res, '400 Bad Request', { error: 'account: an account id' });
      }
      const at = readAtOf(req.getQuery('at'));
      if (typeof at === 'string') return json(res, '400 Bad Request', { error: at });
      const token = bearerToken(req);
      const refusal = may(token, account, res);
      if (refusal !== null) return keyRefused(res, token, refusal);
      if (notReady(res, role)) return;
      const ask = (): Query => reads.query({ what, account });
      answer(res, { waits, at, ask }, 'no such account', (body, sequence) => ({
        sequence,
        account,
        [what]: body,
      }));
    });
  }
  route(app, 'get', '/book', (res, req) => {
    const instrument = queryNumber(req.getQuery('instrument'));
    const depth = queryNumber(req.getQuery('depth') || String(bookDepthLevels));
    // Outside the configured ids is a bad parameter (400), as Subscribe refuses it (Error 4):
    // it was 404, as for an id in range that no AddInstrument has added yet.
    if (
      !Number.isSafeInteger(instrument) ||
      instrument < 1 ||
      instrument >= reads.instrumentCountMax
    ) {
      const error = `instrument: an instrument id from 1 to ${reads.instrumentCountMax - 1}`;
      return json(res, '400 Bad Request', { error });
    }
    if (!Number.isSafeInteger(depth) || depth < 1 || depth > bookQueryDepthMax) {
      return json(res, '400 Bad Request', { error: `depth: 1 to ${bookQueryDepthMax}` });
    }
    const at = readAtOf(req.getQuery('at'));
    if (typeof at === 'string') return json(res, '400 Bad Request', { error: at });
    if (notReady(res, role)) return;
    const ask = (): Query => reads.query({ what: 'book', instrument, depth });
    answer(res, { waits, at, ask }, 'no such instrument', (body, sequence) => ({
      sequence,
      ...(body as object),
    }));
  });
}

/**
 * Answers 503 when the node is not ready for reads, with the reason and role fields GET
 * /ready?for=reads gives (so a client can tell a standby catching up from a busy one); true then.
 */
function notReady(res: HttpResponse, role: NodeRole): boolean {
  const reason = notReadyFor(role, 'reads');
  if (reason === null) return false;
  const body = { error: `not ready for reads: ${reason}`, reason, ...role.describe() };
  json(res, '503 Service Unavailable', body);
  return true;
}

type Query = Promise<{ sequence: number; body: unknown }>;

/** A read's query, asked once the read model reaches `at` (null: at once; read-at.ts). */
interface ReadAsk {
  waits: SequenceWaits;
  at: number | null;
  ask: () => Query;
}

function answer(
  res: HttpResponse,
  read: ReadAsk,
  missing: string,
  shape: (body: unknown, sequence: number) => unknown,
): void {
  let aborted = false;
  let waiting: object | null = null;
  res.onAborted(() => {
    aborted = true;
    if (waiting !== null) read.waits.cancel(waiting);
  });
  const at = read.at ?? 0;
  const asked = (): void =>
    void read.ask().then(
      ({ sequence, body }) => {
        if (aborted) return;
        res.cork(() => {
          // Never older than asked (the read model only moves forward: checked all the same).
          if (sequence < at) behind(res, at, sequence);
          else if (body === null) json(res, '404 Not Found', { error: missing });
          else json(res, '200 OK', shape(body, sequence));
        });
      },
      (error: Error) => {
        if (aborted) return;
        res.cork(() => json(res, '503 Service Unavailable', { error: error.message }));
      },
    );
  if (read.waits.applied() >= at) return asked();
  const handle = read.waits.wait(at, remoteAddress(res), (reached) => {
    waiting = null;
    if (aborted) return;
    if (reached) asked();
    else res.cork(() => behind(res, at, read.waits.applied()));
  });
  if (typeof handle === 'string') {
    return json(res, '503 Service Unavailable', { error: handle, code: 'READ_BUSY' });
  }
  waiting = handle;
}

/** 503: the read model stands at `sequence`, short of the `at` asked (read-at.ts). */
function behind(res: HttpResponse, at: number, sequence: number): void {
  const error = `the read model is at sequence ${sequence}, not yet at ${at}: ask again`;
  json(res, '503 Service Unavailable', { error, code: readModelBehindCode, at, sequence });
}

export function depthTopic(instrument: number): Uint8Array {
  return topicFor(TopicTag.Depth, instrument);
}

export function topTopic(instrument: number): Uint8Array {
  return topicFor(TopicTag.TopOfBook, instrument);
}

/**
 * The book streams: each changed view goes to the instrument's depth topic (up to
 * bookDepthLevels per side) and, when the best levels changed, to its top of book topic, while
 * a session holds it (counted: uWS is asked nothing for the others). The last frame of each is
 * kept, so that a new subscriber gets the current view at once.
 */
export class BookTopics {
  private readonly frames = new Map<number, BookFrames>();
  /** Sessions holding each instrument's depth topic, and its top of book topic. */
  private readonly depthSessions = new Map<number, number>();
  private readonly topSessions = new Map<number, number>();
  private readonly topic = new Uint8Array(topicBytes);
  private readonly topicView = new DataView(this.topic.buffer);

  constructor(
    private readonly app: TemplatedApp,
    private readonly reads: StateReads,
  ) {
    reads.onBook((instrument, sequence, levels, halted) =>
      this.onBook(instrument, sequence, levels, halted),
    );
  }

  /**
   * Subscribes a socket, and sends it the current view when there is one; true when it joined
   * the topic (it did not hold it: counted, until `left`).
   */
  subscribe(ws: WebSocket<unknown>, kind: BookKind, instrument: number): boolean {
    const top = kind === StreamKind.TopOfBook;
    const topic = top ? topTopic(instrument) : depthTopic(instrument);
    const joined = !ws.isSubscribed(topic);
    if (joined) {
      ws.subscribe(topic);
      joinCount(top ? this.topSessions : this.depthSessions, instrument);
    }
    this.reads.watchBook(instrument);
    const last = this.framesOf(instrument);
    const frame = top ? last.top.frame : last.depth.frame;
    if (frame !== null) ws.send(frame, true);
    return joined;
  }

  /** A session left a book topic it joined (Unsubscribe, or closed: uWS drops its topics). */
  left(kind: BookKind, instrument: number): void {
    const top = kind === StreamKind.TopOfBook;
    leaveCount(top ? this.topSessions : this.depthSessions, instrument, 'a book');
  }

  /** Sessions holding a book topic now. */
  held(kind: BookKind, instrument: number): number {
    const top = kind === StreamKind.TopOfBook;
    return (top ? this.topSessions : this.depthSessions).get(instrument) ?? 0;
  }

  /** The instrument's frames: made when its books are first watched (or first seen). */
  private framesOf(instrument: number): BookFrames {
    let frames = this.frames.get(instrument);
    if (frames === undefined) {
      frames = new BookFrames();
      this.frames.set(instrument, frames);
    }
    return frames;
  }

  private onBook(
    instrument: number,
    sequence: number,
    levels: Float64Array,
    halted: boolean,
  ): void {
    const frames = this.framesOf(instrument);
    const depth = frames.depth.write(StreamKind.Depth, instrument, sequence, levels, halted);
    this.publish(this.depthSessions, TopicTag.Depth, instrument, depth);
    frames.turn();
    const before = frames.before.frame;
    const top = frames.top.write(StreamKind.TopOfBook, instrument, sequence, levels, halted);
    if (before === null || !sameLevels(before, top)) {
      this.publish(this.topSessions, TopicTag.TopOfBook, instrument, top);
    }
  }

  /** Publishes `frame` to the topic `tag` of `instrument` when a session holds it. */
  private publish(
    sessions: Map<number, number>,
    tag: TopicTag,
    instrument: number,
    frame: Uint8Array,
  ): void {
    if (!sessions.has(instrument)) return;
    writeTopic(this.topicView, tag, instrument);
    this.app.publish(this.topic, frame, true);
  }
}

/** Same levels and flags (halted) (the sequence, at bytes 16..24, may differ). */
function sameLevels(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const start = frameHeaderBytes + bookBodyBytes;
  for (let i = 0; i < start - 8; i++) if (a[i] !== b[i]) return false;
  for (let i = start; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
