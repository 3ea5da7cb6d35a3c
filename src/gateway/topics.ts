/**
 * Market data and account subscriptions over uWS pub/sub. Each durable Trade goes to topic
 * `trades/<instrument>`, and each event that names an account (as `account` or
 * `counterparty`) goes to `account/<id>`. One Events frame per event, with a fixed request id
 * per stream (`topicRequestId`), so that the frame is shared by every subscriber. Nothing is
 * built while a stream has no subscriber.
 *
 * The trades stream is public (any session, the dashboard's pages), so its Trade events are
 * anonymous: who traded is cleared, what traded is kept.
 *
 *   kept:    sequence, timestamp, kind, command kind, status, flags (Sell: the taker sold),
 *            ref (the instrument), price, quantity, amount (the notional)
 *   cleared: client seq, client id, tif, stp, account, counterparty, order ids, fees,
 *            release, aux
 */
import { eventSizeBytes } from '../constants.js';
import type { RecordBuffer } from '../stdx/records.js';
import { readU64 } from '../stdx/records.js';
import { EventKind, EventOffset, EventWord } from '../protocol/event-layout.js';
import {
  FrameType,
  frameHeaderBytes,
  StreamKind,
  topicRequestId,
  writeHeader,
} from '../protocol/frames.js';
import type { TemplatedApp } from './uws.js';

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
      if (this.trades > 0 && kind === EventKind.Trade) {
        this.sendTrade(tradesTopic(u32[e + EventWord.ref]), event);
      }
      if (this.accounts === 0) continue;
      const account = readU64(u32, e + EventWord.account);
      const counterparty = readU64(u32, e + EventWord.counterparty);
      if (account !== 0) this.send(accountTopic(account), StreamKind.Account, event);
      if (counterparty !== 0 && counterparty !== account) {
        this.send(accountTopic(counterparty), StreamKind.Account, event);
      }
    }
  }

  private send(topic: string, kind: StreamKind, event: Uint8Array): void {
    if (this.app.numSubscribers(topic) === 0) return;
    writeHeader(this.view, 0, FrameType.Events, topicRequestId(kind));
    this.frame.set(event, frameHeaderBytes + 8);
    this.app.publish(topic, this.frame, true);
  }

  /** A Trade on the public stream, without who made it (see the header). */
  private sendTrade(topic: string, event: Uint8Array): void {
    if (this.app.numSubscribers(topic) === 0) return;
    writeHeader(this.view, 0, FrameType.Events, topicRequestId(StreamKind.Trades));
    const at = frameHeaderBytes + 8;
    const frame = this.frame;
    frame.set(event, at);
    frame.fill(0, at + EventOffset.clientSeq, at + EventOffset.kind);
    frame.fill(0, at + EventOffset.tif, at + EventOffset.ref);
    frame.fill(0, at + EventOffset.account, at + EventOffset.price);
    frame.fill(0, at + EventOffset.fee, at + EventOffset.size);
    this.app.publish(topic, frame, true);
  }
}
