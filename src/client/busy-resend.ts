/**
 * Frames the server refused as Busy (its input ring was full), sent again after a doubling
 * backoff, in the order they were first sent: the server refuses every later frame of the
 * client after a Busy one until that one comes again.
 *
 *   Error(Busy, request id) ──► refused ──first wait 1 ms, doubling to 100 ms──► sent again
 *   an answer              ──► the wait starts at 1 ms again (the server takes commands)
 */

import { sdkBusyRetryMs, sdkBusyRetryMsMax } from '../constants.js';

export class BusyResend {
  /** Request ids of the frames refused as Busy, waiting to be sent again. */
  private readonly refused = new Set<number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private retryMs = sdkBusyRetryMs;

  constructor(
    /** The frames not yet answered, by request id (a frame answered meanwhile is not sent). */
    private readonly unanswered: ReadonlyMap<number, { readonly bytes: Buffer }>,
    /** Sends a frame's bytes on the connection now. */
    private readonly send: (bytes: Buffer) => void,
    /** Whether the client closed for good meanwhile (nothing is sent then). */
    private readonly closed: () => boolean,
  ) {}

  /** The frame of `requestId` was refused as Busy: sent again after the backoff. */
  refuse(requestId: number): void {
    this.refused.add(requestId);
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.closed()) return;
      const ids = [...this.refused].sort((a, b) => a - b);
      this.refused.clear();
      for (const id of ids) {
        const frame = this.unanswered.get(id);
        if (frame !== undefined) this.send(frame.bytes);
      }
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, sdkBusyRetryMsMax);
  }

  /** An answer came: the server is taking commands again. */
  answered(): void {
    this.retryMs = sdkBusyRetryMs;
  }

  /** Every unanswered frame goes again now (a reconnect), or none will: none waits here. */
  clear(): void {
    this.refused.clear();
  }
}
