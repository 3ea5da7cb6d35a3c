import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TailLog } from '../../../bench/lib/tail-log.js';

/** A histogram as record() uses it: the values it was given, in order. */
const recorder = () => {
  const values: number[] = [];
  return { values, recordValue: (v: number) => void values.push(v) };
};

// The open loop's histograms are filled from the kept times after the loop: each value must be
// what the loop recorded before, max(1, round(ms * 1000)) of the same difference.
test('record() gives each kept command its latency and stages in µs', () => {
  const log = new TailLog(4);
  log.add(10, 10.5, 11.25, 12.0004, 7); // intended, called, stamped, answered (ms)
  log.add(20, 20.0001, 19.9, 20.3, 8); // a stamp before the call (clocks differ): 1 µs
  const latency = recorder();
  const stages = {
    lag: recorder(),
    to_stamp: recorder(),
    from_stamp: recorder(),
    call: recorder(),
  };
  log.record(latency, stages);
  assert.deepEqual(latency.values, [2000, 300]);
  assert.deepEqual(stages.lag.values, [500, 1]);
  assert.deepEqual(stages.to_stamp.values, [750, 1]);
  assert.deepEqual(stages.from_stamp.values, [750, 400]);
  assert.deepEqual(stages.call.values, [1500, 300]);
});
