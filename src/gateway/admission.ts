/**
 * Who may hold a WebSocket on the binary protocol's paths (docs/PROTOCOL.md, "Limits"):
 *
 *   upgrade ──(open sockets < sessionCountMax, not logged in < loginsPendingMax, and from its
 *              address < loginsPendingPerAddressMax, else 503 with Retry-After and
 *              retryAfterMs: come back then, a refusal that waiting mends)──►
 *   open ──(Hello, or Hello + Answer, within loginTimeoutMs, else closed 4001)──► logged in
 *   a read session ──(its client id's read sessions < readSessionsPerClientMax, else 4009)──►
 *
 * Sockets that never logged in counted nowhere and never timed out: 12,000 of them were taken
 * above the session cap, and 20,000 used up the process's file descriptors. And one client id
 * (one non-admin key) could take every session place on /read, locking everyone else out.
 * And one address that kept ~1,000 silent sockets open took the whole login pool.
 */
import {
  loginRetryAfterMaxMs,
  loginRetryAfterMs,
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
import { AddressCounts } from './address-counts.js';
import type { LoginFailures } from './login-failures.js';

/** An upgrade refused: the HTTP status, why, and when to come back (a shed login). */
export interface UpgradeRefusal {
  status: string;
  error: string;
  retryAfterMs?: number;
  /**
   * Logged-in sessions alone fill sessionCountMax: no login is taken until one leaves (not
   * sockets that never logged in, which a flood of upgrades can fill: loginsPendingMax).
   */
  full?: boolean;
}

export class Admission<S> {
  /**
   * Sockets open and not logged in, with when they opened and from where: oldest first. The
   * time is performance.now() (ms), which only goes forward: the sweep stops at the first one
   * not yet due, and with Date.now() a step of the wall clock back (NTP) made a socket opened
   * before it look due only that much later: no socket timed out until then, and silent ones
   * could fill the login pool (new ones refused 503). A step forward timed out all at once.
   */
  private readonly pending = new Map<WebSocket<S>, { atMs: number; address: string }>();
  /** How many of them each remote address holds. */
  private readonly pendingByAddress = new AddressCounts('admission: a pending socket');
  /** Read sessions open, by client id. */
  private readonly readers = new Map<number, number>();
  private sweeper: NodeJS.Timeout | null = null;
  /**
   * What a shed login is told to wait (ms): loginRetryAfterMs, up to loginRetryAfterMaxMs
   * while many more are shed than taken (retryAfterFollow), so that a storm's clients come back
   * spread over about as long as the node takes to log them in, not each second.
   */
  private retryAfterMs = loginRetryAfterMs;
  /** Upgrades shed (503: full, or too many logins under way) and taken since the last sweep. */
  private shed = 0;
  private admitted = 0;

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
  ): UpgradeRefusal | null {
    const crossOrigin = crossOriginRefusal(req, node.keys === null);
    if (crossOrigin !== null) return { status: '403 Forbidden', error: crossOrigin };
    return this.fullness(loggedIn, remoteAddress(res));
  }

  private fullness(loggedIn: number, address: string): UpgradeRefusal | null {
    const error = this.fullReason(loggedIn, address);
    if (error === null) {
      this.admitted++;
      return null;
    }
    this.shed++;
    // Every refusal here is one that waiting mends: it says when to come back.
    const retryAfterMs = Math.round(this.retryAfterMs);
    const full = loggedIn >= sessionCountMax;
    return { status: '503 Service Unavailable', error, retryAfterMs, full };
  }

  /**
   * Why the node takes no more sessions now, or null. Logins under way end within a round trip
   * (or loginTimeoutMs), and a session place frees once any session closes: a place frees soon
   * either way. Told no wait at the session cap, a client refused during a grace after a
   * takeover held none of it (cancel-on-disconnect.ts) and the SDK gave up after
   * reconnectWaitMs: it could lose its orders for a refusal that was the node's own.
   */
  private fullReason(loggedIn: number, address: string): string | null {
    if (loggedIn + this.pending.size >= sessionCountMax) return 'too many sessions';
    if (this.pending.size >= loginsPendingMax) return 'too many logins under way';
    if (this.pendingByAddress.of(address) >= loginsPendingPerAddressMax) {
      return 'too many logins under way from this address';
    }
    return null;
  }

  /** A socket opened: it must log in within loginTimeoutMs. */
  opened(ws: WebSocket<S>): void {
    const address = remoteAddress(ws);
    this.pending.set(ws, { atMs: performance.now(), address });
    this.pendingByAddress.add(address);
    this.sweeper ??= setInterval(() => this.sweep(), loginSweepMs).unref();
  }

  /** Forgets a socket that logged in or closed (or timed out) among those pending. */
  private settle(ws: WebSocket<S>): void {
    const entry = this.pending.get(ws);
    if (entry === undefined) return;
    this.pending.delete(ws);
    this.pendingByAddress.remove(entry.address);
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

  /**
   * Each loginSweepMs: a shed login's wait follows the interval's sheds and admissions, and
   * the sockets that have not logged in within loginTimeoutMs are closed (4001).
   */
  private sweep(): void {
    this.retryAfterMs = retryAfterFollow(this.retryAfterMs, this.shed, this.admitted);
    this.shed = 0;
    this.admitted = 0;
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
 * The next wait a shed login is told, from `ms` and the upgrades shed and taken in the last
 * sweep's interval: up by √(shed / taken) (at most ×4 an interval) while more are shed than
 * taken, else halved; within [loginRetryAfterMs, loginRetryAfterMaxMs]. N clients told to wait
 * T come back at N / T a second: shedding about as many as it takes, the node is asked again
 * about as fast as it logs clients in, and a storm's connects do not swamp the clients' hosts.
 */
export function retryAfterFollow(ms: number, shed: number, taken: number): number {
  assert(shed >= 0 && taken >= 0, 'admission: counts are not negative');
  const next = shed > taken ? ms * Math.min(4, Math.sqrt(shed / Math.max(1, taken))) : ms / 2;
  return Math.min(loginRetryAfterMaxMs, Math.max(loginRetryAfterMs, next));
}

/**
 * The remote address of a socket or of an upgrade's response, as text (IPv4 dotted, IPv6
 * hex); the same host gives the same text at upgrade and at open.
 */
export function remoteAddress(from: WebSocket<unknown> | HttpResponse): string {
  return Buffer.from(from.getRemoteAddressAsText()).toString('latin1');
}

/**
 * Answers a refused upgrade: JSON `{error, retryAfterMs?}`, and for a shed login (every 503)
 * `Retry-After` in whole seconds (HTTP's unit; the body's ms are the SDK's).
 */
export function answerRefusal(res: HttpResponse, refusal: UpgradeRefusal): void {
  const { status, error, retryAfterMs } = refusal;
  res.writeStatus(status);
  if (retryAfterMs !== undefined) {
    res.writeHeader('retry-after', String(Math.ceil(retryAfterMs / 1000)));
  }
  const body = retryAfterMs === undefined ? { error } : { error, retryAfterMs };
  res.writeHeader('content-type', 'application/json').end(JSON.stringify(body));
}
