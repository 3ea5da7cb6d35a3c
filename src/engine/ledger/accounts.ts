/**
 * Accounts and their balances, allocated once as packed records: one block of doubles per
 * account, so that an account's id, checksum keys and balances share cache lines (measured: the
 * struct-of-arrays layout touched six lines per account and ran transfers 2x slower).
 *
 *   block of slot s (2 * assetCountMax doubles), b = s * blockSize:
 *   f64[b]                id
 *   i32[2b + 2], [2b + 3] checksum keys A and B
 *   f64[b + 2a]           available balance of asset a (a >= 1)
 *   f64[b + 2a + 1]       held balance of asset a (reserved by orders and pending transfers)
 *
 * Accounts are never deleted; slots are handed out in creation order, so every replica that
 * applies the same events ends with the same layout. Only apply-side code calls the mutators;
 * `move` is the single place a balance changes, and asserts the ledger invariant there.
 *
 * Finding a slot: ids below `accountCountMax` by index (`direct`, slot + 1, 0 for none), any
 * other id through the hash map. Account ids are often handed out in order: 10,000 of them then
 * take 40 KB of `direct` instead of 10,000 cache lines scattered over the map's 8 MB (the
 * default capacity), and the lookup was 45% of a replica's time applying transfers.
 */
import { assert as assertImport, assertRoom as assertRoomImport } from '../../stdx/assert.js';
import { U53Map } from '../../stdx/u53-map.js';
import type { EngineConfig } from '../../constants.js';
import {
  ChecksumEntity,
  entityKeyA as entityKeyAImport,
  entityKeyB as entityKeyBImport,
  StateChecksum,
} from '../checksum.js';
import { pushUsed, type StateImage } from '../../stdx/state-image.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const assertRoom: typeof assertRoomImport = assertRoomImport;
const entityKeyA: typeof entityKeyAImport = entityKeyAImport;
const entityKeyB: typeof entityKeyBImport = entityKeyBImport;

/** Field numbers in the checksum: 0 existence, then two per asset. */
const fieldExists = 0;

export class Accounts {
  readonly map: U53Map;
  readonly direct: Int32Array;
  /** The highest id held in `direct` (0: none), which bounds its used bytes. */
  private directHigh = 0;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  /** Doubles per account block. */
  readonly blockSize: number;
  readonly countMax: number;
  count = 0;
  private readonly checksum: StateChecksum;

  constructor(config: EngineConfig, checksum: StateChecksum) {
    this.countMax = config.accountCountMax;
    this.blockSize = config.assetCountMax * 2;
    this.map = new U53Map(config.accountCountMax);
    this.direct = new Int32Array(config.accountCountMax);
    const buffer = new ArrayBuffer(config.accountCountMax * this.blockSize * 8);
    this.f64 = new Float64Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.checksum = checksum;
  }

  /** The slot of account `id`, or -1. */
  slotOf(id: number): number {
    // Ids are whole numbers (read with readU64); the sign test keeps any other input off
    // the array (undefined would not be -1).
    if (id < this.direct.length && id >= 0) return this.direct[id] - 1;
    return this.map.get(id);
  }

  id(slot: number): number {
    return this.f64[slot * this.blockSize];
  }

  isFull(): boolean {
    return this.count >= this.countMax;
  }

  /** Index of the available balance of (slot, asset) in `f64`; held is the next double. */
  balanceIndex(slot: number, asset: number): number {
    return slot * this.blockSize + asset * 2;
  }

  available(slot: number, asset: number): number {
    return this.f64[slot * this.blockSize + asset * 2];
  }

  held(slot: number, asset: number): number {
    return this.f64[slot * this.blockSize + asset * 2 + 1];
  }

  create(id: number): number {
    assert(this.slotOf(id) === -1, 'accounts: id exists');
    assertRoom(this.count < this.countMax, 'accounts: table full');
    const slot = this.count++;
    if (id < this.direct.length) {
      this.direct[id] = slot + 1;
      if (id > this.directHigh) this.directHigh = id;
    } else {
      this.map.insert(id, slot);
    }
    const b = slot * this.blockSize;
    this.f64[b] = id;
    const a = entityKeyA(ChecksumEntity.Account, id);
    const k = entityKeyB(a);
    this.i32[b * 2 + 2] = a;
    this.i32[b * 2 + 3] = k;
    this.checksum.changeField(a, k, fieldExists, 0, 1);
    return slot;
  }

  /**
   * Adds `availableDelta` and `heldDelta` (either sign) to one balance. The ledger invariant is
   * asserted here, at the single place balances change: neither part ever goes below zero.
   */
  move(slot: number, asset: number, availableDelta: number, heldDelta: number): void {
    const f64 = this.f64;
    const b = slot * this.blockSize;
    const index = b + asset * 2;
    const availableAfter = f64[index] + availableDelta;
    const heldAfter = f64[index + 1] + heldDelta;
    assert(availableAfter >= 0, 'ledger: available balance below zero');
    assert(heldAfter >= 0, 'ledger: held balance below zero');
    assert(availableAfter <= Number.MAX_SAFE_INTEGER, 'ledger: balance beyond 2^53');
    const a = this.i32[b * 2 + 2];
    const k = this.i32[b * 2 + 3];
    const checksum = this.checksum;
    if (availableDelta !== 0) {
      checksum.staged[0] = availableAfter;
      checksum.write(a, k, asset * 2 - 1, f64, index);
    }
    if (heldDelta !== 0) {
      checksum.staged[0] = heldAfter;
      checksum.write(a, k, asset * 2, f64, index + 1);
    }
  }

  /**
   * Moves `amount` (either sign) from the available to the held balance of (slot, asset): an
   * order's hold, or (negative) the release of one: `move(s, a, -amount, amount)` with one call
   * site (writePair), not two `write`s, against the caller's inlining budget (moveAvailable).
   * The releases of applyTrade, applyCanceled and applyAmended: -17 instructions a command
   * (callgrind). applyAccepted keeps `move`: with `hold` there, emitTaker had room to inline
   * Book.rest but not rest's callees, which became calls (+140).
   */
  hold(slot: number, asset: number, amount: number): void {
    const f64 = this.f64;
    const b = slot * this.blockSize;
    const index = b + asset * 2;
    const availableAfter = f64[index] - amount;
    const heldAfter = f64[index + 1] + amount;
    assert(availableAfter >= 0, 'ledger: available balance below zero');
    assert(heldAfter >= 0, 'ledger: held balance below zero');
    assert(availableAfter <= Number.MAX_SAFE_INTEGER, 'ledger: balance beyond 2^53');
    const checksum = this.checksum;
    checksum.staged[0] = availableAfter;
    checksum.staged[1] = heldAfter;
    checksum.writePair(this.i32[b * 2 + 2], this.i32[b * 2 + 3], asset * 2 - 1, f64, index);
  }

  /**
   * `move` of the available balance alone (a held delta of 0): a trade's or a transfer's credit
   * and debit. One call site of `write`, not two: TurboFan counts a callee's every call site
   * against its inlining budget (4,000 bytecodes a function, engineV8Flags) before it folds a
   * constant 0 delta's branch away, so `move(s, a, x, 0)` spent the room of a `write` it never
   * runs, and applyTrade's later writes became calls (~130 instructions each, callgrind).
   */
  moveAvailable(slot: number, asset: number, delta: number): void {
    const f64 = this.f64;
    const b = slot * this.blockSize;
    const index = b + asset * 2;
    const after = f64[index] + delta;
    assert(after >= 0, 'ledger: available balance below zero');
    assert(after <= Number.MAX_SAFE_INTEGER, 'ledger: balance beyond 2^53');
    if (delta !== 0) {
      const checksum = this.checksum;
      checksum.staged[0] = after;
      checksum.write(this.i32[b * 2 + 2], this.i32[b * 2 + 3], asset * 2 - 1, f64, index);
    }
  }

  /** `move` of the held balance alone (an available delta of 0): why, in moveAvailable. */
  moveHeld(slot: number, asset: number, delta: number): void {
    const f64 = this.f64;
    const b = slot * this.blockSize;
    const index = b + asset * 2 + 1;
    const after = f64[index] + delta;
    assert(after >= 0, 'ledger: held balance below zero');
    if (delta !== 0) {
      const checksum = this.checksum;
      checksum.staged[0] = after;
      checksum.write(this.i32[b * 2 + 2], this.i32[b * 2 + 3], asset * 2, f64, index);
    }
  }

  saveImage(image: StateImage): void {
    this.map.saveImage(image);
    pushUsed(image, this.f64, this.count * this.blockSize * 8); // accounts are never deleted
    pushUsed(image, this.direct, this.directHigh === 0 ? 0 : (this.directHigh + 1) * 4);
    image.counters.push(this.count, this.directHigh);
  }

  loadCounters(counters: readonly number[], at: number): number {
    const next = this.map.loadCounters(counters, at);
    this.count = counters[next];
    this.directHigh = counters[next + 1];
    return next + 2;
  }
}
