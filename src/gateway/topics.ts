/**
 * Market data and account subscriptions over uWS pub/sub. Each durable Trade goes to its
 * instrument's trades topic (`tradesTopic`), and each event that names an account (as
 * `account`, or as a `counterparty` that takes part: not a Rejected command's target) goes to
 * the account's topics (`accountTopic`). One Events frame per event, with a fixed request id
 * per stream (`topicRequestId`), so that the frame is shared by every subscriber of its topic;
 * an account's frames name the account for the sessions that asked
 * (HelloFlag.AccountInFrames). Nothing is built, and uWS is not asked, while no session holds
 * a topic (the gateway counts sessions in and out).
 *
 * Trades are anonymous (trade-privacy.ts): the public trades stream names neither side, an
 * account's stream names only its own side.
 */
import { eventSizeBytes } from '../constants.js';
import type { RecordBuffer } from '../stdx/records.js';
import { readU64 } from '../stdx/records.js';
import { assert } from '../stdx/assert.js';
import { counterpartyTakesPart, EventKind, EventWord } from '../protocol/event-layout.js';
import {
  EventsFlag,
  eventsOffset,
  FrameType,
  frameHeaderBytes,
  StreamKind,
  topicRequestId,
  writeHeader,
} from '../protocol/frames.js';
import type { TemplatedApp } from './uws.js';
import { hideMaker, hideTaker } from './trade-privacy.js';

/** Which side of a Trade a frame leaves out (bits). */
const enum Hide {
  Nothing = 0,
  Maker = 1,
  Taker = 2,
  Both = 3,
}

/**
 * Bytes of a topic: which stream (TopicTag), then its instrument or account (f64). Binary, so
 * that a publisher writes it in place: a string built per event (`trades/<id>`,
 * `account/<id>`, `depth/<id>`) allocated, and an account has a topic per form.
 */
export const topicBytes = 9;
export const accountTopicBytes = topicBytes;

/** The first byte of a topic: which frames it carries (not a printable character). */
export const enum TopicTag {
  Trades = 0x02,
  /** Events frames as before HelloFlag.AccountInFrames: they do not say which account. */
  AccountPlain = 0x03,
  Depth = 0x04,
  TopOfBook = 0x05,
  /** Events frames flagged Account, naming it. */
  AccountNamed = 0x83,
}

/** Writes the topic of stream `tag` of `id` into `view` (topicBytes; no allocation). */
export function writeTopic(view: DataView, tag: TopicTag, id: number): void {
  view.setUint8(0, tag);
  view.setFloat64(1, id, true);
}

/** The topic of stream `tag` of `id` (allocates: subscribing). */
export function topicFor(tag: TopicTag, id: number): Uint8Array {
  const topic = new Uint8Array(topicBytes);
  writeTopic(new DataView(topic.buffer), tag, id);
  return topic;
}

export function tradesTopic(instrument: number): Uint8Array {
  return topicFor(TopicTag.Trades, instrument);
}

/** Writes the topic of `account`'s stream into `view` (accountTopicBytes; no allocation). */
export function writeAccountTopic(view: DataView, account: number, named: boolean): void {
  writeTopic(view, named ? TopicTag.AccountNamed : TopicTag.AccountPlain, account);
}

/** The topic of `account`'s stream, its frames naming it or not (allocates: subscribing). */
export function accountTopic(account: number, named: boolean): Uint8Array {
  return topicFor(named ? TopicTag.AccountNamed : TopicTag.AccountPlain, account);
}

/** Counts one more session holding `key`'s topic in `sessions`. */
export function joinCount(sessions: Map<number, number>, key: number): void {
  sessions.set(key, (sessions.get(key) ?? 0) + 1);
}

/** Counts one session off `key`'s topic in `sessions` (it held it: asserted). */
export function leaveCount(sessions: Map<number, number>, key: number, what: string): void {
  const n = sessions.get(key) ?? 0;
  assert(n > 0, `topics: a session leaves ${what} topic it joined`);
  if (n === 1) sessions.delete(key);
  else sessions.set(key, n - 1);
}

/**
 * An account's event goes to both of its topics that have subscribers: sessions that asked
 * for the account in frames, and those that did not (older clients). Frames are made once per
 * topic, into buffers allocated here with their headers written once, and shared by all its
 * subscribers; the event is copied in and its hidden side zeroed per frame.
 *
 *   trades      header(0xFFFF0002)            | 1 | 0 |         event
 *   plain       header(0xFFFF0003)            | 1 | 0 |         event
 *   named       header(0xFFFF0003, Account)   | 1 | 0 | account | event
 */
export class Topics {
  /**
   * Sessions holding each instrument's trades topic, and each account's topic by form: exact
   * (joined and left), so an event costs a map look-up per topic, and uWS is asked nothing
   * for the many that no one streams. Bounded by sessions × subscriptionsPerSessionMax.
   */
  private readonly tradeSessions = new Map<number, number>();
  private readonly plainSessions = new Map<number, number>();
  private readonly namedSessions = new Map<number, number>();
  private readonly tradeFrame = new OneEventFrame(StreamKind.Trades, 0);
  private readonly plainFrame = new OneEventFrame(StreamKind.Account, 0);
  private readonly namedFrame = new OneEventFrame(StreamKind.Account, EventsFlag.Account);
  private readonly topic = new Uint8Array(topicBytes);
  private readonly topicView = new DataView(this.topic.buffer);

  /**
   * The sequence of the last event handed to the topics (-1: none since the start): each run
   * goes on from the one after it (runs of the publisher, or of the tail, are contiguous).
   */
  lastSequence = -1;

  constructor(private readonly app: TemplatedApp) {}

  /** A session (or a dashboard page) joined `instrument`'s trades topic. */
  tradesJoined(instrument: number): void {
    joinCount(this.tradeSessions, instrument);
  }

  /** A session left `instrument`'s trades topic (Unsubscribe, or closed). */
  tradesLeft(instrument: number): void {
    leaveCount(this.tradeSessions, instrument, 'a trades');
  }

  /** Sessions holding `instrument`'s trades topic now. */
  tradesHeld(instrument: number): number {
    return this.tradeSessions.get(instrument) ?? 0;
  }

  /** A session joined `account`'s topic of frames that name it (`named`) or not. */
  accountJoined(account: number, named: boolean): void {
    joinCount(named ? this.namedSessions : this.plainSessions, account);
  }

  /** A session left `account`'s topic (Unsubscribe, or closed: uWS drops its topics). */
  accountLeft(account: number, named: boolean): void {
    leaveCount(named ? this.namedSessions : this.plainSessions, account, 'an account');
  }

  /** A run of durable events, in journal order (every run: the topics' position moves). */
  publish(records: RecordBuffer, slot: number, count: number): void {
    const lastAt = (slot + count - 1) * EventWord.size + EventWord.sequence;
    if (count > 0) this.lastSequence = readU64(records.u32, lastAt);
    const accounts = this.plainSessions.size + this.namedSessions.size;
    const trades = this.tradeSessions.size;
    if (trades === 0 && accounts === 0) return;
    const u32 = records.u32;
    for (let i = 0; i < count; i++) {
      const e = (slot + i) * EventWord.size;
      const kind = u32[e + EventWord.kindStatus] & 0xff;
      const trade = kind === EventKind.Trade;
      if (trades > 0 && trade && this.tradeSessions.has(u32[e + EventWord.ref])) {
        writeTopic(this.topicView, TopicTag.Trades, u32[e + EventWord.ref]);
        this.send(this.topic, this.tradeFrame, u32, e, Hide.Both);
      }
      if (accounts === 0) continue;
      const account = readU64(u32, e + EventWord.account);
      const counterparty = readU64(u32, e + EventWord.counterparty);
      // A trade with oneself (both sides one account) hides nothing from that account.
      const own = trade && counterparty !== account ? Hide.Maker : Hide.Nothing;
      if (account !== 0) this.sendAccount(account, u32, e, own);
      if (counterparty !== 0 && counterparty !== account && counterpartyTakesPart(kind)) {
        this.sendAccount(counterparty, u32, e, trade ? Hide.Taker : Hide.Nothing);
      }
    }
  }

  /** To `account`'s topics that have subscribers: each its frame of the event at word `e`. */
  private sendAccount(account: number, u32: Uint32Array, e: number, hide: Hide): void {
    if (this.plainSessions.has(account)) {
      writeAccountTopic(this.topicView, account, false);
      this.send(this.topic, this.plainFrame, u32, e, hide);
    }
    if (this.namedSessions.has(account)) {
      writeAccountTopic(this.topicView, account, true);
      this.namedFrame.view.setFloat64(frameHeaderBytes + 8, account, true);
      this.send(this.topic, this.namedFrame, u32, e, hide);
    }
  }

  /** Copies the event at word `e` of `u32` into `frame`, hides `hide`, and publishes it. */
  private send(
    topic: Uint8Array,
    frame: OneEventFrame,
    u32: Uint32Array,
    e: number,
    hide: Hide,
  ): void {
    const at = frame.eventAt;
    copyEvent(u32, e, frame.words, at >> 2);
    if ((hide & Hide.Maker) !== 0) hideMaker(frame.bytes, at);
    if ((hide & Hide.Taker) !== 0) hideTaker(frame.bytes, at);
    this.app.publish(topic, frame.bytes, true);
  }
}

/** An Events frame of one event for a stream of `kind`, its header and count written. */
class OneEventFrame {
  readonly eventAt: number;
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;
  readonly view: DataView;

  constructor(kind: StreamKind, flags: number) {
    this.eventAt = eventsOffset(flags);
    this.bytes = new Uint8Array(this.eventAt + eventSizeBytes);
    this.words = new Uint32Array(this.bytes.buffer);
    this.view = new DataView(this.bytes.buffer);
    writeHeader(this.view, 0, FrameType.Events, topicRequestId(kind), flags);
    this.view.setUint32(frameHeaderBytes, 1, true);
  }
}

/**
 * Copies one event, word by word (a subarray to `set` from was a view allocated per event):
 * from word `from` of `src` to word `to` of `dst`.
 */
function copyEvent(src: Uint32Array, from: number, dst: Uint32Array, to: number): void {
  for (let w = 0; w < EventWord.size; w++) dst[to + w] = src[from + w];
}
