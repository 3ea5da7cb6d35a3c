/**
 * What one session may subscribe to, and how many (docs/PROTOCOL.md, "Subscriptions"). Each
 * topic a session holds costs memory in uWS's pub/sub, and the topics of trades were taken for
 * any id: one read session subscribing to millions of instruments grew the node by 1 GB. So a
 * stream's parameter must name something that can exist, and a session holds at most
 * subscriptionsPerSessionMax subscriptions (topics and journal streams together).
 */
import { subscriptionsPerSessionMax } from '../constants.js';
import { assert } from '../stdx/assert.js';
import { accountStreamFlags, HelloFlag, StreamKind } from '../protocol/frames.js';
import { depthTopic, topTopic, type BookKind, type BookTopics } from './reads.js';
import { accountTopic, tradesTopic, type Topics } from './topics.js';
import type { WebSocket } from './uws.js';
import { sendSubscribed } from './stream-starts.js';

/** What a session keeps of its subscriptions. */
export interface SubscriptionFields {
  /** Topics it is subscribed to, plus its journal streams. */
  subscriptions: number;
  /** Its Hello's flags: AccountInFrames picks the form of its account topics. */
  helloFlags: number;
  /** The accounts whose topic it holds, to count off when it closes (uWS drops its topics). */
  accounts: number[];
  /** Its trades and book topics (`marketOf`), likewise. */
  markets: number[];
}

/** Whether the session asked that its account streams' frames name their account. */
export function asksAccountInFrames(ws: WebSocket<SubscriptionFields>): boolean {
  return (ws.getUserData().helloFlags & HelloFlag.AccountInFrames) !== 0;
}

/**
 * Tells a session that asked (HelloFlag.AccountStarts) where its stream of `account`, taken
 * without From, starts: after `start()`, the last sequence handed to the topics
 * (TopicsTail.liveStart; a standby's tail starts as it is asked). The session joins the topic
 * in the same turn, so every event past it reaches the session's topic (or the resume it
 * shares), after this frame, and no later run holds one at or below it; whatever the stream
 * sent before it, or sends of sequences up to it (a resume's backlog), is older than this
 * Subscribe.
 */
export function sayAccountStart(
  ws: WebSocket<SubscriptionFields>,
  requestId: number,
  kind: number,
  account: number,
  start: () => number,
): void {
  if (kind !== StreamKind.Account) return;
  if ((ws.getUserData().helloFlags & HelloFlag.AccountStarts) === 0) return;
  sendSubscribed(ws, requestId, account, start());
}

/** The Hello flags of account streams a session asked for: Welcome repeats them (all taken). */
export function accountFlags(helloFlags: number): number {
  return helloFlags & accountStreamFlags;
}

/** The session's topic of `account`: its frames name the account if the session asked. */
export function accountTopicOf(ws: WebSocket<SubscriptionFields>, account: number): Uint8Array {
  return accountTopic(account, asksAccountInFrames(ws));
}

/** The session's pub/sub topic of a trades, account or book stream; null for other kinds. */
export function topicOf(
  ws: WebSocket<SubscriptionFields>,
  kind: number,
  param: number,
): string | Uint8Array | null {
  if (kind === StreamKind.Trades) return tradesTopic(param);
  if (kind === StreamKind.Account) return accountTopicOf(ws, param);
  if (kind === StreamKind.Depth) return depthTopic(param);
  if (kind === StreamKind.TopOfBook) return topTopic(param);
  return null;
}

/**
 * Why a Subscribe to a trades, account or book stream is refused with Error 4, or null: an
 * instrument outside 1 .. instrumentCountMax - 1, account 0, an unknown stream, or one topic
 * more than the session may hold (a topic it holds already costs nothing: not counted twice).
 */
export function topicRefusal(
  ws: WebSocket<SubscriptionFields>,
  kind: number,
  param: number,
  instrumentCountMax: number | null,
): string | null {
  const book = kind === StreamKind.Depth || kind === StreamKind.TopOfBook;
  // Without a read model (null) there are no books, and an instrument is what a trade's u32
  // `ref` can name.
  const end = instrumentCountMax ?? (book ? 1 : 2 ** 32);
  if ((book || kind === StreamKind.Trades) && (param < 1 || param >= end)) {
    return book ? 'no such book' : 'no such instrument';
  }
  if (kind === StreamKind.Account && param < 1) return 'no such account';
  const topic = topicOf(ws, kind, param);
  if (topic === null) return `unknown stream ${kind}`;
  if (ws.isSubscribed(topic)) return null;
  return tooMany(ws);
}

/** Error 4's text when the session holds as many subscriptions as it may, else null. */
export function tooMany(ws: WebSocket<SubscriptionFields>): string | null {
  if (ws.getUserData().subscriptions < subscriptionsPerSessionMax) return null;
  return `too many subscriptions: at most ${subscriptionsPerSessionMax} per session`;
}

/** Counts the topic of a stream the session is about to subscribe to (once per topic). */
export function countTopic(ws: WebSocket<SubscriptionFields>, kind: number, param: number): void {
  const topic = topicOf(ws, kind, param);
  if (topic !== null && !ws.isSubscribed(topic)) ws.getUserData().subscriptions++;
}

/**
 * Subscribes the session to `account`'s topic, in its form; false when it held it already
 * (a second Subscribe of the account: Topics counts each session once).
 */
export function joinAccountTopic(ws: WebSocket<SubscriptionFields>, account: number): boolean {
  const topic = accountTopicOf(ws, account);
  if (ws.isSubscribed(topic)) return false;
  ws.subscribe(topic);
  ws.getUserData().accounts.push(account);
  return true;
}

/**
 * Subscribes the session to `instrument`'s trades topic; false when it held it already (a
 * second Subscribe: Topics counts each session once).
 */
export function joinTradesTopic(ws: WebSocket<SubscriptionFields>, instrument: number): boolean {
  const topic = tradesTopic(instrument);
  if (ws.isSubscribed(topic)) return false;
  ws.subscribe(topic);
  ws.getUserData().markets.push(marketOf(StreamKind.Trades, instrument));
  return true;
}

/** A trades or book topic a session holds, as one number: its kind and instrument (u32). */
export function marketOf(kind: number, instrument: number): number {
  return kind * 2 ** 32 + instrument;
}

/** Counts a session off a trades or book topic (`marketOf`) it held. */
export function leaveMarket(market: number, topics: Topics, books: BookTopics | null): void {
  const kind = Math.floor(market / 2 ** 32);
  const instrument = market % 2 ** 32;
  if (kind === StreamKind.Trades) return topics.tradesLeft(instrument);
  assert(books !== null, 'subscriptions: a book topic is held where there are books');
  books.left(kind as BookKind, instrument);
}

/** Dashboard pages' trades topics (each page holds one), counted in Topics as sessions' are. */
export class PageTrades {
  constructor(
    private readonly topics: Topics,
    /** Called as a page joins (a standby's topics follow its journal then). */
    private readonly joining: () => void,
  ) {}

  /** A page takes stream 2's topic of `instrument` (once: counted once). */
  join(ws: WebSocket<unknown>, instrument: number): void {
    this.joining();
    const topic = tradesTopic(instrument);
    if (ws.isSubscribed(topic)) return;
    ws.subscribe(topic);
    this.topics.tradesJoined(instrument);
  }

  /** A page leaves `instrument`'s trades topic (`closed`: uWS dropped it already). */
  leave(ws: WebSocket<unknown>, instrument: number, closed: boolean): void {
    if (closed || ws.unsubscribe(tradesTopic(instrument))) this.topics.tradesLeft(instrument);
  }
}

/** Unsubscribes the session from a topic, and counts it off; false when it did not hold it. */
export function dropTopic(ws: WebSocket<SubscriptionFields>, kind: number, param: number): boolean {
  const topic = topicOf(ws, kind, param);
  if (topic === null || !ws.unsubscribe(topic)) return false;
  const session = ws.getUserData();
  session.subscriptions--;
  if (kind === StreamKind.Account) forget(session.accounts, param);
  else forget(session.markets, marketOf(kind, param));
  return true;
}

/** Takes `id` out of a session's list of topics held (joined: asserted). */
function forget(held: number[], id: number): void {
  const at = held.indexOf(id);
  assert(at >= 0, 'subscriptions: a topic held was joined (counted in as it was subscribed)');
  held.splice(at, 1);
}

/** Unsubscribes the session from a topic, counting it off in `topics` or `books` if it held it. */
export function leaveTopic(
  ws: WebSocket<SubscriptionFields>,
  kind: number,
  param: number,
  topics: Topics,
  books: BookTopics | null,
): void {
  if (!dropTopic(ws, kind, param)) return;
  if (kind === StreamKind.Account) topics.accountLeft(param, asksAccountInFrames(ws));
  else leaveMarket(marketOf(kind, param), topics, books);
}

/** Counts a closed session off every topic it held (uWS drops them itself). */
export function leaveAll(
  ws: WebSocket<SubscriptionFields>,
  topics: Topics,
  books: BookTopics | null,
): void {
  const named = asksAccountInFrames(ws);
  for (const account of ws.getUserData().accounts) topics.accountLeft(account, named);
  for (const market of ws.getUserData().markets) leaveMarket(market, topics, books);
}
