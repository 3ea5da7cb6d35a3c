/**
 * Checks of the per-account order lists (src/engine/order-book/orders.ts), which are in neither
 * the checksum nor snapshots: what they hold is compared with the order table itself, and across
 * engines that must agree (a primary, its replica, a restored copy).
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

/** Every account's list: its resting orders, by a pass over the table, in ascending id order. */
export function assertAccountLists(engine: Engine, where = ''): void {
  const orders = engine.orders;
  const byAccount = new Map<number, number[]>();
  for (let o = 0; o < orders.pool.highWater; o++) {
    if (orders.id(o) === 0) continue;
    assert.notEqual(orders.level(o), -1, `an order in use rests ${where}`);
    const ids = byAccount.get(orders.account(o)) ?? [];
    ids.push(orders.id(o));
    byAccount.set(orders.account(o), ids);
  }
  for (let a = 0; a < engine.accounts.count; a++) {
    const want = (byAccount.get(a) ?? []).sort((x, y) => x - y);
    assert.deepEqual(listedIds(engine, a), want, `account slot ${a}'s list ${where}`);
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
}
