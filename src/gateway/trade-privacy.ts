/**
 * Who sees whom in a Trade. The engine's Trade event names both sides (native-layouts/
 * events.fbs); the journal keeps it whole. What leaves the gateway is anonymous, as on a
 * central limit order book:
 *
 *   Trade bytes      0 seq, time | 16 client seq, id | 28 kind.. | 34 tif, stp | 36 ref
 *                   40 taker acct | 48 maker acct | 56 taker order | 64 maker order
 *                   72 price, quantity, notional | 96 taker fee | 104 maker fee, release, open
 *
 *   the taker (its answers, its account stream)    everything but the maker's fields
 *   the maker (its account stream)                 everything but the taker's fields
 *   anyone (the trades stream)                     neither side's fields
 *
 * The journal stream (admin keys only) is the whole record.
 */
import { EventKind, EventOffset } from '../protocol/event-layout.js';
import type { EventRecord } from '../protocol/event-reader.js';
import { readU64At } from '../stdx/records.js';

/** Clears the maker's fields of the Trade event at byte `at` of `u8`. */
export function hideMaker(u8: Uint8Array, at: number): void {
  u8.fill(0, at + EventOffset.counterparty, at + EventOffset.id);
  u8.fill(0, at + EventOffset.otherId, at + EventOffset.price);
  u8.fill(0, at + EventOffset.counterpartyFee, at + EventOffset.size);
}

/** Clears the taker's fields (and its command's client seq and id, tif and stp). */
export function hideTaker(u8: Uint8Array, at: number): void {
  u8.fill(0, at + EventOffset.clientSeq, at + EventOffset.kind);
  u8.fill(0, at + EventOffset.tif, at + EventOffset.ref);
  u8.fill(0, at + EventOffset.account, at + EventOffset.counterparty);
  u8.fill(0, at + EventOffset.id, at + EventOffset.otherId);
  u8.fill(0, at + EventOffset.fee, at + EventOffset.counterpartyFee);
}

/**
 * Clears the maker's fields of each Trade among the `n` events from byte `from` of `u8`
 * (`view` over the same bytes): the taker's answers. A trade with oneself keeps them.
 */
export function hideMakers(u8: Uint8Array, view: DataView, from: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const at = from + i * EventOffset.size;
    if (u8[at + EventOffset.kind] !== EventKind.Trade) continue;
    const taker = readU64At(view, at + EventOffset.account);
    if (taker !== readU64At(view, at + EventOffset.counterparty)) hideMaker(u8, at);
  }
}

/** The fields hideMaker and hideTaker clear, by name, for decoded events. */
const makerFields = ['counterparty', 'otherId', 'counterpartyFee', 'release', 'aux'] as const;
const takerFields = ['clientSeq', 'clientId', 'tif', 'stp', 'account', 'id', 'fee'] as const;

function clear(e: EventRecord, fields: readonly (keyof EventRecord)[]): EventRecord {
  for (const f of fields) (e[f] as number) = 0;
  return e;
}

/** The same for a decoded event (HTTP answers). */
export function hideMakerOf(e: EventRecord): EventRecord {
  if (e.kind !== EventKind.Trade || e.account === e.counterparty) return e;
  return clear(e, makerFields);
}

/**
 * A decoded event as `account`'s own stream shows it (GET /events?account=N): of a Trade
 * between two accounts, only that account's side (hideMaker's or hideTaker's fields cleared).
 */
export function ownSideOf(e: EventRecord, account: number): EventRecord {
  if (e.kind !== EventKind.Trade || e.account === e.counterparty) return e;
  return e.account === account ? clear(e, makerFields) : clear(e, takerFields);
}
