/**
 * Outcome codes (native-layouts/enums.fbs `Status`), inlined as a const enum. Ranges per stage:
 * 1xx command validation and idempotency, 2xx ledger, 3xx matching (350+ are expiry and
 * engine-cancel reasons, not rejections), 4xx risk.
 */
import { Status as GeneratedStatus } from './generated/bourse/protocol/status.js';
import { enumName } from './enum-name.js';

export const enum Status {
  Ok = 0,

  CommandKindUnknown = 100,
  CommandClientInvalid = 101,
  CommandClientSeqInvalid = 102,
  CommandFlagsInvalid = 103,
  CommandAmountZero = 104,
  CommandAmountNegative = 105,
  CommandAmountTooLarge = 106,
  CommandIdInvalid = 107,

  IdempotencySeqTooOld = 150,
  IdempotencySeqOutOfOrder = 151,
  IdempotencyClientTableFull = 152,
  IdempotencyChainMixed = 153,
  IdempotencySeqReused = 154,

  LedgerAccountUnknown = 200,
  LedgerAccountExists = 201,
  LedgerAccountTableFull = 202,
  LedgerAssetUnknown = 203,
  LedgerAssetExists = 204,
  LedgerAssetIdInvalid = 205,
  LedgerAssetScaleInvalid = 206,
  LedgerInsufficientFunds = 207,
  LedgerSameAccount = 208,
  LedgerSupplyOverflow = 209,
  LedgerPendingUnknown = 210,
  LedgerPendingAccountMismatch = 211,
  LedgerPendingAmountExceeded = 212,
  LedgerPendingExpired = 213,
  LedgerPendingTableFull = 214,
  LedgerTimeoutInvalid = 215,
  LedgerLinkedEventFailed = 220,
  LedgerLinkedChainOpen = 221,
  LedgerLinkedChainTooLong = 222,
  LedgerLinkedKindInvalid = 223,

  MatchingInstrumentUnknown = 300,
  MatchingInstrumentExists = 301,
  MatchingInstrumentIdInvalid = 302,
  MatchingInstrumentHalted = 303,
  MatchingInstrumentNotHalted = 304,
  MatchingInstrumentAlreadyHalted = 305,
  MatchingInstrumentAssetsInvalid = 306,
  MatchingFeeInvalid = 307,
  MatchingPriceTick = 310,
  MatchingQuantityLot = 311,
  MatchingMarketPriceNotAllowed = 312,
  MatchingOrderUnknown = 314,
  MatchingOrderNotOwner = 315,
  MatchingPostOnlyWouldCross = 316,
  MatchingOrderTableFull = 317,
  MatchingLevelTableFull = 318,
  MatchingAmendNoChange = 319,

  MatchingNoLiquidity = 350,
  MatchingFokNotFilled = 351,
  MatchingSelfTrade = 352,
  MatchingFillLimit = 353,
  MatchingFundsExhausted = 354,

  RiskInsufficientFunds = 400,
  RiskNotionalTooLarge = 401,
}

/** The schema's name for a status code (a table lookup: for logs and tools). */
export function statusName(code: number): string {
  return enumName(GeneratedStatus, code);
}
