/**
 * The SDK's pauses between tries to open a session, jittered: clients dropped together (a node
 * restarted under 5,000 of them) came back in step, every one at 25, 50, 100 ... 1,000 ms, and
 * then each second on the same millisecond: a burst of thousands of connects that the node shed
 * but for 64, and that kept the clients' own event loops seconds late.
 *
 *   pause = max(the round's backoff, the server's retryAfterMs) × [0.5, 1.5)
 *
 * The mean is the pause unjittered, so a failover's first rounds come as soon on average.
 */
import {
  sdkReconnectClusterCapMs,
  sdkReconnectClusterFirstMs,
  sdkReconnectNodeCapMs,
  sdkReconnectNodeFirstMs,
} from '../constants.js';

/** `ms` spread over [ms / 2, 3 ms / 2) by `draw` (in [0, 1); Math.random() unless given). */
export function jittered(ms: number, draw: number = Math.random()): number {
  return ms * (0.5 + draw);
}

/**
 * The pause before reconnect try `attempt` (from 0) over `memberCount` addresses: none between
 * the members of one round (a dead one refuses at once, a standby answers 503); before a round,
 * a cluster's 5 ms doubling to 100 ms, a single node's 25 ms doubling to 1 s, or what the last
 * refusal asked (`retryAfterMs`, a server shedding logins) if longer; jittered.
 */
export function reconnectPauseMs(
  attempt: number,
  memberCount: number,
  retryAfterMs = 0,
  draw: number = Math.random(),
): number {
  if (attempt % memberCount !== 0) return 0;
  const round = Math.floor(attempt / memberCount);
  const firstMs = memberCount > 1 ? sdkReconnectClusterFirstMs : sdkReconnectNodeFirstMs;
  const capMs = memberCount > 1 ? sdkReconnectClusterCapMs : sdkReconnectNodeCapMs;
  return jittered(Math.max(Math.min(firstMs * 2 ** round, capMs), retryAfterMs), draw);
}
