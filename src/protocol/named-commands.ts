/**
 * Commands by their meaning: `transfer({ from, to, asset, amount })` instead of the protocol's
 * `{ account, target, ref, quantity }`, `placeOrder({ side: 'sell', ... })` instead of a flag
 * bit. Each is turned into the protocol's fields here (commands.fbs has the table), every name
 * and value checked first, so that a mistake is an error naming the field, never a command that
 * means something else.
 *
 *   named fields ──check──► protocol fields ──► the same path as submit()
 */
import { CommandFlag, CommandKind, SelfTradePrevention, TimeInForce } from './command-layout.js';
import { isCommandFieldName, narrowFieldError, type CommandBody } from './command-writer.js';
import { shown } from './shown.js';

type Fields = CommandBody;

export interface TransferArgs {
  /** The account debited. */
  from: number;
  /** The account credited. */
  to: number;
  asset: number;
  /** In the asset's minor units. */
  amount: number;
  /**
   * This and the client's next command succeed or fail together (a chain runs to the first
   * command without the flag). Through the SDK, make the chain's calls with no `await` between
   * them: it sends them together once the last one comes, and refuses a chain still open at
   * the first microtask (an `await`, even of a settled promise, or the end of the tick).
   */
  linked?: boolean;
}

export interface PendingTransferArgs extends TransferArgs {
  /**
   * Logical microseconds after which the hold expires (0 or absent: never): its funds return
   * with a `PendingExpired` event (not `PendingVoided`), and a later post or void of it is
   * rejected `LedgerPendingExpired`.
   */
  timeoutUs?: number;
}

export interface PostPendingArgs {
  /**
   * The account acting: the pending transfer's debit account (the payer) or its credit account
   * (the payee, capturing what was authorised to it).
   */
  from: number;
  /** The pending transfer: the sequence its TransferPending was given. */
  pending: number;
  /** At most what it holds. */
  amount: number;
  /** As TransferArgs' `linked`. */
  linked?: boolean;
}

export interface VoidPendingArgs {
  /** As PostPendingArgs' `from`: either of the pending transfer's accounts. */
  from: number;
  pending: number;
  /** As TransferArgs' `linked`. */
  linked?: boolean;
}

export type Side = 'buy' | 'sell';
export type TimeInForceName = 'GTC' | 'IOC' | 'FOK';
/** What happens when an order would trade with one of its own account's resting orders. */
export type SelfTradeName = 'cancel-resting' | 'cancel-taker' | 'cancel-both';

export interface OrderArgs {
  account: number;
  instrument: number;
  side: Side;
  /** Base minor units, a multiple of the lot size. */
  quantity: number;
  /** Quote minor units per lot, a multiple of the tick. Required unless `market`. */
  price?: number;
  /** A market order: no price; what does not trade at once expires. */
  market?: boolean;
  /** Default GTC (a limit order's remainder rests). */
  tif?: TimeInForceName;
  /** Rest without trading, or be rejected. */
  postOnly?: boolean;
  /** Default cancel-resting. */
  selfTrade?: SelfTradeName;
}

export interface CancelArgs {
  account: number;
  /** The order id: the sequence its PlaceOrder was given. */
  order: number;
}

export interface CancelAllArgs {
  account: number;
  /** Only this instrument's orders (0 or absent: every instrument's). */
  instrument?: number;
  /**
   * Go on from this order: the `otherId` of the previous round's AllCanceled head (0 or absent:
   * from the account's oldest order). The SDK's cancelAll sets it itself.
   */
  next?: number;
}

export interface CancelClientOrdersArgs {
  /** The client id whose resting orders go (an account key: its own only). */
  client: number;
  /** As CancelAllArgs' `next`, along the client's orders. */
  next?: number;
}

export interface AmendArgs extends CancelArgs {
  /** The new price (a change loses time priority). */
  price: number;
  /** The new open quantity (a reduction at the same price keeps priority). */
  quantity: number;
}

export interface AccountArgs {
  account: number;
}
export interface AssetArgs {
  asset: number;
  /** Digits after the point of the asset's minor unit: cents are 2 (0 to 18). */
  scale: number;
}
export interface FundsArgs {
  account: number;
  asset: number;
  amount: number;
}
export interface InstrumentArgs {
  instrument: number;
  base: number;
  quote: number;
  /** Price step, in quote minor units per lot. */
  tick: number;
  /** Quantity step, in base minor units. */
  lot: number;
  /** The account fees are paid into. */
  feeAccount: number;
  makerFeeBps?: number;
  takerFeeBps?: number;
}
export interface InstrumentRef {
  instrument: number;
}

/** How each named command becomes protocol fields: its kind, then the fields by name. */
type Mapping = readonly (readonly [named: string, field: keyof Fields | null, needed: boolean])[];

const transferMap: Mapping = [
  ['from', 'account', true],
  ['to', 'target', true],
  ['asset', 'ref', true],
  ['amount', 'quantity', true],
  ['linked', null, false],
];

/** Named commands: each kind's fields. Booleans and names are mapped by `toFields`. */
export const namedCommands = {
  transfer: [CommandKind.Transfer, transferMap],
  transferPending: [CommandKind.TransferPending, [...transferMap, ['timeoutUs', 'aux', false]]],
  postPending: [
    CommandKind.TransferPost,
    [
      ['from', 'account', true],
      ['pending', 'target', true],
      ['amount', 'quantity', true],
      ['linked', null, false],
    ],
  ],
  voidPending: [
    CommandKind.TransferVoid,
    [
      ['from', 'account', true],
      ['pending', 'target', true],
      ['linked', null, false],
    ],
  ],
  placeOrder: [
    CommandKind.PlaceOrder,
    [
      ['account', 'account', true],
      ['instrument', 'ref', true],
      ['side', null, true],
      ['quantity', 'quantity', true],
      ['price', 'price', false],
      ['market', null, false],
      ['tif', null, false],
      ['postOnly', null, false],
      ['selfTrade', null, false],
    ],
  ],
  cancel: [
    CommandKind.CancelOrder,
    [
      ['account', 'account', true],
      ['order', 'target', true],
    ],
  ],
  cancelAll: [
    CommandKind.CancelAll,
    [
      ['account', 'account', true],
      ['instrument', 'ref', false],
      ['next', 'target', false],
    ],
  ],
  cancelClientOrders: [
    CommandKind.CancelClientOrders,
    [
      ['client', 'ref', true],
      ['next', 'target', false],
    ],
  ],
  amend: [
    CommandKind.AmendOrder,
    [
      ['account', 'account', true],
      ['order', 'target', true],
      ['price', 'price', true],
      ['quantity', 'quantity', true],
    ],
  ],
  createAccount: [CommandKind.CreateAccount, [['account', 'account', true]]],
  addAsset: [
    CommandKind.AddAsset,
    [
      ['asset', 'ref', true],
      ['scale', 'aux', true],
    ],
  ],
  deposit: [CommandKind.Deposit, fundsMap()],
  withdraw: [CommandKind.Withdraw, fundsMap()],
  addInstrument: [
    CommandKind.AddInstrument,
    [
      ['instrument', 'ref', true],
      ['base', 'target', true],
      ['quote', 'aux', true],
      ['tick', 'price', true],
      ['lot', 'quantity', true],
      ['feeAccount', 'account', true],
      ['makerFeeBps', 'makerFeeBps', false],
      ['takerFeeBps', 'takerFeeBps', false],
    ],
  ],
  haltInstrument: [CommandKind.HaltInstrument, [['instrument', 'ref', true]]],
  resumeInstrument: [CommandKind.ResumeInstrument, [['instrument', 'ref', true]]],
} as const satisfies Record<string, readonly [CommandKind, Mapping]>;

export type NamedCommand = keyof typeof namedCommands;

/** The named command of a command kind (Tick has none). */
export function namedCommandOf(kind: number): NamedCommand | null {
  for (const name of Object.keys(namedCommands) as NamedCommand[]) {
    if (namedCommands[name][0] === kind) return name;
  }
  return null;
}

function fundsMap(): Mapping {
  return [
    ['account', 'account', true],
    ['asset', 'ref', true],
    ['amount', 'quantity', true],
  ];
}

/**
 * The protocol fields of named command `name` called with `args`.
 * @throws TypeError for a missing, unknown or mistyped field; RangeError for a value out of
 * its range (checked again, with the protocol's names, on the way to the wire).
 */
/**
 * Refuses a value too large for its narrow wire field, by the call's own name for it: the
 * wire's check said "ref: 0 to 4294967295" to a caller of addAsset({ asset: 2 ** 33 }).
 */
function narrowCheck(name: NamedCommand, mapping: Mapping, f: Fields): void {
  const narrow = narrowFieldError(f);
  if (narrow === null) return;
  const wire = narrow.slice(0, narrow.indexOf(':')) as keyof Fields;
  const named = mapping.find(([, field]) => field === wire)?.[0] ?? wire;
  throw new RangeError(`${name}: '${named}'${narrow.slice(wire.length)}, not ${shown(f[wire])}`);
}

export function toFields(name: NamedCommand, args: object): Fields {
  const [, mapping] = namedCommands[name];
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    const names = mapping.map(([named]) => named).join(', ');
    throw new TypeError(`${name}: give its fields in an object (${names}), not ${shown(args)}`);
  }
  const a = args as Record<string, unknown>;
  for (const key of Object.keys(a)) {
    if (!mapping.some(([named]) => named === key)) {
      const names = mapping.map(([named]) => named).join(', ');
      // A protocol name among named ones: which did the caller mean? Neither is guessed.
      const mixed = isCommandFieldName(key) ? ': named and protocol fields mixed' : '';
      throw new TypeError(`${name}: '${key}' is not one of its fields (${names})${mixed}`);
    }
  }
  const f: Fields = {};
  for (const [named, field, needed] of mapping) {
    const value = a[named];
    if (value === undefined) {
      if (needed) throw new TypeError(`${name}: '${named}' is missing`);
      continue;
    }
    if (field === null) continue; // mapped below
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new TypeError(`${name}: '${named}' must be a safe integer, not ${shown(value)}`);
    }
    f[field] = value;
  }
  f.flags = (flag(name, a, 'linked') ? CommandFlag.Linked : 0) | orderFlags(name, a);
  if (name === 'placeOrder') orderChoices(a, f);
  narrowCheck(name, mapping, f);
  return f;
}

/** `toFields` of every item of a list, or the first error, naming its item. */
export function namedList(name: NamedCommand, list: readonly object[]): Fields[] | Error {
  const out: Fields[] = [];
  for (let i = 0; i < list.length; i++) {
    try {
      out.push(toFields(name, list[i]));
    } catch (error) {
      const e = error as Error;
      return new (e.constructor as ErrorConstructor)(`[${i}] ${e.message}`);
    }
  }
  return out;
}

function orderFlags(name: string, a: Record<string, unknown>): number {
  if (name !== 'placeOrder') return 0;
  const side = a.side;
  if (side !== 'buy' && side !== 'sell') {
    throw new TypeError(`placeOrder: 'side' is 'buy' or 'sell', not ${shown(side)}`);
  }
  const market = flag(name, a, 'market');
  if (market && a.price !== undefined) {
    throw new TypeError("placeOrder: a market order has no 'price'");
  }
  if (!market && a.price === undefined) {
    throw new TypeError("placeOrder: 'price' is missing (or say market: true)");
  }
  return (
    (side === 'sell' ? CommandFlag.Sell : 0) |
    (market ? CommandFlag.Market : 0) |
    (flag(name, a, 'postOnly') ? CommandFlag.PostOnly : 0)
  );
}

function orderChoices(a: Record<string, unknown>, f: Fields): void {
  f.tif = choice('tif', a.tif, tifByName, TimeInForce.Gtc);
  f.stp = choice('selfTrade', a.selfTrade, stpByName, SelfTradePrevention.CancelResting);
}

const tifByName: Record<string, number> = {
  GTC: TimeInForce.Gtc,
  IOC: TimeInForce.Ioc,
  FOK: TimeInForce.Fok,
};
const stpByName: Record<string, number> = {
  'cancel-resting': SelfTradePrevention.CancelResting,
  'cancel-taker': SelfTradePrevention.CancelTaker,
  'cancel-both': SelfTradePrevention.CancelBoth,
};

function choice(
  named: string,
  value: unknown,
  byName: Record<string, number>,
  absent: number,
): number {
  if (value === undefined) return absent;
  if (typeof value !== 'string' || !Object.hasOwn(byName, value)) {
    const names = Object.keys(byName).map((n) => `'${n}'`);
    throw new TypeError(
      `placeOrder: '${named}' is one of ${names.join(', ')}, not ${shown(value)}`,
    );
  }
  return byName[value];
}

function flag(name: string, a: Record<string, unknown>, key: string): boolean {
  const value = a[key];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new TypeError(`${name}: '${key}' is true or false, not ${shown(value)}`);
  }
  return value;
}
