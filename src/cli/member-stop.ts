/**
 * How a drill or a bench stops its members when it is stopped itself (Ctrl-C, SIGTERM): each
 * cleanly, as `bourse cluster` stops its own. Its members run in process groups of their own
 * (spawnMember), so the terminal's Ctrl-C reaches the harness alone, and the harness stops
 * them; before, it killed them (SIGKILL) while the Ctrl-C stopped them too, so a member's
 * last lines were those of a crash, never "stopped cleanly".
 *
 *   harness: SIGINT ──► wholeClusterSignal to each ──► wait (memberStopMs) ──► SIGKILL the
 *                        (every member stops,                                 ones left, and
 *                        none hands over)                                     wait as long
 *
 * All of it synchronously (Atomics.wait): the harness's own flow must not go on meanwhile into
 * what is being torn down, and it exits right after.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { memberStopMs } from '../constants.js';
import { wholeClusterSignal } from './cluster-supervise.js';

/**
 * Stops each of `children` cleanly and waits for them; one still running after `ms` is killed
 * (SIGKILL) and waited for as long again. Returns the pids of those killed.
 */
export function stopMembersSync(children: readonly ChildProcess[], ms = memberStopMs): number[] {
  const running = children.filter(runs);
  for (const c of running) c.kill(wholeClusterSignal);
  waitExitedSync(running, ms);
  const left = running.filter(runs);
  for (const c of left) c.kill('SIGKILL');
  waitExitedSync(left, ms);
  return left.map((c) => c.pid!);
}

/**
 * Blocks until each process has exited (or `ms` pass). Without the event loop a killed child is
 * not reaped: it has exited once it is a zombie ('Z' in /proc/<pid>/stat) or gone.
 */
export function waitExitedSync(children: readonly ChildProcess[], ms: number): void {
  const tick = new Int32Array(new SharedArrayBuffer(4));
  const deadline = performance.now() + ms;
  while (children.some(runs) && performance.now() < deadline) Atomics.wait(tick, 0, 0, 10);
}

/** Whether a child still runs (isRunning on its pid; one never started does not). */
function runs(c: ChildProcess): boolean {
  return c.pid !== undefined && isRunning(c.pid);
}

/**
 * Whether process `pid` runs. A zombie (exited, not reaped yet: by its parent's event loop, or
 * by init for an orphan) does not, though signal 0 would still find it: /proc decides.
 */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false; // gone, or reaped already
  }
}
