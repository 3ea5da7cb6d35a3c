/**
 * The SDK's status calls in flight (BourseClient.submitStatus): single commands whose caller
 * wants their outcome only. Each is three numbers and a reference to the caller's function in
 * circular arrays by client seq: no promise, no closure, no events array and no event object
 * per command, which is what a streaming client spends its CPU on (a profile of bench:e2e's
 * open loop, one promise per command: a fifth of the process's CPU in GC). A frame of status
 * calls and batches only goes out ResultsOnly, answered with 24-byte results, not events.
 *
 *   seqs:     base                 end           slot of seq s: s & mask
 *   handler: [ f | - | f | f | - ]               '-': answered, or not a status call
 *   tag:     [ 7 |   | 8 | 9 |   ]               the caller's number, told back
 *   frame:   [ 3 |   | 3 | 4 |   ]               request id of the frame carrying it
 *
 * A command is answered once (a repeat, after a resend, finds its slot empty). Its handler is
 * called from the socket's message event, after its slot is freed (a handler may call again);
 * a failure is told in a microtask (see fail).
 */
import { assert } from '../stdx/assert.js';
import { ClientError } from './session.js';
import { callStatus, type OnStatus } from './handler-calls.js';
import type { CutOff, UnansweredFrame } from './unanswered.js';

const initialCapacity = 1024;

export class StatusCalls {
  private handlers: (OnStatus | undefined)[];
  private tags: Float64Array;
  private frames: Uint32Array;
  private mask: number;
  /** The oldest seq held (when size > 0). */
  private base = 0;
  /** One past the newest seq added. */
  private end = 0;
  /** Status calls not answered yet: they count as in flight. */
  size = 0;

  constructor() {
    this.handlers = new Array<OnStatus | undefined>(initialCapacity).fill(undefined);
    this.tags = new Float64Array(initialCapacity);
    this.frames = new Uint32Array(initialCapacity);
    this.mask = initialCapacity - 1;
  }

  /** Holds the call of client seq `seq` (newer than every seq added before). */
  add(seq: number, handler: OnStatus, tag: number): void {
    assert(seq >= this.end, 'status-calls: seqs are added in increasing order');
    if (this.size === 0) this.base = seq;
    if (seq - this.base > this.mask) this.grow(seq - this.base + 1);
    const slot = seq & this.mask;
    this.handlers[slot] = handler;
    this.tags[slot] = tag;
    this.frames[slot] = 0;
    this.end = seq + 1;
    this.size++;
  }

  private held(seq: number): boolean {
    return seq >= this.base && seq < this.end && this.handlers[seq & this.mask] !== undefined;
  }

  /** Notes the frame that carries `seq`; false when no status call holds it. */
  setFrame(seq: number, requestId: number): boolean {
    if (!this.held(seq)) return false;
    this.frames[seq & this.mask] = requestId;
    return true;
  }

  /**
   * The answer of `seq` arrived: tells its handler (status, head event's sequence). Returns
   * the request id of its frame, or -1 when no status call holds `seq` (or it was answered).
   */
  answer(seq: number, status: number, sequence: number): number {
    if (!this.held(seq)) return -1;
    const slot = seq & this.mask;
    const handler = this.handlers[slot] as OnStatus;
    const tag = this.tags[slot];
    const frame = this.frames[slot];
    this.free(seq);
    callStatus(handler, null, status, tag, sequence);
    return frame;
  }

  /** Client seqs `first`..`last` (a refused frame, or given up) fail with `error`. */
  failRange(first: number, last: number, error: ClientError): void {
    for (let seq = first; seq <= last; seq++) this.fail(seq, error);
  }

  /**
   * The connection is gone for good: every call fails, `sent`'s error if its frame went out
   * (it may have been applied), else `unsent`'s. Allocates an error per call: at a close.
   */
  failAll(errors: CutOff, frames: ReadonlyMap<number, UnansweredFrame>): void {
    for (let seq = this.base, end = this.end; seq < end && this.size > 0; seq++) {
      if (!this.held(seq)) continue;
      const frame = this.frames[seq & this.mask];
      const sent = frame !== 0 && frames.get(frame)?.sent === true;
      this.fail(seq, sent ? errors.sent : errors.unsent);
    }
  }

  /**
   * Seqs from `seq` on, none held now, may be added again (the SDK gave them up). They may
   * all be past the last status call's (given up were other calls' seqs): nothing changes.
   */
  rewind(seq: number): void {
    for (let s = Math.max(seq, this.base); s < this.end; s++) {
      assert(!this.held(s), 'status-calls: seqs given up are not held');
    }
    this.end = Math.min(this.end, seq);
    if (this.size === 0) this.base = this.end;
  }

  /**
   * Tells `seq`'s handler `error`, naming its client seq, in a microtask: the SDK is changing
   * its seqs and frames (a give-up rewinds them), and a handler that called again then would
   * take a seq given up. A closure per call: failures only.
   */
  private fail(seq: number, error: ClientError): void {
    if (!this.held(seq)) return;
    const slot = seq & this.mask;
    const handler = this.handlers[slot] as OnStatus;
    const tag = this.tags[slot];
    this.free(seq);
    const own = new ClientError(error.code, error.message, error.mayHaveApplied, seq);
    queueMicrotask(() => callStatus(handler, own, -1, tag, 0));
  }

  private free(seq: number): void {
    this.handlers[seq & this.mask] = undefined;
    this.size--;
    if (this.size === 0) this.base = this.end;
    // Answers come mostly in order: the oldest seq moves up past the ones answered before it.
    else if (seq === this.base) {
      while (this.handlers[this.base & this.mask] === undefined) this.base++;
    }
  }

  /** Doubles the slots until `span` seqs fit (a call held long while others stream by). */
  private grow(span: number): void {
    let capacity = this.handlers.length;
    while (capacity < span) capacity *= 2;
    const handlers = new Array<OnStatus | undefined>(capacity).fill(undefined);
    const tags = new Float64Array(capacity);
    const frames = new Uint32Array(capacity);
    for (let seq = this.base; seq < this.end; seq++) {
      const from = seq & this.mask;
      const to = seq & (capacity - 1);
      handlers[to] = this.handlers[from];
      tags[to] = this.tags[from];
      frames[to] = this.frames[from];
    }
    this.handlers = handlers;
    this.tags = tags;
    this.frames = frames;
    this.mask = capacity - 1;
  }
}
