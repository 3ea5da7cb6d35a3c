/**
 * Who may hold a WebSocket on the binary protocol's paths (docs/PROTOCOL.md, "Limits"):
 *
 *   upgrade ──(open sockets < sessionCountMax, not logged in < loginsPendingMax, and from its
 *              address < loginsPendingPerAddressMax, else 503)──►
 *   open ──(Hello, or Hello + Answer, within loginTimeoutMs, else closed 4001)──► logged in
 *   a read session ──(its client id's read sessions < readSessionsPerClientMax, else 4009)──►
 *
 * Sockets that never logged in counted nowhere and never timed out: 12,000 of them were taken
 * above the session cap, and 20,000 used up the process's file descriptors. And one client id
 * (one non-admin key) could take every session place on /read, locking everyone else out.
 * And one address that kept ~1,000 silent sockets open took the whole login pool.
 */
import {
  loginSweepMs,
  loginTimeoutMs,
  loginsPendingMax,
  loginsPendingPerAddressMax,
  readSessionsPerClientMax,
  sessionCountMax,
} from '../constants.js';
import { CloseCode } from '../protocol/frames.js';
import { assert } from '../stdx/assert.js';
import type { HttpRequest, HttpResponse, WebSocket } from './uws.js';
import { crossOriginRefusal } from './origin.js';
import type { LoginFailures } from './login-failures.js';

export class Admission<S> {
  /**
   * Sockets open and not logged in, with when they opened and from where: oldest first. The
   * time is performance.now() (ms), which only goes forward: the sweep stops at the first one
   * not yet due, and with Date.now() a step of the wall clock back (NTP) made a socket opened
   * before it look due only that much later: no socket timed out until then, and silent ones
   * could fill the login pool (new ones refused 503). A step forward timed out all at once.
   */
  private readonly pending = new Map<WebSocket<S>, { atMs: number; address: string }>();
  /** How many of them each remote address holds (an address holding none is absent). */
  private readonly pendingByAddress = new Map<string, number>();
  /** Read sessions open, by client id. */
  private readonly readers = new Map<number, number>();
  private sweeper: NodeJS.Timeout | null = null;

  /** `failures`: where a socket that never logs in is counted (reason `timeout`). */
  constructor(private readonly failures: () => LoginFailures) {}

  /** Sockets open and not logged in yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Why an upgrade is refused (403 from another site's page in development mode, else 503 when
   * full), or null; `loggedIn`: sessions open, read ones too.
   */
  upgradeRefusal(
    loggedIn: number,
    res: HttpResponse,
    req: HttpRequest,
    node: { keys: unknown },
  ): { status: string; error: string } | null {
    const crossOrigin = crossOriginRefusal(req, node.keys === null);
    if (crossOrigin !== null) return { status: '403 Forbidden', error: crossOrigin };
    const full = this.fullness(loggedIn, remoteAddress(res));
    return full === null ? null : { status: '503 Service Unavailable', error: full };
  }

  private fullness(loggedIn: number, address: string): string | null {
    if (loggedIn + this.pending.size >= sessionCountMax) return 'too many sessions';
    if (this.pending.size >= loginsPendingMax) return 'too many logins under way';
    if ((this.pendingByAddress.get(address) ?? 0) >= loginsPendingPerAddressMax) {
      return 'too many logins under way from this address';
    }
    return null;
  }

  /** A socket opened: it must log in within loginTimeoutMs. */
  opened(ws: WebSocket<S>): void {
    const address = remoteAddress(ws);
    this.pending.set(ws, { atMs: performance.now(), address });
    this.pendingByAddress.set(address, (this.pendingByAddress.get(address) ?? 0) + 1);
    this.sweeper ??= setInterval(() => this.sweep(), loginSweepMs).unref();
  }

  /** Forgets a socket that logged in or closed (or timed out) among those pending. */
  private settle(ws: WebSocket<S>): void {
    const entry = this.pending.get(ws);
    if (entry === undefined) return;
    this.pending.delete(ws);
    const held = this.pendingByAddress.get(entry.address) ?? 0;
    assert(held >= 1, 'admission: a pending socket counted at its address');
    if (held === 1) this.pendingByAddress.delete(entry.address);
    else this.pendingByAddress.set(entry.address, held - 1);
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
    this.settle(ws);
    return true;
  }

  /** A socket closed; `readOf`: the client id of the read session it was, or null. */
  closed(ws: WebSocket<S>, readOf: number | null): void {
    this.settle(ws);
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
    const before = performance.now() - loginTimeoutMs;
    for (const [ws, { atMs, address }] of this.pending) {
      if (atMs > before) break;
      this.settle(ws);
      this.failures().note('timeout', address);
      ws.end(CloseCode.HelloRequired, `no login within ${loginTimeoutMs / 1000} s`);
    }
  }
}

/**
 * The remote address of a socket or of an upgrade's response, as text (IPv4 dotted, IPv6
 * hex); the same host gives the same text at upgrade and at open.
 */
export function remoteAddress(from: WebSocket<unknown> | HttpResponse): string {
  return Buffer.from(from.getRemoteAddressAsText()).toString('latin1');
}
