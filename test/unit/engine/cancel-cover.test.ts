/**
 * SetCancelOnDisconnect (engine/cancel-cover.ts): the node's marks of the clients that have a
 * cancel-on-disconnect session, kept in the replicated state so that a new primary knows whose
 * orders to cancel when such a client does not come back after a failover. Only the node's
 * disconnectClientId may send it; replicas, the checksum scan and snapshots agree on the marks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import { scanChecksum } from '../../../src/engine/checksum-scan.js';
import { CommandKind } from '../../../src/protocol/command-layout.js';
import {
  disconnectClientId,
  timerClientId,
  type CommandFields,
} from '../../../src/protocol/command-writer.js';
import { EventKind } from '../../../src/protocol/event-layout.js';
import { Status } from '../../../src/protocol/status.js';
import { usedBytes } from '../../../src/stdx/state-image.js';
import type { Engine } from '../../../src/engine/engine.js';

const config = { ...smallConfig, clientCountMax: 2 };

const mark = (clientSeq: number, client: number, on: number, by = disconnectClientId) =>
  ({
    kind: CommandKind.SetCancelOnDisconnect,
    clientId: by,
    clientSeq,
    ref: client,
    aux: on,
  }) satisfies CommandFields;

/** The client ids `engine` marks. */
function marked(engine: Engine): number[] {
  const c = engine.clients;
  const ids: number[] = [];
  for (let slot = 0; slot < c.count; slot++) if (c.covered[slot] === 1) ids.push(c.ids[slot]);
  return ids.sort((a, b) => a - b);
}

test('the node marks and unmarks clients; the event says which', () => {
  const d = new EngineDriver(config);
  const [on] = d.submit(mark(1, 7, 1));
  assert.equal(on.kind, EventKind.CancelOnDisconnectSet);
  assert.equal(on.status, Status.Ok);
  assert.equal(on.ref, 7);
  assert.equal(on.aux, 1);
  d.submit(mark(2, 8, 1));
  assert.deepEqual(marked(d.engine), [7, 8], 'a client unknown before takes a slot');
  d.submit(mark(3, 7, 0));
  assert.deepEqual(marked(d.engine), [8]);
  assert.equal(scanChecksum(d.engine).hex(), d.engine.checksum.hex(), 'the checksum has it');
});

test('refused: another client id, a bad client or value, a full client table', () => {
  const d = new EngineDriver(config);
  const status = (fields: CommandFields): number => d.submit(fields)[0].status;
  assert.equal(status(mark(1, 7, 1, 7)), Status.CommandKindUnknown, 'a customer may not');
  assert.equal(status(mark(1, 7, 1, timerClientId)), Status.CommandKindUnknown);
  assert.equal(status(mark(1, 0, 1)), Status.CommandIdInvalid, 'no client');
  assert.equal(status(mark(2, timerClientId, 1)), Status.CommandIdInvalid, "a node's id");
  assert.equal(status(mark(3, 7, 2)), Status.CommandIdInvalid, 'on is 1, off 0');
  assert.equal(status(mark(4, 8, 1)), Status.Ok, 'client 8 takes the second slot');
  assert.equal(status(mark(5, 9, 1)), Status.IdempotencyClientTableFull, 'no third');
  assert.deepEqual(marked(d.engine), [8]);
});

test('a replica of the journal and a restored snapshot keep the marks', () => {
  const d = new EngineDriver(config);
  d.submit(mark(1, 7, 1));
  d.submit(mark(2, 8, 1));
  d.submit(mark(3, 8, 0));
  const replica = d.replay();
  assert.deepEqual(marked(replica), [7]);
  assert.equal(replica.checksum.hex(), d.engine.checksum.hex(), 'replica = primary');
  const image = replica.image();
  const arrays = image.arrays.map((a, i) =>
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice(0, usedBytes(image, i)),
  );
  const twin = new EngineDriver(config);
  const lengths = image.arrays.map((a) => a.byteLength);
  twin.engine.restore(arrays, [...image.counters], lengths);
  assert.deepEqual(marked(twin.engine), [7]);
  assert.equal(twin.engine.checksum.hex(), d.engine.checksum.hex(), 'restored = primary');
  assert.equal(scanChecksum(twin.engine).hex(), d.engine.checksum.hex());
});
