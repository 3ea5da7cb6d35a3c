/** Processes in tests: whether one still runs, and which it started. */
import { execFileSync } from 'node:child_process';
import { isRunning } from '../../src/cli/member-stop.js';

/** Whether process `pid` runs (a zombie does not: see isRunning). */
export const alive = isRunning;

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
