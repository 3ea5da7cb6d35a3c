import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TailLog } from '../../../bench/lib/tail-log.js';

/** A histogram as record() uses it: the values it was given, in order. */
const recorder = () => {
  const values: number[] = [];
  return { values, recordValue: (v: number) => void values.push(v) };
};

/** One recorder a stage, as the open loop's stage histograms. */
function stageRecorders() {
  return { lag: recorder(), to_stamp: recorder(), from_stamp: recorder(), call: recorder() };
}

// The open loop's histograms are filled from the kept times after the loop: each value must be
// what the loop recorded before, max(1, round(ms * 1000)) of the same difference.
test('record() gives each kept command its latency and stages in µs', () => {
  const log = new TailLog(4);
  log.add(10, 10.5, 11.25, 12.0004, 7); // intended, called, stamped, answered (ms)
  log.add(20, 20.0001, 19.9, 20.3, 8); // a stamp before the call (clocks differ): 1 µs
  const latency = recorder();
  const stages = stageRecorders();
  log.record(latency, stages);
  assert.deepEqual(latency.values, [2000, 300]);
  assert.deepEqual(stages.lag.values, [500, 1]);
  assert.deepEqual(stages.to_stamp.values, [750, 1]);
  assert.deepEqual(stages.from_stamp.values, [750, 400]);
  assert.deepEqual(stages.call.values, [1500, 300]);
});

// The open loop by submitStatus has no stamp (a 24-byte result carries none): its commands'
// latency, lag and call are recorded, the split at the stamp is not (NaN was recorded before).
test('record() leaves out the stamp stages of a command with no stamp (NaN)', () => {
  const log = new TailLog(4);
  log.add(10, 10.5, NaN, 12, 7);
  const latency = recorder();
  const stages = stageRecorders();
  log.record(latency, stages);
  assert.deepEqual(latency.values, [2000]);
  assert.deepEqual(stages.lag.values, [500]);
  assert.deepEqual(stages.call.values, [1500]);
  assert.deepEqual(stages.to_stamp.values, []);
  assert.deepEqual(stages.from_stamp.values, []);
  const tail = log.figures([]);
  assert.deepEqual([tail.lagUs, tail.toStampUs, tail.fromStampUs], [500, 0, 1500]);
  assert.deepEqual(tail.each.fromStampUs, [1500], 'split at the call: all of it after');
});
