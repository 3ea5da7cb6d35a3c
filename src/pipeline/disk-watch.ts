/**
 * The free space on the disk under a node's data folder. The journal is never rewritten, so it
 * only grows (~128 bytes an event: ~460 GB an hour at 1M events/s), and a full disk stops the
 * node (node.ts, fail). This says so first: /metrics reports the free bytes, and the log warns,
 * at start and then at most once a minute, while fewer than dataFreeBytesWarn are free, with the
 * time left at the rate the space has been going.
 */
import { dataFreeBytesWarn, diskCheckMs, diskWarnEveryMs } from '../constants.js';
import { diskFreeBytes } from '../journal/disk-free.js';
import type { NodeLog } from './node.js';

export class DiskWatch {
  private readonly dir: string;
  private readonly log: NodeLog;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastFree = -1;
  private lastAt = 0;
  /** Bytes a second the free space fell by between the last two checks (0: not falling). */
  private rate = 0;
  private warnedAt = Number.NEGATIVE_INFINITY;

  constructor(dir: string, log: NodeLog) {
    this.dir = dir;
    this.log = log;
  }

  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), diskCheckMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Free bytes for this process on the disk (-1 when the folder cannot be asked). */
  free(): number {
    try {
      return diskFreeBytes(this.dir);
    } catch {
      return -1;
    }
  }

  /**
   * The free bytes the last check found (-1 before one, or when the folder could not be
   * asked): for GET /health, which must not make a syscall per request (a statfs on a network
   * disk can block). At most diskCheckMs old.
   */
  freeAtLastCheck(): number {
    return this.lastFree;
  }

  private check(): void {
    const free = this.free();
    const now = performance.now();
    if (free < 0) return;
    if (this.lastFree >= 0)
      this.rate = Math.max(0, (this.lastFree - free) / ((now - this.lastAt) / 1000));
    this.lastFree = free;
    this.lastAt = now;
    if (free >= dataFreeBytesWarn || now - this.warnedAt < diskWarnEveryMs) return;
    this.warnedAt = now;
    const left =
      this.rate > 0
        ? `; at the last ${diskCheckMs / 1000} s's rate it fills in ${minutes(free / this.rate)}`
        : '';
    this.log(
      `disk of ${this.dir}: ${megabytes(free)} MB free${left}; the node stops when it is full ` +
        '(move the journal to a larger disk, or free space)',
      'warn',
    );
  }
}

function megabytes(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

function minutes(seconds: number): string {
  return seconds < 120 ? `${seconds.toFixed(0)} s` : `${(seconds / 60).toFixed(0)} min`;
}
