/**
 * Instruments (order books) by id 1 .. instrumentCountMax - 1: base and quote asset, tick size
 * (price step, quote minor units per lot), lot size (quantity step, base minor units), maker and
 * taker fees in basis points of the notional, paid in the quote asset into the fee account.
 *
 * A buy order holds `required(lots, price) = notional + fee at max(maker, taker) bps` of quote,
 * a sell holds its base quantity. Fees never change after creation, so a resting order's hold
 * can always be recomputed from its price and open quantity (see `buyHold`).
 */
import { assert as assertImport, assertRoom as assertRoomImport } from '../../stdx/assert.js';
import { bpsOf as bpsOfImport } from '../../stdx/int.js';
import type { EngineConfig } from '../../constants.js';
import {
  ChecksumEntity,
  entityKeyA as entityKeyAImport,
  entityKeyB as entityKeyBImport,
  StateChecksum,
} from '../checksum.js';
import { ImageBase, pushBased, type StateImage } from '../../stdx/state-image.js';
import { Side } from './orders.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const assertRoom: typeof assertRoomImport = assertRoomImport;
const bpsOf: typeof bpsOfImport = bpsOfImport;
const entityKeyA: typeof entityKeyAImport = entityKeyAImport;
const entityKeyB: typeof entityKeyBImport = entityKeyBImport;

const fieldConfig = 0;
const fieldHalted = 1;

export class Instruments {
  readonly exists: Uint8Array;
  readonly halted: Uint8Array;
  readonly base: Uint16Array;
  readonly quote: Uint16Array;
  readonly tick: Float64Array;
  readonly lot: Float64Array;
  readonly makerBps: Uint16Array;
  readonly takerBps: Uint16Array;
  /** max(makerBps, takerBps): the fee a buy order must hold for. */
  readonly holdBps: Uint16Array;
  /** Fee account slot, or -1 when the instrument charges no fees. */
  readonly feeAccountSlot: Int32Array;
  readonly countMax: number;
  private readonly checksum: StateChecksum;

  constructor(config: EngineConfig, checksum: StateChecksum) {
    const n = config.instrumentCountMax;
    this.countMax = n;
    this.exists = new Uint8Array(n);
    this.halted = new Uint8Array(n);
    this.base = new Uint16Array(n);
    this.quote = new Uint16Array(n);
    this.tick = new Float64Array(n);
    this.lot = new Float64Array(n);
    this.makerBps = new Uint16Array(n);
    this.takerBps = new Uint16Array(n);
    this.holdBps = new Uint16Array(n);
    this.feeAccountSlot = new Int32Array(n).fill(-1);
    this.checksum = checksum;
  }

  /** The asset an order on `side` of instrument `id` holds: quote for a buy, base for a sell. */
  heldAsset(id: number, side: number): number {
    return side === Side.Sell ? this.base[id] : this.quote[id];
  }

  /** True when `id` is in range and added. */
  has(id: number): boolean {
    return id > 0 && id < this.countMax && this.exists[id] === 1;
  }

  add(
    id: number,
    base: number,
    quote: number,
    tick: number,
    lot: number,
    makerBps: number,
    takerBps: number,
    feeAccountSlot: number,
    configHash: number,
  ): void {
    assert(id > 0, 'instruments: id is positive');
    assertRoom(id < this.countMax, 'instruments: id out of range');
    assert(this.exists[id] === 0, 'instruments: id exists');
    this.exists[id] = 1;
    this.base[id] = base;
    this.quote[id] = quote;
    this.tick[id] = tick;
    this.lot[id] = lot;
    this.makerBps[id] = makerBps;
    this.takerBps[id] = takerBps;
    this.holdBps[id] = makerBps > takerBps ? makerBps : takerBps;
    this.feeAccountSlot[id] = feeAccountSlot;
    const a = entityKeyA(ChecksumEntity.Instrument, id);
    this.checksum.changeField(a, entityKeyB(a), fieldConfig, 0, configHash >>> 0);
  }

  setHalted(id: number, halted: number): void {
    assert(this.exists[id] === 1, 'instruments: halting an unknown instrument');
    assert(this.halted[id] !== halted, 'instruments: halt state changes');
    this.halted[id] = halted;
    const a = entityKeyA(ChecksumEntity.Instrument, id);
    this.checksum.changeField(a, entityKeyB(a), fieldHalted, 1 - halted, halted);
  }

  /** Quote a buy of `quantity` at `price` holds: notional plus the larger fee. */
  buyHold(id: number, quantity: number, price: number): number {
    const notional = (quantity / this.lot[id]) * price;
    return notional + bpsOf(notional, this.holdBps[id]);
  }

  saveImage(image: StateImage): void {
    image.arrays.push(
      this.exists,
      this.halted,
      this.base,
      this.quote,
      this.tick,
      this.lot,
      this.makerBps,
      this.takerBps,
      this.holdBps,
    );
    pushBased(image, this.feeAccountSlot, ImageBase.AllOnes); // -1: none
  }

  loadCounters(_counters: readonly number[], at: number): number {
    return at;
  }
}
