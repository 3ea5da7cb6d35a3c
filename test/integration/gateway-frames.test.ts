/**
 * The gateway's outgoing messages and a client that reads slowly. The uWebSockets.js build we
 * use corrupts the stream when a message of 16 KiB or more meets a full kernel send buffer
 * (constants.ts, wsMessageBytesMax): seen as a drop with "invalid opcode" in the container
 * bench, and the resend that followed was partly older than the idempotency window. So every
 * message stays below that size, and a reader that keeps the buffer full gets every answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { setUp, withNode } from '../harness/gateway-node.js';
import { BourseClient } from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { CommandBatchEncoder } from '../../src/protocol/command-batch.js';
import { writeCommand } from '../../src/protocol/command-writer.js';
import { EventWord } from '../../src/protocol/event-layout.js';
import { FrameType, frameHeaderBytes } from '../../src/protocol/frames.js';
import { Status } from '../../src/protocol/status.js';
import { commandsPerFrameMax, eventSizeBytes, wsMessageBytesMax } from '../../src/constants.js';

const clientId = 52;
const frames = 8;

function helloFrame(id: number): Buffer {
  const bytes = Buffer.alloc(frameHeaderBytes + 4);
  bytes.writeUInt8(FrameType.Hello, 0);
  bytes.writeUInt8(1, 1);
  bytes.writeUInt32LE(id, frameHeaderBytes);
  return bytes;
}

/** A Commands frame of the most transfers a frame holds, client seqs from `firstSeq`. */
function transfers(encoder: CommandBatchEncoder, firstSeq: number, requestId: number): Uint8Array {
  const staging = new Uint8Array(commandsPerFrameMax * 64);
  const words = new Uint32Array(staging.buffer);
  for (let i = 0; i < commandsPerFrameMax; i++) {
    writeCommand(words, i * 16, {
      kind: CommandKind.Transfer,
      clientId,
      clientSeq: firstSeq + i,
      account: 1 + (i % 6),
      target: 1 + ((i + 1) % 6),
      ref: 1,
      quantity: 1,
    });
  }
  return encoder.encode(staging, commandsPerFrameMax, requestId);
}

test('each message is below 16 KiB; a slow reader gets every answer once, in order', async () => {
  await withNode(async (_node, url) => {
    const admin = await BourseClient.connect(url, { clientId: 51 });
    await setUp(admin);
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let largest = 0;
    let failure: Error | null = null;
    const seqs: number[] = [];
    const ok = { count: 0 };
    let messages = 0;
    ws.on('error', (error) => (failure = error));
    ws.on('close', (code) => (failure ??= new Error(`closed ${code}`)));
    ws.on('message', (data: Buffer) => {
      largest = Math.max(largest, data.byteLength);
      if (data.readUInt8(0) !== FrameType.Events) return;
      const n = data.readUInt32LE(frameHeaderBytes);
      for (let i = 0; i < n; i++) {
        const at = frameHeaderBytes + 8 + i * eventSizeBytes;
        seqs.push(data.readUInt32LE(at + EventWord.clientSeq * 4));
        if (data.readUInt32LE(at + 28) >>> 16 === Status.Ok) ok.count++;
      }
      // Read slowly: the server's kernel buffer fills and its sends meet backpressure.
      if (++messages % 16 === 0) {
        ws.pause();
        setTimeout(() => ws.resume(), 10);
      }
    });
    ws.send(helloFrame(clientId));
    const encoder = new CommandBatchEncoder(commandsPerFrameMax);
    const deadline = Date.now() + 60_000;
    for (let f = 0; f < frames; f++) {
      ws.send(transfers(encoder, 1 + f * commandsPerFrameMax, f + 1));
      const want = (f + 1) * commandsPerFrameMax;
      while (seqs.length < want && failure === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(failure, null, `the stream stays whole (frame ${f}): ${failure}`);
    }
    const total = frames * commandsPerFrameMax;
    assert.deepEqual(
      seqs,
      Array.from({ length: total }, (_, i) => 1 + i),
      'each command answered once, in order',
    );
    assert.equal(ok.count, total, 'every transfer applied');
    assert.ok(largest <= wsMessageBytesMax, `largest message ${largest} bytes`);
    ws.close();
    await admin.close();
  });
});
