/**
 * CPU time of the calling thread, for a phase one thread runs alone (the engine bench's loops).
 * On a shared guest, wall-clock rates measure the neighbours as much as the code: a thread that
 * waits for a core, or whose vCPU the hypervisor runs elsewhere, loses wall time but not CPU
 * time. So a change to a hot loop is judged by its CPU time a command, read here:
 *
 *   /proc/thread-self/schedstat:  <ns on a CPU> <ns waiting for one> <timeslices>
 *
 * The first field is the scheduler's run time of this thread (the clock behind
 * CLOCK_THREAD_CPUTIME_ID), in nanoseconds. Unlike process.cpuUsage() it leaves out V8's helper
 * threads (concurrent GC and compilers), and unlike /proc's utime + stime it is not counted in
 * 10 ms ticks. Where it is missing (not Linux), the process's user + system time stands in.
 * It still counts what neighbours do to a running thread: the caches and memory they share.
 */
import { readFileSync } from 'node:fs';

/** Which clock cpuNs() reads: this thread's run time, or the whole process's CPU time. */
export type CpuClock = 'thread' | 'process';

const schedstat = '/proc/thread-self/schedstat';

function threadNs(): number | null {
  try {
    const text = readFileSync(schedstat, 'utf8');
    const ns = Number(text.slice(0, text.indexOf(' ')));
    return Number.isSafeInteger(ns) && ns > 0 ? ns : null;
  } catch {
    return null;
  }
}

/** The clock this process reads (decided once: a clock must not change within a phase). */
export const cpuClock: CpuClock = threadNs() === null ? 'process' : 'thread';

/** CPU time so far (ns) on `cpuClock`: subtract two readings around a phase. */
export function cpuNs(): number {
  if (cpuClock === 'thread') return threadNs() ?? Number.NaN;
  const used = process.cpuUsage();
  return (used.user + used.system) * 1000;
}
