/** Processes in tests: whether one still runs. */
import { readFileSync } from 'node:fs';

/**
 * Whether process `pid` runs. A zombie (exited, not yet reaped: an orphan waits for init) does
 * not: signal 0 would still find it, so its state in /proc decides.
 */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
