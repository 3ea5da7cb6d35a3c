/**
 * Welcome as the gateway writes it, for fake servers in SDK tests: the Hello's request id and
 * flags taken, its client id, an idempotency window of 1,000, no durable sequence, no next seq.
 */
import { FrameType, frameHeaderBytes, writeHeader } from '../../src/protocol/frames.js';

/** Welcome for `hello` (a Hello frame as the SDK sent it). */
export function welcomeFor(hello: Buffer): Buffer {
  const welcome = Buffer.alloc(frameHeaderBytes + 24);
  const view = new DataView(welcome.buffer, welcome.byteOffset, welcome.byteLength);
  writeHeader(view, 0, FrameType.Welcome, hello.readUInt32LE(4), hello.readUInt16LE(2));
  view.setUint32(frameHeaderBytes, hello.readUInt32LE(frameHeaderBytes), true);
  view.setUint32(frameHeaderBytes + 4, 1_000, true);
  return welcome;
}
