/**
 * AnswerRuns: a command's events that go on in the next Events frame (EventsFlag.More) answer
 * it once, whole; a drop between the two frames forgets the part that came.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnswerRuns } from '../../../src/client/answer-runs.js';
import { SeqWindow } from '../../../src/client/seq-window.js';
import type { Pending } from '../../../src/client/unanswered.js';
import { EventFlag, EventWord } from '../../../src/protocol/event-layout.js';
import {
  EventsFlag,
  FrameType,
  frameHeaderBytes,
  writeHeader,
} from '../../../src/protocol/frames.js';
import { write64 } from '../../../src/stdx/records.js';

/** An Events frame of answers: [clientSeq, head] per event, sequences from `first`. */
function frame(events: [number, boolean][], first: number, flags = 0): Buffer {
  const bytes = Buffer.alloc(frameHeaderBytes + 8 + events.length * EventWord.size * 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  writeHeader(view, 0, FrameType.Events, 0, flags);
  view.setUint32(frameHeaderBytes, events.length, true);
  const u32 = new Uint32Array(events.length * EventWord.size);
  events.forEach(([seq, head], i) => {
    const e = i * EventWord.size;
    write64(u32, e + EventWord.clientSeq, seq);
    write64(u32, e + EventWord.sequence, first + i);
    if (head) u32[e + EventWord.flagsTifStp] = EventFlag.Head;
  });
  bytes.set(new Uint8Array(u32.buffer), frameHeaderBytes + 8);
  return bytes;
}

function setUp(seqs: number[]) {
  const pending = new SeqWindow<Pending>();
  const answered: [number, number[]][] = [];
  for (const seq of seqs) {
    pending.set(seq, { seq, resolve: () => {}, reject: () => {}, events: [], frame: 1 });
  }
  const runs = new AnswerRuns(pending, {
    answer: (seq, p) => {
      pending.delete(seq);
      answered.push([seq, p.events.map((e) => e.sequence)]);
    },
    answerBatched: () => assert.fail('no batch here'),
  });
  return { runs, answered };
}

test('a command cut between two frames is answered once, with the events of both', () => {
  const { runs, answered } = setUp([1, 2, 3]);
  runs.read(
    frame(
      [
        [1, true],
        [2, true],
        [2, false],
      ],
      10,
      EventsFlag.More,
    ),
  );
  assert.deepEqual(answered, [[1, [10]]], 'command 2 goes on in the next frame');
  runs.read(
    frame(
      [
        [2, false],
        [2, false],
        [3, true],
      ],
      13,
    ),
  );
  assert.deepEqual(answered, [
    [1, [10]],
    [2, [11, 12, 13, 14]],
    [3, [15]],
  ]);
});

test('without More a frame answers its last command when it ends', () => {
  const { runs, answered } = setUp([4]);
  runs.read(
    frame(
      [
        [4, true],
        [4, false],
      ],
      20,
    ),
  );
  assert.deepEqual(answered, [[4, [20, 21]]]);
});

test('a drop between the two frames forgets the part: the repeat answers it alone', () => {
  const { runs, answered } = setUp([5]);
  runs.read(
    frame(
      [
        [5, true],
        [5, false],
      ],
      30,
      EventsFlag.More,
    ),
  );
  runs.reset();
  runs.read(frame([[5, true]], 40)); // the resend's answer (a repeat: one event)
  assert.deepEqual(answered, [[5, [40]]]);
});
