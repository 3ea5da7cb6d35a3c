/**
 * CPU time a process has used so far, all its threads (ms: user + system, from /proc; Linux's
 * clock tick is 100 Hz, so a reading is good to 10 ms). Read before and after a timed phase and
 * divided by its commands, it is what a command costs that process.
 */
import { readFileSync } from 'node:fs';

export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime
}
