/**
 * How long a session being opened waits: while the server is silent, not for a total. A login
 * is a TCP connect, the upgrade's 101, Hello and Welcome. It was given `silenceMs` (2 s) in all,
 * from the socket's creation: in a reconnect storm of 5,000 clients the clients' own event
 * loops ran 1-3 s late, the timer fired before the Welcome already read by the kernel was, and
 * the SDK ended a login the server had just welcomed (1006: a loss, its orders canceled).
 *
 *   socket ──► every `periodMs` a look: heard something (the 101, a frame, a pong) ─► quiet 0
 *              a late look (this process stalled) ─► quiet 0: what came meanwhile waits unread
 *              on time, nothing heard ─► quiet += elapsed; once open, a ping (a live server's
 *              pong is heard: the login is queued there, not dead)
 *              quiet ≥ silenceMs ─► once more after this turn's reads (setImmediate) ─► give up
 *              capMs since the start, whatever was heard ─► give up
 *
 * As liveness.ts watches an open session; this one ends at Welcome or at a refusal.
 */
import WebSocket from 'ws';
import { sdkPingMs } from '../constants.js';
import { assert } from '../stdx/assert.js';

export class OpeningWatch {
  private heard = 0;
  private seen = 0;
  private quietMs = 0;
  private lookedAt: number;
  private readonly startedAt: number;
  private readonly periodMs: number;
  private timer: ReturnType<typeof setInterval> | null;
  private closed: AbortSignal | null = null;

  constructor(
    private readonly socket: WebSocket,
    /** Silence that ends the opening (ms, > 0). */
    private readonly silenceMs: number,
    /** The opening ends this long after it began (ms, ≥ silenceMs): a server that never logs in. */
    private readonly capMs: number,
    /** Ends the opening; called at most once, and never after `stop`. */
    private readonly giveUp: (why: string) => void,
  ) {
    assert(silenceMs > 0, 'opening watch: a silence to wait for');
    assert(capMs >= silenceMs, 'opening watch: the cap is no shorter than the silence');
    this.periodMs = Math.min(sdkPingMs, Math.max(1, Math.floor(silenceMs / 2)));
    this.startedAt = performance.now();
    this.lookedAt = this.startedAt;
    const hear = (): void => void this.heard++;
    socket.on('upgrade', hear);
    socket.on('message', hear);
    socket.on('pong', hear);
    this.timer = setInterval(() => this.look(), this.periodMs);
  }

  /**
   * Ends the opening at once when `closed` (the client's, aborted by close()) aborts: a login
   * queued on a node that answers pings was waited for up to capMs, and held a closed client's
   * process that long.
   */
  endOn(closed: AbortSignal | undefined): void {
    if (closed === undefined) return;
    this.closed = closed;
    closed.addEventListener('abort', this.onClosed);
    if (closed.aborted) this.onClosed();
  }

  /** The opening ended (Welcome, a refusal, a close): no more looks. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.closed?.removeEventListener('abort', this.onClosed);
  }

  private readonly onClosed = (): void => {
    if (this.timer !== null) this.end('the client closed');
  };

  private look(): void {
    const now = performance.now();
    const elapsed = now - this.lookedAt;
    this.lookedAt = now;
    const capped = now - this.startedAt >= this.capMs;
    if (this.heard !== this.seen || elapsed > 2 * this.periodMs) {
      this.seen = this.heard;
      this.quietMs = 0;
      if (capped) this.end(`no Welcome within ${this.capMs} ms`);
      return;
    }
    this.quietMs += elapsed;
    if (this.quietMs >= this.silenceMs) return this.endIfSilent();
    if (capped) return this.end(`no Welcome within ${this.capMs} ms`);
    if (this.socket.readyState === WebSocket.OPEN) this.socket.ping();
  }

  /** Silent for silenceMs: given up, unless the reads of this turn (after its timers) hear. */
  private endIfSilent(): void {
    setImmediate(() => {
      if (this.timer === null) return;
      if (this.heard !== this.seen) {
        this.seen = this.heard;
        this.quietMs = 0;
        return;
      }
      this.end(`no answer within ${this.silenceMs} ms (hung, or cut off?)`);
    });
  }

  private end(why: string): void {
    this.stop();
    this.giveUp(why);
  }
}
