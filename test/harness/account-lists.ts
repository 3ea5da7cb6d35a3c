/**
 * Checks of the per-account and per-client order lists (src/engine/order-book/orders.ts),
 * which are in neither the checksum nor snapshots: what they hold is compared with the order
 * table itself, and across engines that must agree (a primary, its replica, a restored copy).
 */
import assert from 'node:assert/strict';
import type { Engine } from '../../src/engine/engine.js';

/** Order ids along account slot `a`'s list, oldest first. */
export function listedIds(engine: Engine, a: number): number[] {
  const orders = engine.orders;
  const ids: number[] = [];
  for (let o = orders.firstOfAccount(a); o !== -1; o = orders.nextOfAccount(o)) {
    assert.ok(ids.length < orders.pool.capacity, 'account list ends');
    ids.push(orders.id(o));
  }
  return ids;
}

/** Order ids along client slot `c`'s list, oldest first. */
export function clientListedIds(engine: Engine, c: number): number[] {
  const orders = engine.orders;
  const ids: number[] = [];
  for (let o = orders.firstOfClient(c); o !== -1; o = orders.nextOfClient(o)) {
    assert.ok(ids.length < orders.pool.capacity, 'client list ends');
    ids.push(orders.id(o));
  }
  return ids;
}

/** The resting orders' ids by `of(o)` (account or client slot), by a pass over the table. */
function byTable(engine: Engine, of: (o: number) => number, where: string): Map<number, number[]> {
  const orders = engine.orders;
  const by = new Map<number, number[]>();
  for (let o = 0; o < orders.pool.highWater; o++) {
    if (orders.id(o) === 0) continue;
    assert.notEqual(orders.level(o), -1, `an order in use rests ${where}`);
    const ids = by.get(of(o)) ?? [];
    ids.push(orders.id(o));
    by.set(of(o), ids);
  }
  return by;
}

/** Every account's and client's list: its resting orders, in ascending id order. */
export function assertAccountLists(engine: Engine, where = ''): void {
  const orders = engine.orders;
  const byAccount = byTable(engine, (o) => orders.account(o), where);
  for (let a = 0; a < engine.accounts.count; a++) {
    const want = (byAccount.get(a) ?? []).sort((x, y) => x - y);
    assert.deepEqual(listedIds(engine, a), want, `account slot ${a}'s list ${where}`);
  }
  const byClient = byTable(engine, (o) => orders.client(o), where);
  for (const c of byClient.keys()) assert.ok(c < engine.clients.count, `client slot ${where}`);
  for (let c = 0; c < engine.clients.slotCountMax; c++) {
    const want = (byClient.get(c) ?? []).sort((x, y) => x - y);
    assert.deepEqual(clientListedIds(engine, c), want, `client slot ${c}'s list ${where}`);
  }
}

/** Two engines hold the same lists (and each is right). */
export function assertSameAccountLists(a: Engine, b: Engine, where = ''): void {
  assertAccountLists(a, where);
  assertAccountLists(b, where);
  assert.equal(a.accounts.count, b.accounts.count, `same accounts ${where}`);
  for (let s = 0; s < a.accounts.count; s++) {
    assert.deepEqual(listedIds(a, s), listedIds(b, s), `account slot ${s} ${where}`);
  }
  assert.equal(a.clients.count, b.clients.count, `same clients ${where}`);
  for (let c = 0; c < a.clients.count; c++) {
    assert.equal(a.clients.ids[c], b.clients.ids[c], `client slot ${c}'s id ${where}`);
    assert.deepEqual(clientListedIds(a, c), clientListedIds(b, c), `client slot ${c} ${where}`);
  }
}
