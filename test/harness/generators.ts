/**
 * fast-check arbitraries for engine workloads over a small universe: 3 clients and the node's
 * own ids, accounts 1..6 (7 never exists), a fee account 9, assets 1 (quote), 2 and 3 (4 never
 * exists), instrument 1 (base 2, tick 5, lot 10, fees 10/20 bps) and instrument 2 (base 3,
 * tick 1, lot 1, no fees).
 * Account 8 exists with little money (to run out), account 7 never exists.
 * Operations refer to earlier operations by distance (`back`), resolved when the run happens:
 * cancels, amends and some CancelAlls to earlier orders, posts and voids to earlier pending
 * transfers.
 */
import fc from 'fast-check';
import { CommandFlag, CommandKind } from '../../src/protocol/command-layout.js';
import {
  disconnectClientId,
  reservedClientId,
  timerClientId,
  type CommandFields,
} from '../../src/protocol/command-writer.js';

type Fields = Omit<CommandFields, 'clientId' | 'clientSeq'>;

export type Op =
  | { t: 'cmd'; client: number; f: Fields; back: number; mode: number }
  | { t: 'retry'; back: number }
  | { t: 'advance'; us: number }
  /** Skip a client seq (so a later 'late' command can arrive out of order). */
  /** The client skips `n` seqs (more than the window: its ring must not be indexed by seq). */
  | { t: 'skip'; client: number; n: number }
  /** A new command under an old client seq: a duplicate id, out of order, or too old. */
  | { t: 'late'; client: number; back: number; f: Fields }
  /** A linked chain; `interruptAt` puts another client's command before that member. */
  | { t: 'chain'; client: number; members: Fields[]; interruptAt: number };

export const feeAccount = 9;

/** Fixed set-up: assets, accounts, deposits, instruments. */
export function setupCommands(): Fields[] {
  const out: Fields[] = [];
  for (const asset of [1, 2, 3]) out.push({ kind: CommandKind.AddAsset, ref: asset, aux: 2 });
  for (const account of [1, 2, 3, 4, 5, 6, 8, feeAccount]) {
    out.push({ kind: CommandKind.CreateAccount, account });
  }
  out.push({ kind: CommandKind.Deposit, account: 8, ref: 1, quantity: 700 });
  out.push({ kind: CommandKind.Deposit, account: 8, ref: 2, quantity: 20 });
  for (const account of [1, 2, 3, 4, 5, 6]) {
    out.push({ kind: CommandKind.Deposit, account, ref: 1, quantity: 200_000 });
    out.push({ kind: CommandKind.Deposit, account, ref: 2, quantity: 5_000 });
    out.push({ kind: CommandKind.Deposit, account, ref: 3, quantity: 500 });
  }
  out.push({
    kind: CommandKind.AddInstrument,
    ref: 1,
    target: 2,
    aux: 1,
    price: 5,
    quantity: 10,
    account: feeAccount,
    makerFeeBps: 10,
    takerFeeBps: 20,
  });
  out.push({ kind: CommandKind.AddInstrument, ref: 2, target: 3, aux: 1, price: 1, quantity: 1 });
  return out;
}

const account = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 1, max: 6 }) },
  { weight: 2, arbitrary: fc.constant(8) },
  { weight: 1, arbitrary: fc.constantFrom(7, feeAccount, 0) },
);
const asset = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(4, 0) },
);
const amount = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 3_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -5, 250_000, 2 ** 53 - 10) },
);
const back = fc.integer({ min: 1, max: 12 });

const ledger = fc.oneof(
  fc.record({ kind: fc.constant(CommandKind.Deposit), account, ref: asset, quantity: amount }),
  fc.record({ kind: fc.constant(CommandKind.Withdraw), account, ref: asset, quantity: amount }),
  fc.record({
    kind: fc.constant(CommandKind.Transfer),
    account,
    target: account,
    ref: asset,
    quantity: amount,
  }),
  fc.record({
    kind: fc.constant(CommandKind.TransferPending),
    account,
    target: account,
    ref: asset,
    quantity: amount,
    aux: fc.constantFrom(0, 1_500, 40_000, 400_000),
  }),
);

/** Limit-order prices near the middle of each book, sometimes off the tick. */
function limitOrder(instrument: number) {
  const tick = instrument === 1 ? 5 : 1;
  const lot = instrument === 1 ? 10 : 1;
  return fc
    .record({
      kind: fc.constant(CommandKind.PlaceOrder),
      account,
      ref: fc.constant(instrument),
      price: fc.oneof(
        { weight: 12, arbitrary: fc.integer({ min: 95, max: 105 }).map((p) => p * tick) },
        { weight: 1, arbitrary: fc.constantFrom(0, 3, -tick * 100, 5 * 2 ** 48) },
      ),
      quantity: fc.oneof(
        { weight: 12, arbitrary: fc.integer({ min: 1, max: 8 }).map((q) => q * lot) },
        { weight: 2, arbitrary: fc.integer({ min: 9, max: 40 }).map((q) => q * lot) },
        { weight: 1, arbitrary: fc.constantFrom(0, 7) },
      ),
      flags: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(0, CommandFlag.Sell) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(CommandFlag.PostOnly, CommandFlag.Sell | CommandFlag.PostOnly),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(CommandFlag.Market, CommandFlag.Market | CommandFlag.Sell),
        },
      ),
      tif: fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 2, arbitrary: fc.constantFrom(1, 2) },
      ),
      stp: fc.constantFrom(0, 0, 0, 1, 2),
    })
    .map((f) => ((f.flags & CommandFlag.Market) !== 0 ? { ...f, price: 0 } : f));
}

const orderOp = fc.oneof(limitOrder(1), limitOrder(2));

const client = fc.integer({ min: 1, max: 3 });

function cmd(f: fc.Arbitrary<Fields>): fc.Arbitrary<Op> {
  return fc.record({
    t: fc.constant('cmd' as const),
    client,
    f,
    back,
    mode: fc.integer({ min: 0, max: 3 }),
  });
}

/**
 * CancelAll of one instrument (3 never exists) or of all (0), sometimes only of the orders
 * placed before a sequence (aux: a run's sequences are in the hundreds).
 */
const cancelAll = fc.record({
  kind: fc.constant(CommandKind.CancelAll),
  account,
  ref: fc.constantFrom(0, 0, 1, 2, 3),
  aux: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 }) },
  ),
});

/**
 * CancelClientOrders of a customer (1 to 3), of no client (0) or of one never seen (9),
 * sometimes bounded as cancelAll is.
 */
const cancelClient = fc.record({
  kind: fc.constant(CommandKind.CancelClientOrders),
  ref: fc.constantFrom(1, 2, 3, 0, 9),
  aux: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 }) },
  ),
});

/**
 * Operations whose target is an earlier operation's sequence, filled in at run time (for a
 * CancelAll or CancelClientOrders, the order to go on from).
 */
const targeted = fc.oneof(
  fc.record({ kind: fc.constant(CommandKind.CancelOrder), account }),
  cancelAll,
  cancelClient,
  fc.record({
    kind: fc.constant(CommandKind.AmendOrder),
    account,
    price: fc.integer({ min: 95, max: 105 }).map((p) => p * 5),
    quantity: fc.integer({ min: 1, max: 8 }).map((q) => q * 10),
  }),
  fc.record({ kind: fc.constant(CommandKind.TransferPost), account, quantity: amount }),
  fc.record({ kind: fc.constant(CommandKind.TransferVoid), account }),
);

/**
 * The node's own commands (client-ids.ts): Ticks and cancel-on-disconnect rounds, under ids the
 * client table keeps slots for beyond the customers' clientCountMax.
 */
const nodeCommand: fc.Arbitrary<Op> = fc.record({
  t: fc.constant('cmd' as const),
  client: fc.constantFrom(disconnectClientId, timerClientId, reservedClientId),
  f: fc.oneof(
    fc.record({ kind: fc.constant(CommandKind.Tick) }) as fc.Arbitrary<Fields>,
    cancelAll as fc.Arbitrary<Fields>,
    cancelClient as fc.Arbitrary<Fields>,
  ),
  back,
  mode: fc.constant(0),
});

const admin = fc.oneof(
  fc.record({
    kind: fc.constantFrom(CommandKind.HaltInstrument, CommandKind.ResumeInstrument),
    ref: fc.constantFrom(1, 2, 3),
  }),
  fc.record({ kind: fc.constant(CommandKind.Tick) }),
  fc.record({ kind: fc.constantFrom(0, 99) }),
);

const chainMember = fc.oneof(
  { weight: 12, arbitrary: ledger as fc.Arbitrary<Fields> },
  { weight: 1, arbitrary: orderOp as fc.Arbitrary<Fields> },
);

const chain: fc.Arbitrary<Op> = fc.record({
  t: fc.constant('chain' as const),
  client,
  members: fc.array(chainMember, { minLength: 2, maxLength: 4 }),
  interruptAt: fc.oneof(
    { weight: 6, arbitrary: fc.constant(-1) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
  ),
});

export const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: cmd(ledger) },
  { weight: 12, arbitrary: cmd(orderOp) },
  { weight: 5, arbitrary: cmd(targeted as fc.Arbitrary<Fields>) },
  { weight: 1, arbitrary: cmd(cancelAll as fc.Arbitrary<Fields>) },
  { weight: 1, arbitrary: cmd(admin as fc.Arbitrary<Fields>) },
  { weight: 1, arbitrary: nodeCommand },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('retry' as const), back }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('advance' as const),
      us: fc.integer({ min: 1, max: 5_000 }),
    }),
  },
  { weight: 2, arbitrary: chain },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('skip' as const),
      client,
      n: fc.integer({ min: 1, max: 40 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('late' as const),
      client,
      back: fc.integer({ min: 1, max: 6 }),
      f: ledger as fc.Arbitrary<Fields>,
    }),
  },
);
