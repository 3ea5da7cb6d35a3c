/**
 * Reads at a sequence: GET /balances, /orders and /book with `at=SEQ` (docs/PROTOCOL.md, "Reading
 * your own writes") are answered from a state at SEQ or past it, never an older one. A client
 * that got a result at SEQ (on the primary) and reads right after, on the primary or on a
 * standby, saw the state from before its own command at times: the read model applies events
 * a few ms after their results, and a standby's trails by its replication lag too.
 *
 *   GET ...&at=SEQ ──► read model at SEQ? ──yes──► query ──► 200 {sequence ≥ SEQ, ...}
 *                            │ no
 *                            ▼
 *                      SequenceWaits: looks every readAtPollMs, for readQueryTimeoutMs
 *                            ├─ reached ──► query ──► 200
 *                            └─ not ──► 503 {code: READ_MODEL_BEHIND, at, sequence reached}
 *
 * The read model's sequence is the snapshotter's progress word (ProgressSlot.readModelSequence),
 * stored after each applied batch: a query posted once it reads SEQ or more is answered at SEQ
 * or more (the replica only moves forward). The answer is checked all the same. The wait's bound
 * is a query's (readQueryTimeoutMs: a read model that has not reached SEQ has not answered).
 */
import {
  readAtPollMs,
  readAtWaitsPerAddressMax,
  readQueriesPendingMax,
  readQueryTimeoutMs,
} from '../constants.js';
import { assert } from '../stdx/assert.js';
import { AddressCounts } from './address-counts.js';
import { queryNumber } from './http.js';

/** The error code of a read whose `at` the read model did not reach in time (503). */
export const readModelBehindCode = 'READ_MODEL_BEHIND';

/**
 * The `at` of a read's query string: null when not given, else a sequence from 0 to 2^53 - 1,
 * or why it is refused (400): not decimal digits (`-1`, `1e3`, `0x10`), or past 2^53 - 1.
 */
export function readAtOf(text: string | undefined): number | null | string {
  if (text === undefined || text === '') return null;
  const at = queryNumber(text);
  if (Number.isSafeInteger(at) && at >= 0) return at;
  return 'at: a sequence number, in digits, from 0 to 2^53 - 1 (9007199254740991)';
}

interface Waiter {
  at: number;
  /** The remote address the read came from. */
  address: string;
  /** performance.now() past which it is answered as not reached. */
  deadline: number;
  done: (reached: boolean) => void;
}

/**
 * Reads waiting for the read model to reach their `at`: at most readQueriesPendingMax (each
 * becomes a query waiting for the read model, which that bounds too), of which at most
 * readAtWaitsPerAddressMax from one remote address, each for at most readQueryTimeoutMs. One
 * timer looks at the read model's sequence for all of them, and runs only while some wait.
 * GET /book needs no key: one address asking for a sequence far ahead (`at=9007199254740991`)
 * held all the waits, 5 s each, and every other read at a sequence was refused READ_BUSY.
 */
export class SequenceWaits {
  private readonly waiters: Waiter[] = [];
  /** Waiters by remote address. */
  private readonly byAddress = new AddressCounts('read-at: a waiter');
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    /** The last sequence the read model applied: a query asked now is answered at it or past. */
    readonly applied: () => number,
  ) {}

  /** Reads waiting now. */
  get count(): number {
    return this.waiters.length;
  }

  /**
   * Calls `done(true)` once the read model reaches `at`, or `done(false)` after
   * readQueryTimeoutMs (never at once, never twice). Returns a handle to `cancel` it by, or why
   * it may not wait (`done` is never called then): as many wait as may, from everywhere or
   * from `address`, the read's remote address.
   */
  wait(at: number, address: string, done: (reached: boolean) => void): object | string {
    assert(Number.isSafeInteger(at), 'read-at: a sequence to wait for');
    if (this.waiters.length >= readQueriesPendingMax) {
      return 'busy: too many reads waiting for a sequence';
    }
    const fromAddress = this.byAddress.of(address);
    if (fromAddress >= readAtWaitsPerAddressMax) {
      return (
        `busy: ${readAtWaitsPerAddressMax} reads from your address wait for a sequence ` +
        'already, the most one address may: ask again once they are answered'
      );
    }
    this.byAddress.add(address);
    const waiter = { at, address, deadline: performance.now() + readQueryTimeoutMs, done };
    this.waiters.push(waiter);
    this.timer ??= setInterval(() => this.look(), readAtPollMs).unref();
    return waiter;
  }

  /** Forgets a wait (its request was aborted): `done` is not called. */
  cancel(handle: object): void {
    const at = this.waiters.indexOf(handle as Waiter);
    if (at >= 0) this.byAddress.remove(this.waiters.splice(at, 1)[0].address);
    this.stopIfIdle();
  }

  /** Answers every waiter whose `at` was reached or whose time is up. */
  private look(): void {
    const applied = this.applied();
    const now = performance.now();
    const due: Waiter[] = [];
    let kept = 0;
    for (const waiter of this.waiters) {
      if (waiter.at <= applied || now >= waiter.deadline) due.push(waiter);
      else this.waiters[kept++] = waiter;
    }
    this.waiters.length = kept;
    for (const waiter of due) this.byAddress.remove(waiter.address);
    this.stopIfIdle();
    // After the list is settled: a `done` that waits again (or cancels) sees it whole.
    for (const waiter of due) waiter.done(waiter.at <= applied);
  }

  private stopIfIdle(): void {
    if (this.waiters.length > 0 || this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
  }
}
