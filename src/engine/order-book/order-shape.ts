/**
 * The order being decided, as a reused ticket: small integers as fields, everything that may
 * exceed int32 in a Float64Array (a double passed to a call that is not inlined is boxed, and the
 * engine must not allocate). `checkOrderShape` fills it from a PlaceOrder command after the field
 * checks that need no account state: flags, time in force, self-trade mode, instrument, price and
 * quantity against tick and lot.
 */
import { Status } from '../../protocol/status.js';
import {
  CommandFlag,
  CommandWord,
  SelfTradePrevention,
  TimeInForce,
} from '../../protocol/command-layout.js';
import {
  amountStatus as amountStatusImport,
  idStatus as idStatusImport,
} from '../../protocol/command-fields.js';
import { isMultipleOf as isMultipleOfImport } from '../../stdx/int.js';
import { readI64 as readI64Import } from '../../stdx/records.js';
import type { CommandCursor } from '../cursor.js';
import type { Instruments } from './instruments.js';
import { Side } from './orders.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const amountStatus: typeof amountStatusImport = amountStatusImport;
const idStatus: typeof idStatusImport = idStatusImport;
const readI64: typeof readI64Import = readI64Import;
const isMultipleOf: typeof isMultipleOfImport = isMultipleOfImport;

export const enum Ticket {
  price = 0,
  quantity = 1,
  /** What rests on the book after matching. */
  rest = 2,
  /** An amended order's previous hold, released first. */
  oldHold = 3,
  orderId = 4,
}

export class OrderTicket {
  instrument = 0;
  side = 0;
  flags = 0;
  tif = 0;
  stp = 0;
  account = 0;
  /** The order an amendment replaces, or -1 for a new order. */
  amendedSlot = -1;
  /** Indexed by Ticket. */
  readonly values = new Float64Array(5);
}

export function checkOrderShape(c: CommandCursor, ins: Instruments, out: OrderTicket): Status {
  const bits = c.word(CommandWord.bits);
  const flags = (bits >>> 8) & 0xff;
  const tif = (bits >>> 16) & 0xff;
  const stp = bits >>> 24;
  if ((flags & ~(CommandFlag.Sell | CommandFlag.Market | CommandFlag.PostOnly)) !== 0) {
    return Status.CommandFlagsInvalid;
  }
  if (tif >= TimeInForce.Count || stp >= SelfTradePrevention.Count) {
    return Status.CommandFlagsInvalid;
  }
  const market = (flags & CommandFlag.Market) !== 0;
  const postOnly = (flags & CommandFlag.PostOnly) !== 0;
  if (postOnly && (market || tif !== TimeInForce.Gtc)) return Status.CommandFlagsInvalid;
  let status = idStatus(c.u32, (c.w + CommandWord.account) | 0);
  if (status !== Status.Ok) return status;
  const instrument = c.word(CommandWord.ref);
  if (!ins.has(instrument)) return Status.MatchingInstrumentUnknown;
  if (ins.halted[instrument] === 1) return Status.MatchingInstrumentHalted;
  let price = 0;
  if (market) {
    if (c.word(CommandWord.price) !== 0 || c.word(CommandWord.price + 1) !== 0) {
      return Status.MatchingMarketPriceNotAllowed;
    }
  } else {
    const priceAt = (c.w + CommandWord.price) | 0; // records.ts: `| 0`, no overflow check
    status = amountStatus(c.u32, priceAt);
    if (status !== Status.Ok) return status;
    price = readI64(c.u32, priceAt);
    if (!isMultipleOf(price, ins.tick[instrument])) return Status.MatchingPriceTick;
  }
  const quantityAt = (c.w + CommandWord.quantity) | 0;
  status = amountStatus(c.u32, quantityAt);
  if (status !== Status.Ok) return status;
  const quantity = readI64(c.u32, quantityAt);
  if (!isMultipleOf(quantity, ins.lot[instrument])) return Status.MatchingQuantityLot;
  out.instrument = instrument;
  out.side = (flags & CommandFlag.Sell) !== 0 ? Side.Sell : Side.Buy;
  out.flags = flags;
  out.tif = tif;
  out.stp = stp;
  out.amendedSlot = -1;
  out.values[Ticket.price] = price;
  out.values[Ticket.quantity] = quantity;
  out.values[Ticket.rest] = 0;
  out.values[Ticket.oldHold] = 0;
  out.values[Ticket.orderId] = c.clock[0];
  return Status.Ok;
}
