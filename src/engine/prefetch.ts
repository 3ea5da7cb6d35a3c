/**
 * Reading ahead: before a batch of commands is decided, the state lines each will touch first
 * (its accounts' records, the order a cancel names and that order's account) are read in one
 * tight loop. Decided one by one, each command waits for its own cache misses in turn (a
 * transfer between two of 100,000 accounts: ~450 ns, most of it two misses); read ahead
 * together, the misses of many commands are in flight at once and deciding finds the lines
 * in cache (~190 ns). Nothing here writes state: the same commands decide the same way with
 * or without it, so replicas and replay do not need it.
 *
 *   batch:   [ c0 c1 c2 ... c127 ]  prefetch: read c0..c127's lines (misses overlap)
 *                                   decide:   c0, c1, ... (hits)
 *
 * Tried and left out: a new order's level tail and free slot (finding the level costs more
 * than the miss it saves), a cancelled order's FIFO neighbours and level (no gain measured).
 */
import { CommandKind, CommandWord } from '../protocol/command-layout.js';
import { readU64 } from '../stdx/records.js';
import type { Accounts } from './ledger/accounts.js';
import type { Instruments } from './order-book/instruments.js';
import type { Orders } from './order-book/orders.js';

/** Bit of the flags byte (CommandFlag.Sell) within the command's `bits` word. */
const sellBit = 2 << 8;

export class Prefetcher {
  constructor(
    private readonly accounts: Accounts,
    private readonly orders: Orders,
    private readonly instruments: Instruments,
  ) {}

  /**
   * Reads the lines the command at word `w` of `u32` will need first. Returns a sum of what
   * it read, which the caller keeps, so that the reads are not optimised away.
   */
  command(u32: Uint32Array, w: number): number {
    const bits = u32[w + CommandWord.bits];
    const kind = bits & 0xff;
    if (kind === CommandKind.CancelOrder || kind === CommandKind.AmendOrder) {
      const orders = this.orders;
      const o = orders.slotOf(readU64(u32, w + CommandWord.target));
      return o < 0
        ? 0
        : this.balance(orders.account(o), this.heldAsset(orders.instrument(o), orders.side(o)));
    }
    const slot = this.accounts.slotOf(readU64(u32, w + CommandWord.account));
    if (slot < 0) return 0;
    const ref = u32[w + CommandWord.ref];
    if (kind === CommandKind.PlaceOrder)
      return this.balance(slot, this.heldAsset(ref, (bits & sellBit) === 0 ? 0 : 1));
    if (kind !== CommandKind.Transfer && kind !== CommandKind.TransferPending)
      return this.balance(slot, ref);
    const to = this.accounts.slotOf(readU64(u32, w + CommandWord.target));
    return this.balance(slot, ref) + (to < 0 ? 0 : this.balance(to, ref));
  }

  /** The asset an order on `side` of instrument `ins` holds (0 for an unknown instrument). */
  private heldAsset(ins: number, side: number): number {
    const instruments = this.instruments;
    if (ins >= instruments.countMax) return 0;
    return side === 0 ? instruments.quote[ins] : instruments.base[ins];
  }

  /** Reads the account's first line (id, checksum keys) and its balance of `asset`. */
  private balance(slot: number, asset: number): number {
    const accounts = this.accounts;
    const b = slot * accounts.blockSize;
    const a = asset < accounts.blockSize >> 1 ? asset : 0;
    return accounts.f64[b] + accounts.f64[b + a * 2];
  }
}
