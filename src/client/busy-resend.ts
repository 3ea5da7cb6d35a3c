/**
 * Frames the server refused as Busy (its input ring was full), sent again after a doubling
 * backoff, in the order they were first sent: the server refuses every later frame of the
 * client after a Busy one until that one comes again.
 *
 *   Error(Busy, request id) ──► refused ──first wait 1 ms, doubling to 100 ms──► sent again
 *   an answer              ──► the wait starts at 1 ms again (the server takes commands)
 *   the oldest refused for busyTimeoutMs ──► not sent again: giveUp (busy-give-up.ts)
 *
 * It gives up only at a wait's end, when every frame it holds has been refused and none is on
 * its way again: the oldest of them never reached the ring, nor did any frame sent after it.
 */
import { sdkBusyRetryMs, sdkBusyRetryMsMax } from '../constants.js';

export class BusyResend {
  /** Request ids of the frames refused as Busy, waiting to be sent again. */
  private readonly refused = new Set<number>();
  /** When each frame not yet answered was first refused (ms), by request id. */
  private readonly since = new Map<number, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private retryMs = sdkBusyRetryMs;

  constructor(
    /** The frames not yet answered, by request id (a frame answered meanwhile is not sent). */
    private readonly unanswered: ReadonlyMap<number, { readonly bytes: Buffer }>,
    /** Sends a frame's bytes on the connection now. */
    private readonly send: (bytes: Buffer) => void,
    /** Whether the client closed for good meanwhile (nothing is sent then). */
    private readonly closed: () => boolean,
    /** How long a frame is sent again before the SDK gives up on it (ms). */
    private readonly timeoutMs: number,
    /**
     * Refused for timeoutMs: the frame `requestId` (the oldest refused) and every later one
     * end, not applied, after `waitedMs` of refusals.
     */
    private readonly giveUp: (requestId: number, waitedMs: number) => void,
  ) {}

  /** The frame of `requestId` was refused as Busy: sent again after the backoff. */
  refuse(requestId: number): void {
    this.refused.add(requestId);
    if (!this.since.has(requestId)) this.since.set(requestId, Date.now());
    if (this.timer !== null) return;
    this.timer = setTimeout(() => this.waited(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, sdkBusyRetryMsMax);
  }

  private waited(): void {
    this.timer = null;
    if (this.closed()) return;
    const ids = [...this.refused].sort((a, b) => a - b);
    this.refused.clear();
    for (const id of this.since.keys()) if (!this.unanswered.has(id)) this.since.delete(id);
    const oldest = ids.find((id) => this.unanswered.has(id));
    const waitedMs = oldest === undefined ? 0 : Date.now() - (this.since.get(oldest) ?? 0);
    if (oldest !== undefined && waitedMs >= this.timeoutMs) {
      this.since.clear(); // the frames given up, and all later ones, leave unanswered
      return this.giveUp(oldest, waitedMs);
    }
    for (const id of ids) {
      const frame = this.unanswered.get(id);
      if (frame !== undefined) this.send(frame.bytes);
    }
  }

  /** An answer came: the server is taking commands again. */
  answered(): void {
    this.retryMs = sdkBusyRetryMs;
  }

  /** Every unanswered frame goes again now (a reconnect), or none will: none waits here. */
  clear(): void {
    this.refused.clear();
    this.since.clear(); // a new session: its refusals count from its own
  }
}
