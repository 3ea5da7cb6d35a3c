/**
 * After a drop, the session again: on the same member or another, in rounds. A cluster elects a
 * new primary within a few hundred ms, and one handed over (a clean stop) serves 40-90 ms after
 * the old one closed its sessions: look for it at once and soon, then 10× a second (rounds at
 * 25, 75, 175 ms kept a client waiting ~100 ms past a handed-over primary's start). Rounds go
 * on for reconnectWaitMs: 20 rounds (1.7 s on a cluster) gave up for good on a cluster that had
 * lost its quorum for 5 s, or restarted, and its client failed every later call. Pauses are
 * jittered (backoff.ts), and a node shedding logins (503, retryAfterMs) says how long to wait.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sdkReconnectShedWaitsMax, sdkReconnectWaitMs } from '../constants.js';
import { reconnectPauseMs } from './backoff.js';
import { memberUrls, openSession, type ConnectOptions } from './session.js';

type Session = Awaited<ReturnType<typeof openSession>>;

/**
 * The first member that takes the session, `first` first and `silent` (a member that went
 * silent) last; null once every round failed, or once `closed` is aborted (the client was
 * closed meanwhile: a pause between tries ends at once, and a session opened then is closed
 * at once, never used). `tried.last` is why the last attempt failed: a client that gave up
 * said only "gave up reconnecting ()" after a 1006, nothing of what 30 s of tries had met
 * (nothing listening, a 503, 4007).
 */
export async function reopenSession(
  first: string,
  silent: string,
  options: ConnectOptions,
  closed: AbortSignal,
  tried: { last: string } = { last: '' },
): Promise<{ session: Session; url: string } | null> {
  const urls = memberUrls(first, options);
  if (urls.length > 1 && urls[0] === silent) urls.push(urls.shift() as string);
  const attempts = (options.reconnectAttempts ?? Infinity) * urls.length;
  const waitMs = options.reconnectWaitMs ?? sdkReconnectWaitMs;
  const started = performance.now();
  let until = started + waitMs;
  let retryAfterMs = 0; // what the last refusal asked, if it shed the login
  for (let attempt = 0; attempt < attempts && performance.now() < until; attempt++) {
    const pauseMs = reconnectPauseMs(attempt, urls.length, retryAfterMs);
    if (pauseMs > 0) await pause(pauseMs, closed);
    if (closed.aborted) return null;
    try {
      const url = urls[attempt % urls.length];
      const session = await openSession(url, options, closed);
      if (!closed.aborted) return { session, url };
      session.socket.close(1000, 'bye');
      return null;
    } catch (error) {
      // The node may still be starting or failing over: try again. The primary a standby
      // names is not added: only the addresses given are tried (openFirstSession's notGiven).
      tried.last = (error as Error).message;
      // A server shedding logins is up and asks to come back: no reason to give up yet (10,000
      // clients after a restart were not all in within 30 s, and those left failed for good).
      retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs ?? 0;
      if (retryAfterMs > 0) {
        const last = started + sdkReconnectShedWaitsMax * waitMs;
        until = Math.min(last, Math.max(until, performance.now() + waitMs));
      }
    }
  }
  return null;
}

/**
 * Waits `ms`, or until `closed` aborts. A shedding server may ask a minute (retryAfterMs), 90 s
 * jittered: a plain timer, left running by close(), held the client's process that long.
 */
async function pause(ms: number, closed: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal: closed }).catch(() => undefined);
}
