import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as flatbuffers from 'flatbuffers';
import { CommandBatchEncoder } from '../../../src/protocol/command-batch.js';
import { CommandBatch } from '../../../src/protocol/generated/bourse/protocol/command-batch.js';
import {
  BatchFault,
  frameHeaderBytes,
  verifyCommandBatch,
  type BatchSpan,
} from '../../../src/protocol/frames.js';

const span = (): BatchSpan => ({ fault: BatchFault.None, start: 0, count: 0 });

test('a batch the encoder wrote verifies and holds the very command bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 * 50 }), (raw) => {
      const count = Math.floor(raw.byteLength / 64);
      const frame = new CommandBatchEncoder(64).encode(raw, count, 3);
      const out = span();
      verifyCommandBatch(
        new DataView(frame.buffer, frame.byteOffset, frame.byteLength),
        frameHeaderBytes,
        frame.byteLength,
        out,
      );
      assert.equal(out.fault, BatchFault.None);
      assert.equal(out.count, count);
      assert.deepEqual(
        frame.subarray(out.start, out.start + count * 64),
        raw.subarray(0, count * 64),
      );
      // The generated reader agrees on where the vector is.
      const bb = new flatbuffers.ByteBuffer(frame.slice(frameHeaderBytes));
      assert.equal(CommandBatch.getRootAsCommandBatch(bb).commandsLength(), count);
    }),
    { numRuns: 200 },
  );
});

/** docs/PROTOCOL.md draws these bytes for clients in other languages: they must stay so. */
test('a Commands frame is laid out as PROTOCOL.md draws it', () => {
  const commands = new Uint8Array(128).fill(0xaa);
  const frame = new CommandBatchEncoder(4).encode(commands, 2, 7);
  assert.equal(frame.byteLength, 32 + 64 * 2);
  const head = [2, 1, 0, 0, 7, 0, 0, 0]; // Commands, version 1, no flags, request id 7
  const body = [12, 0, 0, 0, 0, 0, 6, 0, 8, 0, 4, 0, 6, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0];
  assert.deepEqual([...frame.subarray(0, 32)], [...head, ...body]);
  assert.deepEqual(frame.subarray(32), commands);
});

test('random bytes and mutated batches never read outside the frame', () => {
  const valid = new CommandBatchEncoder(8).encode(new Uint8Array(8 * 64).fill(7), 8, 1).slice();
  const arbitraryFrame = fc.oneof(
    fc.uint8Array({ maxLength: 2_000 }),
    fc
      .tuple(fc.nat(valid.byteLength - 1), fc.nat(255), fc.nat(valid.byteLength))
      .map(([at, byte, cut]) => {
        const copy = valid.slice(0, Math.max(cut, 1));
        if (at < copy.byteLength) copy[at] = byte;
        return copy;
      }),
  );
  fc.assert(
    fc.property(arbitraryFrame, (bytes) => {
      const out = span();
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      verifyCommandBatch(view, Math.min(frameHeaderBytes, bytes.byteLength), bytes.byteLength, out);
      if (out.fault !== BatchFault.None) return;
      assert.ok(out.count > 0);
      assert.ok(out.start >= frameHeaderBytes);
      assert.ok(out.start + out.count * 64 <= bytes.byteLength, 'the commands lie inside');
    }),
    { numRuns: 2_000 },
  );
});

test('each fault is named', () => {
  const out = span();
  const tiny = new Uint8Array(frameHeaderBytes + 4);
  verifyCommandBatch(new DataView(tiny.buffer), frameHeaderBytes, tiny.byteLength, out);
  assert.equal(out.fault, BatchFault.Truncated);
  const root = new Uint8Array(frameHeaderBytes + 16);
  new DataView(root.buffer).setUint32(frameHeaderBytes, 4000, true);
  verifyCommandBatch(new DataView(root.buffer), frameHeaderBytes, root.byteLength, out);
  assert.equal(out.fault, BatchFault.BadRoot);
});
