/**
 * The SDK against frames from the server that are shorter than they say (a corrupting proxy, a
 * server of another build): no throw in the socket's handler (which would take the application
 * down), no allocation of what a garbage count names; the connection is dropped, the SDK
 * reconnects and sends again what was not answered, and each command is applied once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient } from '../../src/client/client.js';
import { frameFits } from '../../src/client/frame-check.js';
import { EventKind } from '../../src/protocol/event-layout.js';
import { FrameType, protocolVersion } from '../../src/protocol/frames.js';
import { Status } from '../../src/protocol/status.js';
import { journalEvents, setUp, withNode } from '../harness/gateway-node.js';

/** A frame of `type` with an 8-byte header, then `body`. */
function frame(type: number, body: number[]): Buffer {
  return Buffer.from([type, protocolVersion, 0, 0, 0, 0, 0, 0, ...body]);
}

const count = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];

const malformed: Array<[string, Buffer]> = [
  ['three bytes', Buffer.from([FrameType.Events, protocolVersion, 0])],
  [
    'events: a count of 2^32 - 1 and no events',
    frame(FrameType.Events, [...count(-1), 0, 0, 0, 0]),
  ],
  [
    'events: two announced, one there',
    frame(FrameType.Events, [...count(2), 0, 0, 0, 0, ...new Array<number>(128).fill(0)]),
  ],
  ['results: no count', frame(FrameType.Results, [1, 0])],
  ['results: one announced, none there', frame(FrameType.Results, [...count(1), 0, 0, 0, 0])],
  ['error: no code', frame(FrameType.Error, [1])],
  ['book: no body', frame(FrameType.Book, [1, 0, 0, 0])],
  [
    'book: a level announced, none there',
    frame(FrameType.Book, [1, 0, 0, 0, 1, 0, 0, 0, ...new Array<number>(8).fill(0)]),
  ],
];

test('frame-check: malformed frames refused, well-formed ones taken', () => {
  for (const [name, data] of malformed) assert.equal(frameFits(data), false, name);
  const event = new Array<number>(128).fill(0);
  assert.equal(frameFits(frame(FrameType.Events, [...count(1), 0, 0, 0, 0, ...event])), true);
  assert.equal(frameFits(frame(FrameType.Events, [...count(0), 0, 0, 0, 0])), true);
  const result = new Array<number>(24).fill(0);
  assert.equal(frameFits(frame(FrameType.Results, [...count(1), 0, 0, 0, 0, ...result])), true);
  assert.equal(frameFits(frame(FrameType.Error, [1, 0, 0, 0])), true);
  assert.equal(frameFits(frame(FrameType.Welcome, [])), true, 'types the SDK does not read');
});

test('the SDK drops a connection sending a malformed frame, reconnects, resends', async () => {
  await withNode(async (_node, url) => {
    const client = await BourseClient.connect(url, { clientId: 231 });
    await setUp(client);
    let applied = 0;
    let last = 0;
    for (const [name, data] of malformed) {
      const transfer = client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
      // As if the server had sent it, while the transfer is in flight.
      (client as unknown as { socket: { emit(e: string, d: Buffer): void } }).socket.emit(
        'message',
        data,
      );
      const [head] = await transfer;
      assert.equal(head.status, Status.Ok, `${name}: answered after the reconnect`);
      applied++;
      last = head.sequence;
    }
    assert.equal(client.malformedFrames, malformed.length);
    assert.equal(client.reconnects, malformed.length);
    const events = await journalEvents(url, 1, last);
    const transfers = events.filter((e) => e.clientId === 231 && e.kind === EventKind.Transferred);
    assert.equal(transfers.length, applied, 'each transfer applied once');
    await client.close();
  });
});
