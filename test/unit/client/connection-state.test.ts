/**
 * The SDK's connection states (connection-state.ts) without a node: the orders' fate of each
 * close code, one `closed` however many closes follow, and transitions out of order refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canceledOf,
  ConnectionStates,
  ordersFate,
  type ConnectionState,
} from '../../../src/client/connection-state.js';
import { checkConnectOptions } from '../../../src/client/input-check.js';
import { CancelReport } from '../../../src/protocol/welcome.js';

test('what the server does with the orders, by close code', () => {
  assert.equal(ordersFate(false, 4008), 'kept', 'no cancel on disconnect asked');
  assert.equal(ordersFate(true, 1000), 'kept', 'a clean close is no loss');
  assert.equal(ordersFate(true, 1001), 'kept', 'the node stopping is no loss');
  assert.equal(ordersFate(true, 4008), 'canceled', 'the server closed the session: a loss');
  assert.equal(ordersFate(true, 4010), 'canceled');
  assert.equal(ordersFate(true, 1006), 'unknown', 'a drop: if the node is up to see it');
  assert.equal(ordersFate(true, 1011), 'unknown', 'a failing node, or a failed stream');
});

test("the node's cancel report: 'unknown' (cannot tell) is not 'none' (none canceled)", () => {
  const none = { state: 'none', orders: 0, sequence: 0 };
  assert.deepEqual(canceledOf({ report: CancelReport.None, orders: 0, sequence: 0 }), none);
  const cannotTell = canceledOf({ report: CancelReport.Unknown, orders: 0, sequence: 0 });
  assert.deepEqual(cannotTell, { state: 'unknown', orders: 0, sequence: 0 });
  assert.deepEqual(canceledOf(null), cannotTell, 'and a server from before the report');
});

test('each transition told once; closed is last, whoever closes again', () => {
  const told: ConnectionState[] = [];
  const states = new ConnectionStates('ws://a/', true, (s) => told.push(s));
  states.opened('ws://a/', 0);
  states.lost('ws://a/', 1006, 'reset');
  states.opened('ws://b/', 1);
  states.closed(4010, 'key revoked', false); // the server closed it: no reconnect
  states.closed(1000, 'closed by the client', true);
  const lines = told.map((s) => `${s.state} ${s.url} ${s.code} ${s.orders} ${s.reconnects}`);
  assert.deepEqual(lines, [
    'connecting ws://a/ 0 null 0',
    'open ws://a/ 0 null 0',
    'reconnecting ws://a/ 1006 unknown 0',
    'open ws://b/ 0 null 1',
    'closed ws://b/ 4010 canceled 1',
  ]);
  assert.equal(states.now, told[4]);
  assert.ok(Object.isFrozen(told[0]), 'a state told is never changed');
  assert.throws(() => states.opened('ws://a/', 2), /a transition allowed/);
});

test('closed while reconnecting: the drop decided the orders; a failed connect names why', () => {
  const told: ConnectionState[] = [];
  const states = new ConnectionStates('ws://a/', true, (s) => told.push(s));
  states.opened('ws://a/', 0);
  states.lost('ws://a/', 1001, 'stopping');
  states.closed(1001, 'stopping', false);
  assert.deepEqual(
    [told[3].code, told[3].orders, told[3].reason],
    [1001, 'kept', 'gave up reconnecting (stopping)'],
  );
  const failed = new ConnectionStates('ws://c/', false, (s) => told.push(s));
  failed.closed(4010, 'unauthorized', false);
  assert.deepEqual(
    told.slice(4).map((s) => `${s.state} ${s.code} ${s.orders} ${s.reason}`),
    ['connecting 0 null ', 'closed 4010 null unauthorized'],
  );
});

test('connect refuses an onState that is not a function, before any socket', () => {
  const options = { clientId: 1, onState: 'log' as never };
  assert.throws(() => checkConnectOptions(options), /^TypeError: onState: a function, not "log"/);
});
