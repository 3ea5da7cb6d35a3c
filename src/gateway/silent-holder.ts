/**
 * A client id has one session at a time: a Hello for one whose session is open is refused
 * (4007). But a connection can be cut without the node hearing of it (the client's network
 * gone, a proxy that froze): no FIN, and the session held its client id until the idle timeout
 * closed it, 120 s later, while the client, back by another way, was refused 4007 at every try.
 * So a Hello for a held client id asks the holder whether it is still there:
 *
 *   Hello (id held) ──► holder pinged now (not asked yet, or heard from since the last ask)
 *                       │ it answers (a pong, any frame): alive, it keeps the id; 4007
 *                       ▼ silent
 *   Hello again ──────► silent for sessionHolderSilenceMs since the ping: it is gone; the new
 *                       session takes the id, the holder is closed (a loss: cancel on disconnect)
 *
 * Heard is a count bumped per frame and pong, not a clock read: the clock is read only at a
 * login that finds its id held. sessionHolderSilenceMs is the SDK's silenceMs: a live client
 * answers a ping within its longest stalls. A live holder pinged by a second process of its
 * client id (a deployment's mistake) keeps its session, and the second is refused each time.
 */
import { sessionHolderSilenceMs } from '../constants.js';
import { CloseCode } from '../protocol/frames.js';
import type { GatewayLog } from './cancel-on-disconnect.js';
import type { WebSocket } from './uws.js';

export interface HolderFields {
  /** Frames and pongs heard from the connection. */
  heard: number;
  /** `heard` when a login of its client id last pinged it. */
  heardAtPing: number;
  /** When that was (performance.now(), ms); -1: never. */
  pingedAtMs: number;
}

export function newHolderFields(): HolderFields {
  return { heard: 0, heardAtPing: 0, pingedAtMs: -1 };
}

/**
 * Whether the session `holder` is gone: pinged by an earlier login of its client id at least
 * sessionHolderSilenceMs ago, and silent since. Otherwise it is pinged (unless a ping is out and
 * unanswered), and false: the login is refused, and its next try asks again.
 */
export function holderGone(holder: WebSocket<HolderFields>, nowMs: number): boolean {
  const h = holder.getUserData();
  if (h.pingedAtMs >= 0 && h.heard === h.heardAtPing) {
    return nowMs - h.pingedAtMs >= sessionHolderSilenceMs;
  }
  h.heardAtPing = h.heard;
  h.pingedAtMs = nowMs;
  holder.ping();
  return false;
}

/**
 * Whether `clientId` may open a session now: none holds it, or its holder is gone (then closed,
 * with 4007 and why, and taken out of `sessions`; its close handler does the rest, a loss).
 */
export function idFree<S extends HolderFields>(
  sessions: Map<number, WebSocket<S>>,
  clientId: number,
  log: GatewayLog | undefined,
): boolean {
  const holder = sessions.get(clientId);
  if (holder === undefined) return true;
  if (!holderGone(holder, performance.now())) return false;
  log?.(`client ${clientId}: a new login replaces its session, silent since it was pinged`);
  holder.end(CloseCode.ClientIdInUse, 'a new login of this client id: this session was silent');
  if (sessions.get(clientId) === holder) sessions.delete(clientId);
  return true;
}
