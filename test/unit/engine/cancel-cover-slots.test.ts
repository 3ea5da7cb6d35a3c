/**
 * The client table's slots after a first SetCancelOnDisconnect (engine/cancel-cover.ts): the
 * primary must hand them out in the order a replica of its events does, or their states differ
 * (a client's orders name its slot) although their checksums, kept by client id, agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertConsistent, buy, market } from '../../harness/fixtures.js';
import { CommandKind } from '../../../src/protocol/command-layout.js';
import { disconnectClientId } from '../../../src/protocol/command-writer.js';
import { Status } from '../../../src/protocol/status.js';
import { EventKind } from '../../../src/protocol/event-layout.js';
import { scanChecksum } from '../../../src/engine/checksum-scan.js';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';

test("a first mark of a new client: the primary's slots are a replica's", () => {
  const d = market();
  const mark = { kind: CommandKind.SetCancelOnDisconnect, ref: 7, aux: 1 };
  const [on] = d.submit({ ...mark, clientId: disconnectClientId, clientSeq: 1 });
  assert.equal(on.status, Status.Ok);
  const [placed] = buy(d, 10, 495, 100, { clientId: 7, clientSeq: 1 });
  assert.equal(placed.status, Status.Ok, 'client 7 places an order (it names its slot)');
  const c = d.engine.clients;
  const replica = d.replay().clients;
  const ids = (t: typeof c): number[] => Array.from(t.ids.subarray(0, t.count));
  assert.deepEqual(ids(c), ids(replica), 'the node slot first, then client 7, on both');
  assertConsistent(d); // the orders' client slots and lists alike
});

/**
 * An unmark of a client the table does not hold took a slot for it, never freed: each such
 * unmark used up a place of clientCountMax, and with the table full it was refused
 * IdempotencyClientTableFull. Fails on the old code: client 9 gets a slot, the table fills.
 */
test('an unmark of a client with no slot takes none, even with the table full', () => {
  const d = new EngineDriver({ ...smallConfig, clientCountMax: 1 });
  const by = { kind: CommandKind.SetCancelOnDisconnect, clientId: disconnectClientId };
  const c = d.engine.clients;
  const [off] = d.submit({ ...by, clientSeq: 1, ref: 9, aux: 0 });
  assert.equal(off.status, Status.Ok, 'nothing to unmark: Ok');
  assert.equal(off.kind, EventKind.CancelOnDisconnectSet);
  assert.equal(c.slotOf(9), -1, 'client 9 has no slot');
  assert.equal(c.customerCount(), 0, "no customer's place taken");
  const [on] = d.submit({ ...by, clientSeq: 2, ref: 7, aux: 1 });
  assert.equal(on.status, Status.Ok, 'client 7 takes the one place');
  const [again] = d.submit({ ...by, clientSeq: 3, ref: 8, aux: 0 });
  assert.equal(again.status, Status.Ok, 'an unmark is not refused for a full table');
  assert.equal(c.slotOf(8), -1);
  const replica = d.replay();
  assert.equal(replica.clients.count, c.count, "a replica's table as the primary's");
  assert.equal(replica.checksum.hex(), d.engine.checksum.hex());
  assert.equal(scanChecksum(d.engine).hex(), d.engine.checksum.hex(), 'the checksum has it');
});
