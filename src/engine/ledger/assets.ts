/**
 * Assets: ids 1 .. assetCountMax - 1, each with a decimal scale (how many minor units make one
 * unit: 10^scale) and its supply, the sum of deposits less withdrawals. Capping the supply at
 * 2^53 - 1 when depositing caps every balance and every sum of balances too, because transfers
 * and trades only move funds: no other overflow check is needed downstream.
 */
import { assert as assertImport, assertRoom as assertRoomImport } from '../../stdx/assert.js';
import type { EngineConfig } from '../../constants.js';
import {
  ChecksumEntity,
  entityKeyA as entityKeyAImport,
  entityKeyB as entityKeyBImport,
  StateChecksum,
} from '../checksum.js';
import { ImageBase, pushBased, type StateImage } from '../../stdx/state-image.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const assertRoom: typeof assertRoomImport = assertRoomImport;
const entityKeyA: typeof entityKeyAImport = entityKeyAImport;
const entityKeyB: typeof entityKeyBImport = entityKeyBImport;

const fieldScale = 0;
const fieldSupply = 1;

export class Assets {
  /** Decimal scale, or -1 for an asset id not added. */
  readonly scale: Int8Array;
  readonly supply: Float64Array;
  readonly countMax: number;
  private readonly checksum: StateChecksum;

  constructor(config: EngineConfig, checksum: StateChecksum) {
    this.countMax = config.assetCountMax;
    this.scale = new Int8Array(config.assetCountMax).fill(-1);
    this.supply = new Float64Array(config.assetCountMax);
    this.checksum = checksum;
  }

  /** True when `asset` is an id in range that has been added. */
  exists(asset: number): boolean {
    return asset > 0 && asset < this.countMax && this.scale[asset] >= 0;
  }

  add(asset: number, scale: number): void {
    assert(asset > 0, 'assets: id is positive');
    assertRoom(asset < this.countMax, 'assets: id out of range');
    assert(this.scale[asset] === -1, 'assets: id exists');
    this.scale[asset] = scale;
    const a = entityKeyA(ChecksumEntity.Asset, asset);
    this.checksum.changeField(a, entityKeyB(a), fieldScale, 0, scale + 1);
  }

  changeSupply(asset: number, delta: number): void {
    const after = this.supply[asset] + delta;
    assert(after >= 0, 'assets: supply below zero');
    assert(after <= Number.MAX_SAFE_INTEGER, 'assets: supply beyond 2^53');
    const a = entityKeyA(ChecksumEntity.Asset, asset);
    const b = entityKeyB(a);
    this.checksum.staged[0] = after;
    this.checksum.write(a, b, fieldSupply, this.supply, asset);
  }

  saveImage(image: StateImage): void {
    pushBased(image, this.scale, ImageBase.AllOnes); // -1: not added
    image.arrays.push(this.supply);
  }

  loadCounters(_counters: readonly number[], at: number): number {
    return at;
  }
}
