/**
 * Where an account stream starts (Hello flag AccountStarts) on a node whose topics have had no
 * run since it started, while a run is durable but not yet handed out by the publisher, which
 * polls the ring (a cluster's waits for the quorum too). Subscribed named the node's visible
 * sequence, that run's, and the run then came after the frame: events the frame said the
 * stream starts after. The publisher is held here as its poll holds it, by its gate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient } from '../../src/client/client.js';
import { FrameType, frameHeaderBytes, HelloFlag, StreamKind } from '../../src/protocol/frames.js';
import { EventWord } from '../../src/protocol/event-layout.js';
import { ProgressSlot } from '../../src/journal/journal-progress.js';
import { eventSizeBytes } from '../../src/constants.js';
import { frame, rawSession, withNode } from '../harness/gateway-node.js';
import { until } from '../harness/wait.js';

/** The sequences of the events of an account stream's Events frame (AccountInFrames). */
function sequencesOf(message: Buffer): number[] {
  const count = message.readUInt32LE(frameHeaderBytes);
  const at = frameHeaderBytes + 16; // count, reserved, the account
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.push(Number(message.readBigUInt64LE(at + i * eventSizeBytes + EventWord.sequence * 4)));
  }
  return out;
}

test('Subscribed before the first run is handed out names where the stream goes on', () =>
  withNode(async (node, url) => {
    const flags = HelloFlag.AccountInFrames | HelloFlag.AccountStarts;
    const watcher = await rawSession(url, 5, flags);
    const writer = await BourseClient.connect(url, { clientId: 6 });
    try {
      node.publisher.gate = () => 0; // nothing handed out: durable, it waits
      const result = writer.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
      await until('durable', () => node.progress.get(ProgressSlot.sequenceDurable) >= 1);
      const body = Buffer.alloc(16);
      body.writeUInt8(StreamKind.Account, 0);
      body.writeDoubleLE(1, 8);
      watcher.ws.send(frame(FrameType.Subscribe, body, 1, 7));
      const isSubscribed = (m: Buffer): boolean => m.readUInt8(0) === FrameType.Subscribed;
      await until('Subscribed', () => watcher.messages.some(isSubscribed));
      node.publisher.gate = null;
      node.publisher.wake();
      const [event] = await result;
      await until('the event on the stream', () =>
        watcher.messages.some(
          (m) => m.readUInt8(0) === FrameType.Events && sequencesOf(m).includes(event.sequence),
        ),
      );
      const said = watcher.messages.findIndex(isSubscribed);
      const after = watcher.messages[said].readDoubleLE(frameHeaderBytes + 16);
      const came = watcher.messages
        .slice(said + 1)
        .filter((m) => m.readUInt8(0) === FrameType.Events)
        .flatMap(sequencesOf);
      assert.deepEqual(came, [event.sequence]);
      assert.ok(after < event.sequence, `Subscribed said after ${after}, then ${came} came`);
    } finally {
      await writer.close();
      watcher.ws.close();
    }
  }));
