/**
 * Market data and account subscriptions over uWS pub/sub. Each durable Trade goes to topic
 * `trades/<instrument>`, and each event that names an account (as `account`, or as a
 * `counterparty` that takes part: not a Rejected command's target) goes to `account/<id>`.
 * One Events frame per event, with a fixed request id per stream (`topicRequestId`), so that
 * the frame is shared by every subscriber. Nothing is built while a stream has no subscriber.
 *
 * Trades are anonymous (trade-privacy.ts): the public trades stream names neither side, an
 * account's stream names only its own side.
 */
import { eventSizeBytes } from '../constants.js';
import type { RecordBuffer } from '../stdx/records.js';
import { readU64 } from '../stdx/records.js';
import { counterpartyTakesPart, EventKind, EventWord } from '../protocol/event-layout.js';
import {
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

export function accountTopic(account: number): string {
  return `account/${account}`;
}

export class Topics {
  /** Subscriptions made (not lowered on unsubscribe: a cheap "anyone ever?" gate). */
  trades = 0;
  accounts = 0;
  private readonly frame = new Uint8Array(frameHeaderBytes + 8 + eventSizeBytes);
  private readonly view = new DataView(this.frame.buffer);

  constructor(private readonly app: TemplatedApp) {
    this.view.setUint32(frameHeaderBytes, 1, true);
  }

  publish(records: RecordBuffer, slot: number, count: number): void {
    if (this.trades === 0 && this.accounts === 0) return;
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
        this.send(tradesTopic(u32[e + EventWord.ref]), StreamKind.Trades, event, Hide.Both);
      }
      if (this.accounts === 0) continue;
      const account = readU64(u32, e + EventWord.account);
      const counterparty = readU64(u32, e + EventWord.counterparty);
      // A trade with oneself (both sides one account) hides nothing from that account.
      const own = trade && counterparty !== account ? Hide.Maker : Hide.Nothing;
      if (account !== 0) this.send(accountTopic(account), StreamKind.Account, event, own);
      if (counterparty !== 0 && counterparty !== account && counterpartyTakesPart(kind)) {
        const side = trade ? Hide.Taker : Hide.Nothing;
        this.send(accountTopic(counterparty), StreamKind.Account, event, side);
      }
    }
  }

  private send(topic: string, kind: StreamKind, event: Uint8Array, hide: Hide): void {
    if (this.app.numSubscribers(topic) === 0) return;
    writeHeader(this.view, 0, FrameType.Events, topicRequestId(kind));
    const at = frameHeaderBytes + 8;
    this.frame.set(event, at);
    if ((hide & Hide.Maker) !== 0) hideMaker(this.frame, at);
    if ((hide & Hide.Taker) !== 0) hideTaker(this.frame, at);
    this.app.publish(topic, this.frame, true);
  }
}
