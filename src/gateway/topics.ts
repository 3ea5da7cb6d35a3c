/**
 * Market data and account subscriptions over uWS pub/sub. Each durable Trade goes to topic
 * `trades/<instrument>`, and each event that names an account (as `account`, or as a
 * `counterparty` that takes part: not a Rejected command's target) goes to the account's
 * topics (`accountTopic`). One Events frame per event, with a fixed request id per stream
 * (`topicRequestId`), so that the frame is shared by every subscriber of its topic; an account's
 * frames name the account for the sessions that asked (HelloFlag.AccountInFrames). Nothing is
 * built while a topic has no subscriber.
 *
 * Trades are anonymous (trade-privacy.ts): the public trades stream names neither side, an
 * account's stream names only its own side.
 */
import { eventSizeBytes } from '../constants.js';
import type { RecordBuffer } from '../stdx/records.js';
import { readU64 } from '../stdx/records.js';
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

export function tradesTopic(instrument: number): string {
  return `trades/${instrument}`;
}

/**
 * Bytes of an account topic: its frames' form (AccountTopic), then the account (f64). Binary,
 * so that the publisher writes it in place: a string built per event and account allocated
 * (`account/<id>`), and each account now has a topic per form.
 */
export const accountTopicBytes = 9;

/** The first byte of an account topic: which frames it carries (not a printable character). */
const enum AccountTopic {
  /** Events frames as before HelloFlag.AccountInFrames: they do not say which account. */
  Plain = 0x03,
  /** Events frames flagged Account, naming it. */
  Named = 0x83,
}

/** Writes the topic of `account`'s stream into `view` (accountTopicBytes; no allocation). */
export function writeAccountTopic(view: DataView, account: number, named: boolean): void {
  view.setUint8(0, named ? AccountTopic.Named : AccountTopic.Plain);
  view.setFloat64(1, account, true);
}

/** The topic of `account`'s stream, its frames naming it or not (allocates: subscribing). */
export function accountTopic(account: number, named: boolean): Uint8Array {
  const topic = new Uint8Array(accountTopicBytes);
  writeAccountTopic(new DataView(topic.buffer), account, named);
  return topic;
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
  /** Subscriptions made (not lowered on unsubscribe: a cheap "anyone ever?" gate). */
  trades = 0;
  /** Account subscriptions made, by form (as `trades`: each form's topics looked up only then). */
  private plainAccounts = 0;
  private namedAccounts = 0;
  private readonly tradeFrame = eventsFrame(StreamKind.Trades, 0);
  private readonly plainFrame = eventsFrame(StreamKind.Account, 0);
  private readonly namedFrame = eventsFrame(StreamKind.Account, EventsFlag.Account);
  private readonly namedView = new DataView(this.namedFrame.buffer);
  private readonly topic = new Uint8Array(accountTopicBytes);
  private readonly topicView = new DataView(this.topic.buffer);

  constructor(private readonly app: TemplatedApp) {}

  /** A session joined an account's topic of frames that name it (`named`) or not. */
  accountJoined(named: boolean): void {
    if (named) this.namedAccounts++;
    else this.plainAccounts++;
  }

  publish(records: RecordBuffer, slot: number, count: number): void {
    const accounts = this.plainAccounts + this.namedAccounts;
    if (this.trades === 0 && accounts === 0) return;
    const u32 = records.u32;
    for (let i = 0; i < count; i++) {
      const e = (slot + i) * EventWord.size;
      const kind = u32[e + EventWord.kindStatus] & 0xff;
      const event = records.u8.subarray(
        (slot + i) * eventSizeBytes,
        (slot + i + 1) * eventSizeBytes,
      );
      const trade = kind === EventKind.Trade;
      if (this.trades > 0 && trade) {
        const topic = tradesTopic(u32[e + EventWord.ref]);
        if (this.app.numSubscribers(topic) > 0) this.send(topic, this.tradeFrame, event, Hide.Both);
      }
      if (accounts === 0) continue;
      const account = readU64(u32, e + EventWord.account);
      const counterparty = readU64(u32, e + EventWord.counterparty);
      // A trade with oneself (both sides one account) hides nothing from that account.
      const own = trade && counterparty !== account ? Hide.Maker : Hide.Nothing;
      if (account !== 0) this.sendAccount(account, event, own);
      if (counterparty !== 0 && counterparty !== account && counterpartyTakesPart(kind)) {
        this.sendAccount(counterparty, event, trade ? Hide.Taker : Hide.Nothing);
      }
    }
  }

  /** To `account`'s topics that have subscribers: each its frame. */
  private sendAccount(account: number, event: Uint8Array, hide: Hide): void {
    writeAccountTopic(this.topicView, account, false);
    if (this.plainAccounts > 0 && this.app.numSubscribers(this.topic) > 0) {
      this.send(this.topic, this.plainFrame, event, hide);
    }
    writeAccountTopic(this.topicView, account, true);
    if (this.namedAccounts > 0 && this.app.numSubscribers(this.topic) > 0) {
      this.namedView.setFloat64(frameHeaderBytes + 8, account, true);
      this.send(this.topic, this.namedFrame, event, hide);
    }
  }

  /** Copies `event` into the end of `frame`, hides what `hide` says, and publishes it. */
  private send(topic: string | Uint8Array, frame: Uint8Array, event: Uint8Array, hide: Hide): void {
    const at = frame.byteLength - eventSizeBytes;
    frame.set(event, at);
    if ((hide & Hide.Maker) !== 0) hideMaker(frame, at);
    if ((hide & Hide.Taker) !== 0) hideTaker(frame, at);
    this.app.publish(topic, frame, true);
  }
}

/** An Events frame of one event for a stream of `kind`, its header and count written. */
function eventsFrame(kind: StreamKind, flags: number): Uint8Array {
  const frame = new Uint8Array(eventsOffset(flags) + eventSizeBytes);
  const view = new DataView(frame.buffer);
  writeHeader(view, 0, FrameType.Events, topicRequestId(kind), flags);
  view.setUint32(frameHeaderBytes, 1, true);
  return frame;
}
