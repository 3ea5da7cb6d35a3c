/** Processes in tests: whether one still runs, and which it started. */
import { execFileSync } from 'node:child_process';
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

/** The children of `pid` whose command line includes `marker`: their pids. */
export function childrenOf(pid: number, marker: string): number[] {
  let lines = '';
  try {
    lines = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)]).toString();
  } catch {
    return []; // none: ps exits 1
  }
  return lines
    .split('\n')
    .filter((l) => l.includes(marker))
    .map((l) => Number.parseInt(l, 10));
}

/** The children of `pid` that include `marker`, once there are `count` of them. */
export async function awaitChildren(
  pid: number,
  marker: string,
  count: number,
  ms = 20_000,
): Promise<number[]> {
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    const pids = childrenOf(pid, marker);
    if (pids.length >= count) return pids;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`process ${pid} did not start ${count} of '${marker}' within ${ms} ms`);
}
