/**
 * Slow consumers: a client that reads less than it is sent is closed with 4008 once more than
 * sessionBackpressureMaxBytes wait for it, rather than left to miss events.
 *
 * uWS drops a send past its maxBackpressure, and for pub/sub (trades, account and book
 * streams) it does so without a word: `app.publish` skips that subscriber and goes on, so a
 * lagging account stream lost events and stayed open. So uWS's own limit is set far above
 * ours (sessionBackpressureDropBytes) and the gateway closes sessions itself, at our limit:
 *
 *   direct sends (answers, journal stream)   checked after each send (`closeIfSlow`)
 *   pub/sub (trades, accounts, books)         every slowConsumerSweepMs over every session
 *
 * Between sweeps a session can take at most what the node publishes in that time, far below
 * the gap between the two limits (16 MB in 10 ms would be 100,000+ events for one session).
 */
import { sessionBackpressureMaxBytes, slowConsumerSweepMs } from '../constants.js';
import { CloseCode } from '../protocol/frames.js';
import type { WebSocket } from './uws.js';

/** Closes `ws` with 4008 when more than the limit waits unread; true when it did. */
export function closeIfSlow<T>(ws: WebSocket<T>): boolean {
  if (ws.getBufferedAmount() <= sessionBackpressureMaxBytes) return false;
  ws.end(CloseCode.SlowConsumer, 'reading too slowly');
  return true;
}

/** Checks every open session on a timer (pub/sub sends are not ours to check one by one). */
export class SlowConsumerSweep<T> {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly sessions: () => Iterable<WebSocket<T>>) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.sweep(), slowConsumerSweepMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Closes the slow ones (a close handler deleting from a Map or Set being iterated is safe). */
  sweep(): void {
    for (const ws of this.sessions()) closeIfSlow(ws);
  }
}
