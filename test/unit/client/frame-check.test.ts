/**
 * The highest sequence a frame says is durable (frame-check.ts lastSequenceOf), which the SDK
 * takes as the floor of an account stream that has delivered nothing. In an account frame that
 * names its account (EventsFlag.Account) the events start 8 bytes further: read where they
 * start unnamed, one event gave the account's f64 bits (about 4.6e18 for account 1), and more
 * gave a word of the event before the last.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastSequenceOf } from '../../../src/client/frame-check.js';
import { eventSizeBytes } from '../../../src/constants.js';
import { EventWord } from '../../../src/protocol/event-layout.js';
import {
  EventsFlag,
  eventsOffset,
  FrameType,
  StreamKind,
  topicRequestId,
  writeHeader,
} from '../../../src/protocol/frames.js';

/** An account frame of events of `sequences`, naming account `account` when `named`. */
function accountFrame(sequences: number[], account: number, named: boolean): Buffer {
  const flags = named ? EventsFlag.Account : 0;
  const at = eventsOffset(flags);
  const frame = Buffer.alloc(at + sequences.length * eventSizeBytes);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  writeHeader(view, 0, FrameType.Events, topicRequestId(StreamKind.Account), flags);
  view.setUint32(8, sequences.length, true);
  if (named) view.setFloat64(16, account, true);
  sequences.forEach((sequence, i) => {
    view.setUint32(at + i * eventSizeBytes + EventWord.sequence * 4, sequence, true);
  });
  return frame;
}

test('the last sequence of an account frame, named or not', () => {
  for (const named of [false, true]) {
    assert.equal(lastSequenceOf(accountFrame([42], 1, named), 5), 42, `one event, ${named}`);
    assert.equal(lastSequenceOf(accountFrame([41, 42], 1, named), 5), 42, `two, ${named}`);
    assert.equal(lastSequenceOf(accountFrame([3], 1, named), 5), 5, `below known, ${named}`);
  }
});
