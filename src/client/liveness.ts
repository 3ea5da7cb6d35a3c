/**
 * Notices a connection that went silent. A primary that hangs (a stopped process, a long
 * stall) or sits across a network partition keeps its TCP connection open, and the SDK waited
 * on it for as long as that lasted: 8 s of SIGSTOP on a cluster's primary gave 8 s without a
 * result, though another member had taken over within a second; across a partition, TCP gives
 * up only after minutes. Every `sdkPingMs`, a connection heard from since the last look is
 * fine; one that was not is pinged, and one silent for `silenceMs` is dropped: the SDK then
 * reconnects, finds the primary, and sends again what was not answered.
 *
 * Anything heard counts, a frame or a pong: the owner bumps `heard` per frame (a counter, not
 * a clock read). A look that comes late (this process stalled, and what arrived meanwhile waits
 * behind the timer) blames no one. A connection awaiting nothing (no command unanswered, no
 * subscription) is not pinged: 10,000 idle sessions pinging 4 times a second would be 40,000
 * pings a second for the server; its next command is watched from the next look on.
 */
import WebSocket from 'ws';
import { sdkPingMs, sdkProbeAfterMs, sdkProbeTimeoutMs } from '../constants.js';
import { primaryAmong } from './primary-probe.js';

export interface LivenessOwner {
  /** Whether it awaits anything on the connection (answers, a subscription's frames). */
  awaiting(): boolean;
  /** The other members' addresses, asked who is primary once the connection is quiet. */
  others(): readonly string[];
  /** Drops `socket` (the owner reconnects); `why` says why. */
  drop(socket: WebSocket, why: string): void;
}

export class Liveness {
  /** Frames and pongs heard on the watched connection, as the owner counts them. */
  heard = 0;
  private seen = 0;
  private quietMs = 0;
  private lookedAt = 0;
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly periodMs: number;
  private probing = false;

  constructor(
    private readonly silenceMs: number,
    private readonly owner: LivenessOwner,
  ) {
    this.periodMs = Math.min(sdkPingMs, Math.max(1, Math.floor(silenceMs / 2)));
  }

  /** Watches `socket` (a new connection after a reconnect) from now. */
  watch(socket: WebSocket): void {
    this.socket = socket;
    this.quietMs = 0;
    this.seen = this.heard;
    socket.on('pong', () => this.heard++);
    if (this.timer !== null || this.silenceMs === 0) return;
    this.lookedAt = performance.now();
    this.timer = setInterval(() => this.look(), this.periodMs);
    this.timer.unref(); // a client does not keep its process alive by watching
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.socket = null;
  }

  private look(): void {
    const now = performance.now();
    const elapsed = now - this.lookedAt;
    this.lookedAt = now;
    const socket = this.socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) return;
    if (this.heard !== this.seen || elapsed > 2 * this.periodMs || !this.owner.awaiting()) {
      this.seen = this.heard;
      this.quietMs = 0;
      return;
    }
    this.quietMs += elapsed;
    if (this.quietMs >= this.silenceMs) {
      const quiet = Math.round(this.quietMs);
      this.quietMs = 0;
      return this.owner.drop(socket, `no answer for ${quiet} ms`);
    }
    socket.ping();
    if (this.quietMs >= sdkProbeAfterMs && !this.probing) this.probe(socket);
  }

  /** Leaves `socket`, still quiet, for another member that says it is a primary. */
  private probe(socket: WebSocket): void {
    this.probing = true;
    const seen = this.seen;
    void primaryAmong(this.owner.others(), sdkProbeTimeoutMs).then((url) => {
      this.probing = false;
      if (url === null || this.socket !== socket || this.heard !== seen) return;
      if (socket.readyState === WebSocket.OPEN) this.owner.drop(socket, `quiet; ${url} is primary`);
    });
  }
}
