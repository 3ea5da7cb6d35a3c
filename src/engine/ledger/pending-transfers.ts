/**
 * Pending (two-phase) transfers: funds moved from the debit account's available to its held
 * balance, waiting to be posted to the credit account, voided, or expired at `expiresAt` in
 * logical time. Struct-of-arrays in a fixed pool; an id -> slot table; an indexed min-heap by
 * (expiresAt, id) so that the engine expires them in one deterministic order.
 */
import { assert as assertImport } from '../../stdx/assert.js';
import { IndexHeap } from '../../stdx/index-heap.js';
import { SlotPool } from '../../stdx/slot-pool.js';
import { U53Map } from '../../stdx/u53-map.js';
import { pendingExpiredRemembered, type EngineConfig } from '../../constants.js';
import {
  ChecksumEntity,
  entityKeyB as entityKeyBImport,
  recordKeyA as recordKeyAImport,
  StateChecksum,
} from '../checksum.js';
import { pushUsed, type StateImage } from '../../stdx/state-image.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const entityKeyB: typeof entityKeyBImport = entityKeyBImport;
const recordKeyA: typeof recordKeyAImport = recordKeyAImport;

/** One checksum field, the amount, under a key folding in the id, expiry and debit account. */
const fieldAmount = 0;

export class PendingTransfers {
  readonly map: U53Map;
  readonly pool: SlotPool;
  readonly expiries: IndexHeap;
  readonly ids: Float64Array;
  readonly debitSlot: Int32Array;
  readonly creditSlot: Int32Array;
  readonly asset: Uint16Array;
  readonly amount: Float64Array;
  /** Logical time at which the transfer expires; 0 means never. */
  readonly expiresAt: Float64Array;
  /** Ids of the last `pendingExpiredRemembered` expired transfers, a ring by expiry order. */
  readonly expiredIds = new Float64Array(pendingExpiredRemembered);
  /** How many transfers have expired (the ring's write position). */
  expiredCount = 0;
  /**
   * The ring's ids -> their place in it: whether an id expired lately is one look-up. (A filter
   * of id % 16,384 counters in front of a scan of the ring let a client pick ids that pass it,
   * an expired id + 16,384 k: each post or void of such an id scanned 4,096, ~10x the cost of a
   * command.) Derived from the ring (not in snapshots): rebuilt after a load.
   */
  private readonly expiredMap = new U53Map(pendingExpiredRemembered);
  private expiredMapStale = false;
  private readonly checksum: StateChecksum;

  constructor(config: EngineConfig, checksum: StateChecksum) {
    const capacity = config.pendingCountMax;
    this.map = new U53Map(capacity);
    this.pool = new SlotPool(capacity);
    this.expiries = new IndexHeap(capacity);
    this.ids = new Float64Array(capacity);
    this.debitSlot = new Int32Array(capacity);
    this.creditSlot = new Int32Array(capacity);
    this.asset = new Uint16Array(capacity);
    this.amount = new Float64Array(capacity);
    this.expiresAt = new Float64Array(capacity);
    this.checksum = checksum;
  }

  slotOf(id: number): number {
    return this.map.get(id);
  }

  available(): number {
    return this.pool.available();
  }

  create(
    id: number,
    debitSlot: number,
    creditSlot: number,
    asset: number,
    amount: number,
    expiresAt: number,
    debitId: number,
  ): void {
    assert(amount > 0, 'pending: amount is positive');
    assert(expiresAt >= 0, 'pending: expiry is not negative');
    const slot = this.pool.acquire();
    this.map.insert(id, slot);
    this.ids[slot] = id;
    this.debitSlot[slot] = debitSlot;
    this.creditSlot[slot] = creditSlot;
    this.asset[slot] = asset;
    this.amount[slot] = amount;
    this.expiresAt[slot] = expiresAt;
    if (expiresAt !== 0) this.expiries.push(slot, expiresAt, id);
    this.checksumFields(slot, debitId, 1);
  }

  remove(slot: number, debitId: number): void {
    const id = this.ids[slot];
    assert(id > 0, 'pending: slot in use');
    this.checksumFields(slot, debitId, -1);
    if (this.expiries.contains(slot)) this.expiries.remove(slot);
    this.map.remove(id);
    this.ids[slot] = 0;
    this.amount[slot] = 0;
    this.pool.release(slot);
  }

  /** Remembers that pending transfer `id` expired (apply side). */
  noteExpired(id: number): void {
    if (this.expiredMapStale) this.rebuildExpiredMap();
    const at = this.expiredCount % pendingExpiredRemembered;
    const map = this.expiredMap;
    if (this.expiredCount >= pendingExpiredRemembered) map.remove(this.expiredIds[at]);
    this.expiredIds[at] = id;
    map.insert(id, at);
    this.expiredCount++;
    assert(map.count === Math.min(this.expiredCount, pendingExpiredRemembered), 'pending: map');
  }

  /** True when `id` is among the remembered expired transfers. */
  expired(id: number): boolean {
    if (this.expiredMapStale) this.rebuildExpiredMap();
    return this.expiredMap.get(id) !== -1;
  }

  private rebuildExpiredMap(): void {
    this.expiredMap.clear();
    const n = Math.min(this.expiredCount, pendingExpiredRemembered);
    for (let i = 0; i < n; i++) this.expiredMap.insert(this.expiredIds[i], i);
    this.expiredMapStale = false;
  }

  private checksumFields(slot: number, debitId: number, sign: number): void {
    const a = recordKeyA(ChecksumEntity.Pending, this.ids[slot], this.expiresAt[slot], debitId);
    this.checksum.stored(a, entityKeyB(a), fieldAmount, this.amount, slot, sign);
  }

  saveImage(image: StateImage): void {
    this.map.saveImage(image);
    this.pool.saveImage(image);
    this.expiries.saveImage(image);
    const a = image.arrays;
    a.push(this.ids, this.debitSlot, this.creditSlot, this.asset, this.amount, this.expiresAt);
    pushUsed(image, this.expiredIds, Math.min(this.expiredCount, pendingExpiredRemembered) * 8);
    image.counters.push(this.expiredCount);
  }

  loadCounters(counters: readonly number[], at: number): number {
    const next = this.map.loadCounters(counters, at);
    const last = this.expiries.loadCounters(counters, this.pool.loadCounters(counters, next));
    this.expiredCount = counters[last];
    this.expiredMapStale = true; // the ring comes with the image's arrays
    return last + 1;
  }
}
