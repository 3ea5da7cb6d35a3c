/**
 * Welcome's cancel report (protocol/welcome.ts): written and read back at the offsets
 * docs/PROTOCOL.md gives; a Welcome from before it (32 bytes) and a report value this client
 * does not know read as no report, never as "none canceled".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameHeaderBytes } from '../../../src/protocol/frames.js';
import {
  CancelReport,
  readWelcomeCancels,
  welcomeBodyBytes,
  writeWelcomeCancels,
} from '../../../src/protocol/welcome.js';

function welcome(bodyBytes: number): { frame: Buffer; view: DataView } {
  const frame = Buffer.alloc(frameHeaderBytes + bodyBytes);
  return { frame, view: new DataView(frame.buffer, frame.byteOffset, frame.byteLength) };
}

test('the report round-trips at the documented offsets', () => {
  const { frame, view } = welcome(welcomeBodyBytes);
  const told = { report: CancelReport.Canceled, orders: 7, sequence: 2 ** 40 + 3 };
  writeWelcomeCancels(view, frameHeaderBytes, told);
  assert.equal(frame.readUInt32LE(frameHeaderBytes + 24), 7);
  assert.equal(frame.readUInt16LE(frameHeaderBytes + 28), 1);
  assert.equal(frame.readUInt16LE(frameHeaderBytes + 30), 0);
  assert.equal(frame.readDoubleLE(frameHeaderBytes + 32), 2 ** 40 + 3);
  assert.deepEqual(readWelcomeCancels(frame, frameHeaderBytes), told);
});

test('an older Welcome, or a report value not known, is no report', () => {
  assert.equal(readWelcomeCancels(welcome(24).frame, frameHeaderBytes), null);
  const { frame, view } = welcome(welcomeBodyBytes);
  writeWelcomeCancels(view, frameHeaderBytes, { report: 4 as never, orders: 1, sequence: 9 });
  assert.equal(readWelcomeCancels(frame, frameHeaderBytes), null);
  const longer = welcome(welcomeBodyBytes + 16); // a later server appends: still read
  writeWelcomeCancels(longer.view, frameHeaderBytes, {
    report: CancelReport.Canceling,
    orders: 0,
    sequence: 0,
  });
  assert.equal(readWelcomeCancels(longer.frame, frameHeaderBytes)?.report, CancelReport.Canceling);
});

test('Unknown (3), "the node cannot tell", is read as itself, not as None', () => {
  const { frame, view } = welcome(welcomeBodyBytes);
  const told = { report: CancelReport.Unknown, orders: 0, sequence: 0 };
  writeWelcomeCancels(view, frameHeaderBytes, told);
  assert.equal(frame.readUInt16LE(frameHeaderBytes + 28), 3);
  assert.deepEqual(readWelcomeCancels(frame, frameHeaderBytes), told);
});
