/**
 * The gateway's limits against a real node, driven with raw frames: what one client may hold
 * (logins under way, read sessions, subscriptions) and what a bad value may not move.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { hello, withNode } from '../harness/gateway-node.js';
import { FrameType, frameHeaderBytes } from '../../src/protocol/frames.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { CommandBatchEncoder } from '../../src/protocol/command-batch.js';
import { writeCommand } from '../../src/protocol/command-writer.js';
import { Status } from '../../src/protocol/status.js';

/** A raw socket and every frame the server sent it so far. */
interface Raw {
  ws: WebSocket;
  frames: Buffer[];
  closed: Promise<number>;
}

function openRaw(url: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const frames: Buffer[] = [];
    const closed = new Promise<number>((done) => ws.once('close', (code) => done(code)));
    ws.on('message', (data: Buffer) => frames.push(data));
    ws.once('error', reject);
    ws.once('open', () => resolve({ ws, frames, closed }));
  });
}

/** Waits (at most 5 s) for a frame of `type` past the first `skip` frames. */
async function frameOf(raw: Raw, type: number, skip = 0): Promise<Buffer> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const found = raw.frames.slice(skip).find((f) => f.readUInt8(0) === type);
    if (found !== undefined) return found;
    assert.ok(Date.now() < deadline, `no frame of type ${type}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The first `n` events the server sent (at most 5 s), each 128 bytes. */
async function eventsOf(raw: Raw, n: number): Promise<Buffer[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const events: Buffer[] = [];
    for (const f of raw.frames.filter((f) => f.readUInt8(0) === FrameType.Events)) {
      const count = f.readUInt32LE(frameHeaderBytes);
      for (let i = 0; i < count; i++) {
        events.push(f.subarray(frameHeaderBytes + 8 + i * 128, frameHeaderBytes + 136 + i * 128));
      }
    }
    if (events.length >= n) return events.slice(0, n);
    assert.ok(Date.now() < deadline, `fewer than ${n} events`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A raw session of `clientId` (development mode: no key), once welcomed. */
async function login(url: string, clientId: number): Promise<Raw & { welcome: Buffer }> {
  const raw = await openRaw(url);
  raw.ws.send(hello(clientId));
  return { ...raw, welcome: await frameOf(raw, FrameType.Welcome) };
}

/** Welcome's next client seq. */
function nextSeq(welcome: Buffer): number {
  return welcome.readDoubleLE(frameHeaderBytes + 16);
}

test('an invalid client seq (2^64 - 1) does not move the next seq Welcome names', async () => {
  await withNode(async (_node, url) => {
    const first = await login(url, 31);
    assert.equal(nextSeq(first.welcome), 1, 'a new client id starts at 1');
    // Two transfers in one frame: seq 7, then one whose seq is 2^64 - 1 (rejected 102).
    const staging = new Uint8Array(128);
    for (const [i, clientSeq] of [7, 8].entries()) {
      const fields = { kind: CommandKind.Transfer, clientId: 31, clientSeq, account: 1 };
      writeCommand(new Uint32Array(staging.buffer), i * 16, { ...fields, target: 2, ref: 1 });
    }
    staging.fill(0xff, 64, 72);
    first.ws.send(new CommandBatchEncoder(2).encode(staging, 2, 9));
    const [, refused] = await eventsOf(first, 2);
    assert.equal(refused.readUInt16LE(30), Status.CommandClientSeqInvalid, 'the seq refused');
    first.ws.close();
    await first.closed;
    const again = await login(url, 31);
    assert.equal(nextSeq(again.welcome), 8, 'one past the last valid seq, not 2^64');
    again.ws.close();
  });
});
