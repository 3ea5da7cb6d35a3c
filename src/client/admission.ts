/**
 * The SDK's backpressure: room in flight, and the submissions waiting for it.
 *
 *   a call ──► room in flight, none waiting? ──yes──► staged into this tick's frame
 *                       │ no
 *                       ▼
 *              waiting, in call order ──an answer makes room──► staged
 *                       │ queueMax submissions waiting already
 *                       ▼
 *              rejected at once (ClientError QueueFull): nothing sent; await earlier calls first
 *
 * A caller that awaits its calls never meets the limit. One that issues calls without awaiting
 * them (a loop of a million transfers) used to queue every one of them, each a closure, a
 * promise and its fields: 742 MB of heap for a million, all at once. A submission is one call,
 * or one batch however large (its commands stay the caller's list).
 */
import { sdkInFlightMax, sdkQueueMax, sdkWaitingCompactAt } from '../constants.js';
import { ClientError } from './session.js';
import { ClientErrorCode } from './error-codes.js';
import { settledParts } from './batch-parts.js';

/** Sends a waiting submission once it fits; false while it does not (it stays first). */
type Waiter = (closed: Error | null) => boolean;

export class Admission {
  /** Submissions waiting for room, oldest first from `head`. */
  private readonly waiting: Waiter[] = [];
  private head = 0;
  /** The refusal while the queue is full (see `refusal`). */
  private full: ClientError | null = null;

  /** Commands in flight at most (set from the server's window once a session opens). */
  inFlightMax: number;
  readonly queueMax: number;

  constructor(
    /** Commands in flight now (sent or staged, not answered). */
    private readonly inFlight: () => number,
    /** The options' inFlightMax and queueMax (undefined: sdkInFlightMax, sdkQueueMax). */
    inFlightMax: number | undefined,
    queueMax: number | undefined,
    /** Why the session is closed for good, or null. */
    private readonly closed: () => Error | null,
  ) {
    this.inFlightMax = inFlightMax ?? sdkInFlightMax;
    this.queueMax = queueMax ?? sdkQueueMax;
  }

  /** Submissions waiting now. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /**
   * A submission of `count` commands (at most inFlightMax): `go` now when it fits and none
   * waits before it, else queued behind those (in call order), else refused (QueueFull).
   */
  admit<T>(count: number, go: () => Promise<T>): Promise<T> {
    if (!this.mustWait(count)) return go();
    const busy = this.refusal();
    return busy === null ? this.later(count, go) : Promise.reject(busy);
  }

  /** Whether `count` commands may go at once (admit's first case, with no closure to make). */
  fits(count: number): boolean {
    return !this.mustWait(count);
  }

  /**
   * A batch larger than the window, as one submission: it sends its parts (`counts` commands
   * each) as room allows, several in flight at once, and stays first until its last part is
   * sent, so nothing else goes between them. Refused (QueueFull) when the queue is full.
   */
  admitInParts<T>(counts: readonly number[], go: (part: number) => Promise<T>): Promise<T[]> {
    const busy = this.refusal();
    return busy === null ? this.laterInParts(counts, go) : Promise.reject(busy);
  }

  /** Whether `count` more commands must wait: no room in flight, or others waiting first. */
  private mustWait(count: number): boolean {
    const full = this.inFlight() + count > this.inFlightMax;
    return full || this.queued > 0 || this.closed() !== null;
  }

  /**
   * The refusal of one more waiting submission when the queue is full, or null. Refusals while
   * it stays full share one error: a loop that never awaits meets the limit hundreds of
   * thousands of times in a row, and a stack trace each cost 3.4x the time and 3.4x the heap
   * (900k refusals: 8.4 s and 714 MB, against 2.5 s and 212 MB shared). Its stack is the first
   * refused call's: the loop's.
   */
  private refusal(): ClientError | null {
    // A closed session refuses with why it closed (later() rejects with that), not QueueFull.
    if (this.queued < this.queueMax || this.closed() !== null) {
      this.full = null;
      return null;
    }
    if (this.full !== null) return this.full;
    const why =
      `busy: ${this.queued} submissions already wait for room in flight (queueMax ` +
      `${this.queueMax}); nothing was sent: await earlier calls before making more`;
    this.full = new ClientError(ClientErrorCode.QueueFull, why);
    return this.full;
  }

  /** Queues a submission of `count` commands until there is room in flight. */
  private later<T>(count: number, go: () => Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      this.waiting.push((closed) => {
        if (closed !== null) reject(closed);
        else if (this.inFlight() + count > this.inFlightMax) return false;
        else go().then(resolve, reject);
        return true;
      });
      this.drain();
    });
  }

  /** Queues a batch in parts (see admitInParts). */
  private laterInParts<T>(
    counts: readonly number[],
    go: (part: number) => Promise<T>,
  ): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const sent: Promise<T>[] = [];
      // Every part sent is waited for (none left to reject unhandled), and the batch is told
      // as a whole (batch-parts.ts).
      const settle = (cut: Error | null): void => {
        void Promise.allSettled(sent).then((outcomes) => {
          const done = settledParts(outcomes, counts, cut);
          if (done instanceof Error) reject(done);
          else resolve(done);
        });
      };
      this.waiting.push((closed) => {
        if (closed !== null) {
          if (sent.length === 0) reject(closed);
          else settle(closed);
          return true;
        }
        while (sent.length < counts.length) {
          if (this.inFlight() + counts[sent.length] > this.inFlightMax) return false;
          const part = go(sent.length);
          // Handled now: a part refused (its frame) while later ones wait for room was a
          // rejection with no handler until settle, an unhandledRejection that ended the process.
          part.catch(() => {});
          sent.push(part);
        }
        settle(null);
        return true;
      });
      this.drain();
    });
  }

  /** Sends the queued submissions that now fit, oldest first (or fails them all once closed). */
  drain(): void {
    const waiting = this.waiting;
    const closed = this.closed();
    while (this.head < waiting.length && waiting[this.head](closed)) this.head++;
    // Runs after every answer: with nothing queued it returns here, allocating nothing (a
    // splice of zero entries still returns a new array).
    if (this.head === 0) return;
    if (this.head === waiting.length) {
      waiting.length = 0;
      this.head = 0;
    } else if (this.head >= sdkWaitingCompactAt) {
      waiting.splice(0, this.head); // compacts now and then, never per submission
      this.head = 0;
    }
  }
}
