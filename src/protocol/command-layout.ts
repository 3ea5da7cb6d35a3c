/**
 * The Command struct's byte layout (native-layouts/commands.fbs), as const enums that tsc inlines
 * into the hot path. test/unit/protocol/layout.test.ts checks every value against the code flatc
 * generates, so this file cannot drift from the schema.
 *
 *   0               8       12  13  14  15  16              24              32      36  38  40
 *   +---------------+-------+---+---+---+---+---------------+---------------+-------+---+---+
 *   | client_seq    |client | k | f | t | s | account       | target        | ref   |mkr|tkr|
 *   |   u64         |id u32 |ind|lgs|if |tp |   u64         |   u64         |  u32  |bps|bps|
 *   +---------------+-------+---+---+---+---+---------------+---------------+-------+---+---+
 *   40              48              56              64
 *   +---------------+---------------+---------------+
 *   | price i64     | quantity i64  | aux i64       |
 *   +---------------+---------------+---------------+
 */
export const enum CommandOffset {
  clientSeq = 0,
  clientId = 8,
  kind = 12,
  flags = 13,
  tif = 14,
  stp = 15,
  account = 16,
  target = 24,
  ref = 32,
  makerFeeBps = 36,
  takerFeeBps = 38,
  price = 40,
  quantity = 48,
  aux = 56,
  size = 64,
}

export const enum CommandKind {
  None = 0,
  CreateAccount = 1,
  AddAsset = 2,
  Deposit = 3,
  Withdraw = 4,
  Transfer = 5,
  TransferPending = 6,
  TransferPost = 7,
  TransferVoid = 8,
  AddInstrument = 9,
  HaltInstrument = 10,
  ResumeInstrument = 11,
  PlaceOrder = 12,
  CancelOrder = 13,
  AmendOrder = 14,
  Tick = 15,
  CancelAll = 16,
  CancelClientOrders = 17,
  SetCancelOnDisconnect = 18,
  /** One past the highest kind. */
  Count = 19,
}

export const enum CommandFlag {
  Linked = 1,
  Sell = 2,
  Market = 4,
  PostOnly = 8,
  /** Every defined bit; any other bit is rejected. */
  All = 15,
}

export const enum TimeInForce {
  Gtc = 0,
  Ioc = 1,
  Fok = 2,
  Count = 3,
}

export const enum SelfTradePrevention {
  CancelResting = 0,
  CancelTaker = 1,
  CancelBoth = 2,
  Count = 3,
}

/**
 * The same layout in 32-bit words, for reading with a Uint32Array. Word 3 packs
 * kind | flags << 8 | tif << 16 | stp << 24; word 9 packs maker_fee_bps | taker_fee_bps << 16.
 */
export const enum CommandWord {
  clientSeq = 0,
  clientId = 2,
  bits = 3,
  account = 4,
  target = 6,
  ref = 8,
  feeBps = 9,
  price = 10,
  quantity = 12,
  aux = 14,
  size = 16,
}

/**
 * SequencedCommand (80 bytes): the command, then the sequencer's stamp. Word offsets.
 *
 *   0                      64             72             80
 *   +----------------------+--------------+--------------+
 *   | Command (64 bytes)   | sequence u64 | timestamp u64|
 *   +----------------------+--------------+--------------+
 */
export const enum SequencedWord {
  command = 0,
  sequence = 16,
  timestamp = 18,
  size = 20,
}
