/**
 * How long this process's threads waited for a core, per time they were woken: on a shared
 * 2-core guest, a command's latency is a chain of wake-ups (gateway, processor, journal writer
 * and its fsyncs, publisher), and each waits in the run queue while neighbours hold the cores.
 * A bench reports it beside its latencies, so that a slow run shows as the machine's.
 *
 *   /proc/self/task/<tid>/schedstat:  <ns on a CPU> <ns waiting for one> <timeslices>
 *
 * Summed over the threads alive at both readings (the node's workers live through a run).
 * Where it is missing (not Linux), the figures are null.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Per thread id: ns on a CPU, ns waiting for one, timeslices. */
export type RunQueueReading = Map<string, [number, number, number]>;

export function readRunQueue(): RunQueueReading | null {
  const reading: RunQueueReading = new Map();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const text = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8');
      const [run, wait, slices] = text.trim().split(' ').map(Number);
      reading.set(tid, [run, wait, slices]);
    }
  } catch {
    return null;
  }
  return reading;
}

/** Between two readings: µs waited per timeslice, and the ratio of waiting to running. */
export function runQueueWait(
  before: RunQueueReading | null,
  after: RunQueueReading | null,
): { waitUsPerSlice: number; waitPerRun: number } | null {
  if (before === null || after === null) return null;
  let run = 0;
  let wait = 0;
  let slices = 0;
  for (const [tid, [r1, w1, s1]] of after) {
    const start = before.get(tid);
    if (start === undefined) continue;
    run += r1 - start[0];
    wait += w1 - start[1];
    slices += s1 - start[2];
  }
  if (slices === 0 || run === 0) return null;
  return {
    waitUsPerSlice: Math.round(wait / slices / 1000),
    waitPerRun: Number((wait / run).toFixed(2)),
  };
}
