/**
 * Decoding events into plain objects, for tests, tools and clients. Allocates one object per
 * event: not for the hot path, where consumers read fields with typed arrays (EventWord).
 */
import { readI64, readU64 } from '../stdx/records.js';
import { EventWord } from './event-layout.js';
import { EventKind as GeneratedEventKind } from './generated/bourse/protocol/event-kind.js';
import { CommandKind as GeneratedCommandKind } from './generated/bourse/protocol/command-kind.js';
import { EventFlag as GeneratedEventFlag } from './generated/bourse/protocol/event-flag.js';
import { statusName } from './status.js';
import { enumName, flagNames } from './enum-name.js';
import { isoTimeUs } from './time-us.js';

/**
 * One event (docs/PROTOCOL.md's table "What each event kind fills in" says which fields each
 * kind sets, as native-layouts/events.fbs does). The SDK's calls resolve with their command's
 * events, the head first (flag Head, the command's status). After a
 * reconnect, a command the node had applied before the drop is answered by one `Duplicate`
 * event instead: `status` the original's, `id` the order or transfer it made, `otherId` the
 * sequence of its original head, and `account`, `price`, `quantity`, `amount` 0 (its original
 * events and fills: `GET /events?account=A&from=<otherId>`, or the account stream).
 */
export interface EventRecord {
  sequence: number;
  timestamp: number;
  clientSeq: number;
  clientId: number;
  kind: number;
  commandKind: number;
  status: number;
  flags: number;
  tif: number;
  stp: number;
  ref: number;
  account: number;
  counterparty: number;
  id: number;
  otherId: number;
  price: number;
  quantity: number;
  amount: number;
  fee: number;
  counterpartyFee: number;
  release: number;
  aux: number;
}

/** Decodes the event whose first word is `e`. */
export function readEvent(u32: Uint32Array, e: number): EventRecord {
  const kindStatus = u32[e + EventWord.kindStatus];
  const flagsTifStp = u32[e + EventWord.flagsTifStp];
  return {
    sequence: readU64(u32, e + EventWord.sequence),
    timestamp: readU64(u32, e + EventWord.timestamp),
    clientSeq: readU64(u32, e + EventWord.clientSeq),
    clientId: u32[e + EventWord.clientId],
    kind: kindStatus & 0xff,
    commandKind: (kindStatus >>> 8) & 0xff,
    status: kindStatus >>> 16,
    flags: flagsTifStp & 0xffff,
    tif: (flagsTifStp >>> 16) & 0xff,
    stp: flagsTifStp >>> 24,
    ref: u32[e + EventWord.ref],
    account: readU64(u32, e + EventWord.account),
    counterparty: readU64(u32, e + EventWord.counterparty),
    id: readU64(u32, e + EventWord.id),
    otherId: readU64(u32, e + EventWord.otherId),
    price: readI64(u32, e + EventWord.price),
    quantity: readI64(u32, e + EventWord.quantity),
    amount: readI64(u32, e + EventWord.amount),
    fee: readI64(u32, e + EventWord.fee),
    counterpartyFee: readI64(u32, e + EventWord.counterpartyFee),
    release: readI64(u32, e + EventWord.release),
    aux: readI64(u32, e + EventWord.aux),
  };
}

export function eventKindName(kind: number): string {
  return enumName(GeneratedEventKind, kind);
}

export function commandKindName(kind: number): string {
  return enumName(GeneratedCommandKind, kind);
}

/**
 * One line, fields that are zero left out, its time to the µs (pasted into replay --to-time, it
 * includes the event) and flags by name (`flags=3` had to be decoded by hand):
 * `#12 2026-12-04T19:54:55.118904Z Traded Ok ref=1 account=7 ... flags=Head|Record`.
 */
export function formatEvent(ev: EventRecord): string {
  const parts = ['#' + ev.sequence, isoTimeUs(ev.timestamp), eventKindName(ev.kind)];
  parts.push(statusName(ev.status));
  if (ev.clientId !== 0) parts.push('client=' + ev.clientId + '/' + ev.clientSeq);
  const named: Array<[string, number]> = [
    ['ref', ev.ref],
    ['account', ev.account],
    ['counterparty', ev.counterparty],
    ['id', ev.id],
    ['other', ev.otherId],
    ['price', ev.price],
    ['quantity', ev.quantity],
    ['amount', ev.amount],
    ['fee', ev.fee],
    ['counterpartyFee', ev.counterpartyFee],
    ['release', ev.release],
    ['aux', ev.aux],
  ];
  for (const [name, value] of named) if (value !== 0) parts.push(name + '=' + value);
  if (ev.flags !== 0) parts.push('flags=' + flagNames(GeneratedEventFlag, ev.flags));
  return parts.join(' ');
}
