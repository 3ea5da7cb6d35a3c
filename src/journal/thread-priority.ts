/**
 * Lowers the calling thread's CPU priority (Linux: setpriority() on the thread id from
 * /proc/thread-self applies to that thread alone). Background work (snapshots) then runs on
 * spare CPU instead of taking a core from the processor and the journal writer. Elsewhere, or
 * when not allowed, it does nothing.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

export function lowerThreadPriority(nice: number): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // Not Linux, or not allowed: the thread keeps its priority.
  }
}
