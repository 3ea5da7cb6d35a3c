/**
 * Who may hold a WebSocket on the binary protocol's paths (docs/PROTOCOL.md, "Limits"):
 *
 *   upgrade ──(open sockets < sessionCountMax, not logged in < loginsPendingMax, else 503)──►
 *   open ──(Hello, or Hello + Answer, within loginTimeoutMs, else closed 4001)──► logged in
 *   a read session ──(its client id's read sessions < readSessionsPerClientMax, else 4009)──►
 *
 * Sockets that never logged in counted nowhere and never timed out: 12,000 of them were taken
 * above the session cap, and 20,000 used up the process's file descriptors. And one client id
 * (one non-admin key) could take every session place on /read, locking everyone else out.
 */
import {
  loginSweepMs,
  loginTimeoutMs,
  loginsPendingMax,
  readSessionsPerClientMax,
  sessionCountMax,
} from '../constants.js';
import { CloseCode } from '../protocol/frames.js';
import type { WebSocket } from './uws.js';

export class Admission<S> {
  /** Sockets open and not logged in, with when they opened (ms): oldest first. */
  private readonly pending = new Map<WebSocket<S>, number>();
  /** Read sessions open, by client id. */
  private readonly readers = new Map<number, number>();
  private sweeper: NodeJS.Timeout | null = null;

  /** Sockets open and not logged in yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Why an upgrade is refused (503), or null; `loggedIn`: sessions open, read ones too. */
  upgradeRefusal(loggedIn: number): string | null {
    if (loggedIn + this.pending.size >= sessionCountMax) return 'too many sessions';
    if (this.pending.size >= loginsPendingMax) return 'too many logins under way';
    return null;
  }

  /** A socket opened: it must log in within loginTimeoutMs. */
  opened(ws: WebSocket<S>): void {
    this.pending.set(ws, Date.now());
    this.sweeper ??= setInterval(() => this.sweep(), loginSweepMs).unref();
  }

  /**
   * A socket logged in: true, or false for a read session whose client id holds as many as
   * it may (the caller closes it with 4009).
   */
  loggedIn(ws: WebSocket<S>, readOf: number | null): boolean {
    if (readOf !== null) {
      const held = this.readers.get(readOf) ?? 0;
      if (held >= readSessionsPerClientMax) return false;
      this.readers.set(readOf, held + 1);
    }
    this.pending.delete(ws);
    return true;
  }

  /** A socket closed; `readOf`: the client id of the read session it was, or null. */
  closed(ws: WebSocket<S>, readOf: number | null): void {
    this.pending.delete(ws);
    if (readOf === null) return;
    const held = this.readers.get(readOf) ?? 0;
    if (held <= 1) this.readers.delete(readOf);
    else this.readers.set(readOf, held - 1);
  }

  stop(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  /** Closes the sockets that have not logged in within loginTimeoutMs (4001). */
  private sweep(): void {
    const before = Date.now() - loginTimeoutMs;
    for (const [ws, at] of this.pending) {
      if (at > before) break;
      this.pending.delete(ws);
      ws.end(CloseCode.HelloRequired, `no login within ${loginTimeoutMs / 1000} s`);
    }
  }
}
