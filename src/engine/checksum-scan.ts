/**
 * Recomputes the state checksum from scratch by walking every table, for tests and audits: it
 * must always equal the incrementally maintained `Engine.checksum`. Allocates nothing but is
 * O(state), so it never runs on the hot path.
 */
import { ChecksumEntity, entityKeyA, entityKeyB, recordKeyA, StateChecksum } from './checksum.js';
import { mixNumber } from '../stdx/hash.js';
import type { Engine } from './engine.js';
import { fieldCovered, fingerprintField } from './idempotency.js';
import { orderKeyA } from './order-book/book.js';

export function scanChecksum(engine: Engine): StateChecksum {
  const sum = new StateChecksum();
  scanAccounts(engine, sum);
  scanAssets(engine, sum);
  scanPendings(engine, sum);
  scanClients(engine, sum);
  scanInstruments(engine, sum);
  scanOrders(engine, sum);
  return sum;
}

function scanAccounts(engine: Engine, sum: StateChecksum): void {
  const accounts = engine.accounts;
  const assetCount = engine.config.assetCountMax;
  for (let slot = 0; slot < accounts.count; slot++) {
    const a = entityKeyA(ChecksumEntity.Account, accounts.id(slot));
    const b = entityKeyB(a);
    sum.changeField(a, b, 0, 0, 1);
    for (let asset = 1; asset < assetCount; asset++) {
      sum.changeField(a, b, asset * 2 - 1, 0, accounts.available(slot, asset));
      sum.changeField(a, b, asset * 2, 0, accounts.held(slot, asset));
    }
  }
}

function scanAssets(engine: Engine, sum: StateChecksum): void {
  const assets = engine.assets;
  for (let asset = 1; asset < assets.countMax; asset++) {
    if (!assets.exists(asset)) continue;
    const a = entityKeyA(ChecksumEntity.Asset, asset);
    sum.changeField(a, entityKeyB(a), 0, 0, assets.scale[asset] + 1);
    sum.changeField(a, entityKeyB(a), 1, 0, assets.supply[asset]);
  }
}

function scanPendings(engine: Engine, sum: StateChecksum): void {
  const p = engine.pendings;
  for (let slot = 0; slot < p.ids.length; slot++) {
    if (p.ids[slot] === 0) continue;
    const debitId = engine.accounts.id(p.debitSlot[slot]);
    const a = recordKeyA(ChecksumEntity.Pending, p.ids[slot], p.expiresAt[slot], debitId);
    sum.changeField(a, entityKeyB(a), 0, 0, p.amount[slot]);
  }
}

function scanClients(engine: Engine, sum: StateChecksum): void {
  const clients = engine.clients;
  for (let slot = 0; slot < clients.count; slot++) {
    const a = entityKeyA(ChecksumEntity.Client, clients.ids[slot]);
    sum.changeField(a, entityKeyB(a), 0, 0, clients.highWaterMark[slot]);
    sum.changeField(a, entityKeyB(a), fieldCovered, 0, clients.covered[slot]);
    const recorded = clients.recorded[slot];
    for (let k = Math.max(0, recorded - clients.window); k < recorded; k++) {
      const index = clients.entryIndex(slot, k);
      const field = fingerprintField(clients.entries[index]);
      sum.changeField(a, entityKeyB(a), field, 0, clients.entries[index + 3]);
    }
  }
}

function scanInstruments(engine: Engine, sum: StateChecksum): void {
  const ins = engine.instruments;
  const accounts = engine.accounts;
  for (let id = 1; id < ins.countMax; id++) {
    if (!ins.has(id)) continue;
    const a = entityKeyA(ChecksumEntity.Instrument, id);
    const b = entityKeyB(a);
    const feeSlot = ins.feeAccountSlot[id];
    const fields = [
      feeSlot === -1 ? 0 : accounts.id(feeSlot),
      0,
      ins.base[id],
      ins.quote[id],
      ins.tick[id],
      ins.lot[id],
      0,
      ins.makerBps[id],
      ins.takerBps[id],
    ];
    let config = 0;
    for (const value of fields) config = mixNumber(config, value);
    sum.changeField(a, b, 0, 0, config >>> 0);
    sum.changeField(a, b, 1, 0, ins.halted[id]);
  }
}

function scanOrders(engine: Engine, sum: StateChecksum): void {
  const orders = engine.orders;
  for (let o = 0; o < orders.pool.capacity; o++) {
    if (orders.id(o) === 0 || orders.level(o) === -1) continue;
    const client = engine.clients.ids[orders.client(o)];
    const a = orderKeyA(orders.id(o), orders.price(o), orders.side(o), client);
    sum.changeField(a, entityKeyB(a), 0, 0, orders.open(o));
  }
}
