/**
 * The seeded engine workload: set-up commands (assets, accounts, deposits, instruments), then a
 * mix of transfers and limit, market and cancel orders over many accounts and instruments.
 * Commands are pre-encoded into one Uint32Array so that the timed loop only runs the engine.
 * The same order stream is also kept in plain form for the peer order book.
 */
import {
  CommandFlag,
  CommandKind,
  SequencedWord,
  TimeInForce,
} from '../../src/protocol/command-layout.js';
import {
  stampCommand,
  writeCommand,
  type CommandFields,
} from '../../src/protocol/command-writer.js';
import { Random } from './random.js';

export interface WorkloadConfig {
  seed: number;
  accounts: number;
  instruments: number;
  /** Commands in the measured mix. */
  commands: number;
  /** Fractions of the mix (the rest are limit orders). */
  transferShare: number;
  marketShare: number;
  cancelShare: number;
}

/** One order-stream step for the peer book: the same decisions, in plain objects. */
export interface PeerOp {
  op: 0 | 1 | 2;
  instrument: number;
  side: 'buy' | 'sell';
  size: number;
  price: number;
  id: string;
  ioc: boolean;
}

/** Every stream is stamped as if run on a fresh engine: the set-up, then the stream. */
export interface Workload {
  setup: Uint32Array;
  setupCount: number;
  mix: Uint32Array;
  mixCount: number;
  /** The order commands of the mix alone (no transfers), for the peer comparison. */
  orders: Uint32Array;
  orderCount: number;
  peerOps: PeerOp[];
}

export const quoteAsset = 1;
const lot = 100;
const tick = 1;
const midStart = 10_000;
/** Deposits per account: as much as the 2^53 supply cap allows, spread over all accounts. */
function fundsPerAccount(accounts: number): number {
  return Math.min(1e12, Math.floor(2 ** 52 / (accounts + 1)));
}

export function generateWorkload(cfg: WorkloadConfig): Workload {
  const rnd = new Random(cfg.seed);
  const setup: CommandFields[] = [];
  let clientSeq = 0;
  const admin = (f: Omit<CommandFields, 'clientId' | 'clientSeq'>): void => {
    setup.push({ clientId: 1, clientSeq: ++clientSeq, ...f });
  };
  for (let a = 1; a <= cfg.instruments + 1; a++)
    admin({ kind: CommandKind.AddAsset, ref: a, aux: 2 });
  admin({ kind: CommandKind.CreateAccount, account: feeAccount(cfg) });
  for (let i = 1; i <= cfg.accounts; i++) admin({ kind: CommandKind.CreateAccount, account: i });
  const funds = fundsPerAccount(cfg.accounts);
  for (let i = 1; i <= cfg.accounts; i++) {
    for (let a = 1; a <= cfg.instruments + 1; a++) {
      admin({ kind: CommandKind.Deposit, account: i, ref: a, quantity: funds });
    }
  }
  for (let n = 1; n <= cfg.instruments; n++) {
    admin({
      kind: CommandKind.AddInstrument,
      ref: n,
      account: feeAccount(cfg),
      target: n + 1,
      aux: quoteAsset,
      price: tick,
      quantity: lot,
      makerFeeBps: 1,
      takerFeeBps: 2,
    });
  }
  const mix = new MixGenerator(cfg, rnd, setup.length);
  for (let i = 0; i < cfg.commands; i++) mix.next();
  return {
    setup: encode(setup, 1),
    setupCount: setup.length,
    mix: encode(mix.all, setup.length + 1),
    mixCount: mix.all.length,
    orders: encode(mix.ordersOnly, setup.length + 1),
    orderCount: mix.ordersOnly.length,
    peerOps: mix.peerOps,
  };
}

function feeAccount(cfg: WorkloadConfig): number {
  return cfg.accounts + 1;
}

/** Logical start time of every workload: 2023-11-14, in microseconds since the epoch. */
const epochUs = 1_700_000_000_000_000;

/** Encodes SequencedCommands numbered from `firstSequence`, one microsecond apart. */
function encode(list: CommandFields[], firstSequence: number): Uint32Array {
  const u32 = new Uint32Array(list.length * SequencedWord.size);
  for (let i = 0; i < list.length; i++) {
    const w = i * SequencedWord.size;
    writeCommand(u32, w, list[i]);
    stampCommand(u32, w, firstSequence + i, epochUs + firstSequence + i);
  }
  return u32;
}

class MixGenerator {
  readonly all: CommandFields[] = [];
  readonly ordersOnly: CommandFields[] = [];
  readonly peerOps: PeerOp[] = [];
  private readonly mids: number[];
  /** Resting candidates to cancel: order ids in the mix and in the orders-only stream. */
  private readonly passive: Array<{
    mixId: number;
    ordersId: number;
    peerId: string;
    instrument: number;
    account: number;
  }> = [];
  private clientSeq = 0;
  /** The engine numbers commands 1, 2, ... so each stream's order ids are known in advance. */
  private readonly setupCount: number;

  constructor(
    private readonly cfg: WorkloadConfig,
    private readonly rnd: Random,
    setupCount: number,
  ) {
    this.mids = Array.from({ length: cfg.instruments + 1 }, () => midStart);
    this.setupCount = setupCount;
  }

  next(): void {
    const r = this.rnd.next();
    const cfg = this.cfg;
    if (r < cfg.transferShare) return this.transfer();
    if (r < cfg.transferShare + cfg.cancelShare && this.passive.length > 0) return this.cancel();
    if (r < cfg.transferShare + cfg.cancelShare + cfg.marketShare) return this.market();
    this.limit();
  }

  /** Appends a command to the mix and, for orders, to the orders-only stream and the peer's. */
  private push(
    f: Omit<CommandFields, 'clientId' | 'clientSeq'>,
    peer?: PeerOp,
    ordersTarget?: number,
  ): void {
    // Eight clients take turns, so each client's seq goes up by one per command it sends.
    const clientId = 2 + (this.clientSeq % 8);
    const full: CommandFields = { clientId, clientSeq: 1 + Math.floor(this.clientSeq / 8), ...f };
    this.clientSeq++;
    this.all.push(full);
    if (peer === undefined) return;
    this.ordersOnly.push(ordersTarget === undefined ? full : { ...full, target: ordersTarget });
    this.peerOps.push(peer);
  }

  private transfer(): void {
    const cfg = this.cfg;
    const from = this.rnd.int(1, cfg.accounts);
    let to = this.rnd.int(1, cfg.accounts);
    if (to === from) to = (to % cfg.accounts) + 1;
    const quantity = this.rnd.int(1, 1000);
    this.push({ kind: CommandKind.Transfer, account: from, target: to, ref: quoteAsset, quantity });
  }

  private limit(): void {
    const rnd = this.rnd;
    const instrument = rnd.int(1, this.cfg.instruments);
    const sell = rnd.next() < 0.5;
    const aggressive = rnd.next() < 0.2;
    const mid = this.walk(instrument);
    const offset = aggressive ? -rnd.int(0, 5) : rnd.int(1, 20);
    const price = (sell ? mid + offset : mid - offset) * tick;
    const size = rnd.int(1, 10) * lot;
    const ioc = aggressive && rnd.next() < 0.5;
    const account = rnd.int(1, this.cfg.accounts);
    const peerId = 'o' + this.ordersOnly.length;
    this.push(
      {
        kind: CommandKind.PlaceOrder,
        account,
        ref: instrument,
        price,
        quantity: size,
        flags: sell ? CommandFlag.Sell : 0,
        tif: ioc ? TimeInForce.Ioc : TimeInForce.Gtc,
      },
      { op: 0, instrument, side: sell ? 'sell' : 'buy', size, price, id: peerId, ioc },
    );
    if (aggressive) return;
    this.passive.push({
      mixId: this.setupCount + this.all.length,
      ordersId: this.setupCount + this.ordersOnly.length,
      peerId,
      instrument,
      account,
    });
  }

  private market(): void {
    const rnd = this.rnd;
    const instrument = rnd.int(1, this.cfg.instruments);
    const sell = rnd.next() < 0.5;
    const size = rnd.int(1, 5) * lot;
    this.push(
      {
        kind: CommandKind.PlaceOrder,
        account: rnd.int(1, this.cfg.accounts),
        ref: instrument,
        quantity: size,
        flags: (sell ? CommandFlag.Sell : 0) | CommandFlag.Market,
      },
      { op: 1, instrument, side: sell ? 'sell' : 'buy', size, price: 0, id: '', ioc: false },
    );
  }

  private cancel(): void {
    const at = this.rnd.int(0, this.passive.length - 1);
    const victim = this.passive[at];
    this.passive[at] = this.passive[this.passive.length - 1];
    this.passive.pop();
    this.push(
      { kind: CommandKind.CancelOrder, account: victim.account, target: victim.mixId },
      {
        op: 2,
        instrument: victim.instrument,
        side: 'buy',
        size: 0,
        price: 0,
        id: victim.peerId,
        ioc: false,
      },
      victim.ordersId,
    );
  }

  private walk(instrument: number): number {
    const step = this.rnd.next();
    let mid = this.mids[instrument];
    if (step < 0.05 && mid > midStart - 200) mid--;
    else if (step > 0.95 && mid < midStart + 200) mid++;
    this.mids[instrument] = mid;
    return mid;
  }
}
