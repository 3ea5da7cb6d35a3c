/**
 * When a receiver NAKs an incomplete message (udp-transport.ts), and how often a sender resends
 * one fragment. Before, every incomplete message was NAKed every 4 × udpNakDelayMs (8 ms) until
 * it completed or was dropped after udpReassemblyTimeoutMs without progress: a sender gone
 * silent, or a path that loses what is resent, drew ~62 NAKs per message, for each of up to
 * udpReassemblyMax messages (up to ~16,000 NAKs, and their resends, in half a second), when the
 * network was already in trouble. As Aeron does (NAK delay with randomised backoff, and a
 * retransmit linger), the repair now backs off:
 *
 *   fragment past a gap comes ─ udpNakDelayMs ─► NAK 1 ─ udpNakRetryMs ─► NAK 2 (as before)
 *   no progress ─ udpNakRetryMs × [1, 1.5) ─► NAK 3 ─ 2 × that ─► NAK 4 ─ 4 × ... ─► NAK k
 *   (each wait doubled up to udpNakRetryMsMax; any fragment that comes starts over at NAK 1's
 *   retry, since repair works; udpReassemblyTimeoutMs without progress drops the message)
 *
 * so that a message stalled for udpReassemblyTimeoutMs draws 7-8 NAKs, not ~62 (200 messages of a
 * silent sender: 10,600-11,100 NAKs before, 1,440 after;
 * bench/micro/replication/nak-repair.bench.ts). The jitter comes from the transport's seeded
 * generator (the fault plan's seed, its own stream): NAKs of many messages lost together spread
 * out, and no draw uses Math.random. Each peer gets at most udpNakPeerMax NAKs per udpNakRetryMs;
 * the rest wait for the next window (the oldest messages first, as the transport checks them in
 * the order they began). A sender resends a fragment at most once per udpResendLingerMs: a NAK
 * asking for it again meanwhile (its resend still on its way, or waiting in a receiver that was
 * stalled) is coalesced with the resend.
 */
import {
  clusterMembersMax,
  udpNakDelayMs,
  udpNakPeerMax,
  udpNakRetryMs,
  udpNakRetryMsMax,
  udpResendLingerMs,
} from '../constants.js';
import { assert } from '../stdx/assert.js';
import type { Rng } from '../stdx/rng.js';
import type { Partial } from './transport-queues.js';

/** The receiver's side: which incomplete messages are due a NAK, and each peer's budget. */
export class NakPacer {
  /** Per peer id: when its window began (ms), and the NAKs sent to it in that window. */
  private readonly windowAt = new Float64Array(clusterMembersMax + 1);
  private readonly sentInWindow = new Uint16Array(clusterMembersMax + 1);

  /** `jitter`: seeded (udp-transport.ts), drawn once per NAK sent. */
  constructor(private readonly jitter: Rng) {}

  /** Whether `p` may be NAKed at `now` (ms): a while after its last progress and last NAK. */
  due(p: Partial, now: number): boolean {
    return now - p.lastAt >= udpNakDelayMs && now >= p.retryAt;
  }

  /** Whether `peer` has a NAK left in its window at `now`; a new window begins when due. */
  allowed(peer: number, now: number): boolean {
    assert(peer >= 1 && peer <= clusterMembersMax, 'nak pacing: a member id');
    if (now - this.windowAt[peer] >= udpNakRetryMs) {
      this.windowAt[peer] = now;
      this.sentInWindow[peer] = 0;
    }
    return this.sentInWindow[peer] < udpNakPeerMax;
  }

  /**
   * `p` was NAKed at `now`: counted in its peer's window, and its next NAK backed off. True
   * when this NAK filled the window (the peer's next NAKs wait for the next one).
   */
  sent(p: Partial, now: number): boolean {
    assert(this.sentInWindow[p.from] < udpNakPeerMax, 'nak pacing: within the window');
    this.sentInWindow[p.from]++;
    p.naks++;
    p.nakAt = now;
    p.retryAt = now + retryWaitMs(p.naks, this.jitter.next());
    assert(p.retryAt > now, 'nak pacing: a retry waits');
    return this.sentInWindow[p.from] === udpNakPeerMax;
  }
}

/** A fragment of `p` came: repair works, so its next NAK waits only the first retry's time. */
export function progressed(p: Partial): void {
  p.naks = 0;
  if (p.nakAt > 0) p.retryAt = p.nakAt + udpNakRetryMs;
}

/**
 * The wait after the `naks`-th NAK without progress (ms): udpNakRetryMs after the first, as
 * before (a resend lost once is repaired as fast); then doubled per NAK, up to
 * udpNakRetryMsMax, times 1 plus up to a half (`draw` in [0, 1)).
 */
export function retryWaitMs(naks: number, draw: number): number {
  assert(naks >= 1, 'nak pacing: a NAK was sent');
  assert(draw >= 0 && draw < 1, 'nak pacing: a draw in [0, 1)');
  if (naks === 1) return udpNakRetryMs;
  const doublings = Math.min(naks - 2, 30); // 2^30 ms is past any cap
  const base = Math.min(udpNakRetryMsMax, udpNakRetryMs * 2 ** doublings);
  return base * (1 + draw / 2);
}

/**
 * The sender's side: whether fragment `index` of a retained message, resent at `resentAt`
 * (null: never), may be resent at `now`, or was resent within udpResendLingerMs.
 */
export function lingering(resentAt: Float64Array | null, index: number, now: number): boolean {
  if (resentAt === null) return false;
  const at = resentAt[index];
  return at > 0 && now - at < udpResendLingerMs;
}
