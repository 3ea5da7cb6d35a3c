import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Delivered } from '../../../src/client/subscriptions.js';

/** The sequences `d` lets through, given (sequence, connection) arrivals. */
function through(d: Delivered, arrivals: [number, number][]): number[] {
  return arrivals.filter(([seq, connection]) => d.fresh(seq, connection)).map(([seq]) => seq);
}

test('a stream taken up again after a reconnect repeats nothing the handler had', () => {
  const d = new Delivered();
  // Connection 0: sequences 10, 11, and two events of 12 (an order and its trade).
  assert.deepEqual(
    through(d, [
      [10, 0],
      [11, 0],
      [12, 0],
      [12, 0],
    ]),
    [10, 11, 12, 12],
  );
  // Connection 1 (a new primary, behind the old one): 11 and 12 again, then a third event of
  // 12 it had not delivered, then 13.
  assert.deepEqual(
    through(d, [
      [11, 1],
      [12, 1],
      [12, 1],
      [12, 1],
      [13, 1],
    ]),
    [12, 13],
  );
});

test('without a reconnect every event passes, several of one sequence included', () => {
  const d = new Delivered();
  assert.deepEqual(
    through(d, [
      [5, 0],
      [5, 0],
      [5, 0],
      [6, 0],
    ]),
    [5, 5, 5, 6],
  );
});
