/**
 * The Event struct's byte layout (native-layouts/events.fbs), as const enums that tsc inlines.
 * Checked against flatc's generated code by test/unit/protocol/layout.test.ts.
 *
 *   0            8            16           24     28  29  30    32    34  35  36
 *   +------------+------------+------------+------+---+---+-----+-----+---+---+------+
 *   | sequence   | timestamp  | client_seq |client|knd|cmd|stat-|flags|tif|stp| ref  |
 *   | u64        | u64        | u64        |id u32|   |knd|us   |u16  |   |   | u32  |
 *   +------------+------------+------------+------+---+---+-----+-----+---+---+------+
 *   40 account, 48 counterparty, 56 id, 64 other_id (u64);
 *   72 price, 80 quantity, 88 amount, 96 fee, 104 counterparty_fee, 112 release, 120 aux (i64).
 */
export const enum EventOffset {
  sequence = 0,
  timestamp = 8,
  clientSeq = 16,
  clientId = 24,
  kind = 28,
  commandKind = 29,
  status = 30,
  flags = 32,
  tif = 34,
  stp = 35,
  ref = 36,
  account = 40,
  counterparty = 48,
  id = 56,
  otherId = 64,
  price = 72,
  quantity = 80,
  amount = 88,
  fee = 96,
  counterpartyFee = 104,
  release = 112,
  aux = 120,
  size = 128,
}

export const enum EventKind {
  None = 0,
  Rejected = 1,
  Duplicate = 2,
  AccountCreated = 3,
  AssetAdded = 4,
  Deposited = 5,
  Withdrawn = 6,
  Transferred = 7,
  PendingCreated = 8,
  PendingPosted = 9,
  PendingVoided = 10,
  PendingExpired = 11,
  InstrumentAdded = 12,
  InstrumentHalted = 13,
  InstrumentResumed = 14,
  OrderAccepted = 15,
  Trade = 16,
  OrderExpired = 17,
  OrderCanceled = 18,
  OrderAmended = 19,
  Ticked = 20,
  AllCanceled = 21,
  CancelOnDisconnectSet = 22,
  Count = 23,
}

/**
 * Whether an event's `counterparty` is an account that takes part (the credit side of a transfer,
 * the maker of a trade). A Rejected event copies the command's target there, which may be an
 * order or pending id or an account that nothing happened to: the streams and reads that serve
 * an account's events (docs/PROTOCOL.md, stream 3) must not hand it to that account.
 */
export function counterpartyTakesPart(kind: number): boolean {
  return (
    (kind >= EventKind.Transferred && kind <= EventKind.PendingExpired) || kind === EventKind.Trade
  );
}

/** Whether an event names `account` as a party (stream 3, GET /events?account=). */
export function namesAccount(
  kind: number,
  account: number,
  counterparty: number,
  wanted: number,
): boolean {
  return account === wanted || (counterparty === wanted && counterpartyTakesPart(kind));
}

/**
 * The word where a head event flagged Record keeps its command's fingerprint
 * (engine/fingerprint.ts), so that replay and standbys, which rebuild state from events alone,
 * remember it as the primary does. It is the low word of `other_id`, which no other recorded
 * head kind uses (other_id's high word stays 0), except InstrumentAdded, whose other_id is the
 * quote asset, and AllCanceled, whose other_id is where to go on: there it is the low word of
 * `release`. Events written before fingerprints were kept have 0 there: "not known".
 */
export function fingerprintWord(kind: number): number {
  return kind === EventKind.InstrumentAdded || kind === EventKind.AllCanceled
    ? EventWord.release
    : EventWord.otherId;
}

export const enum EventFlag {
  Head = 1,
  Record = 2,
  Sell = 4,
  Market = 8,
  PostOnly = 16,
  PriorityKept = 32,
  /** On a head event: the command was flagged Linked (a member of a chain, not its last). */
  Linked = 64,
}

/**
 * The same layout in 32-bit words. Word 7 packs kind | command_kind << 8 | status << 16;
 * word 8 packs flags | tif << 16 | stp << 24.
 */
export const enum EventWord {
  sequence = 0,
  timestamp = 2,
  clientSeq = 4,
  clientId = 6,
  kindStatus = 7,
  flagsTifStp = 8,
  ref = 9,
  account = 10,
  counterparty = 12,
  id = 14,
  otherId = 16,
  price = 18,
  quantity = 20,
  amount = 22,
  fee = 24,
  counterpartyFee = 26,
  release = 28,
  aux = 30,
  size = 32,
}
