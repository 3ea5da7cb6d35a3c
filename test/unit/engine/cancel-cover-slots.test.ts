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
