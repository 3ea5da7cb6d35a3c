/**
 * A session's frames refused as Busy (gateway.ts onCommands), which must come again in the
 * order they were first sent, so that a client's commands reach the engine in its order:
 *
 *   F refused ──► refused [F]; G refused too (not its turn) ──► [F, G]
 *   F again, room ──► taken, [G]; G again ──► taken, []
 *   H from F's first client seq or below (the client gave F and G up) ──► taken, []
 */
import type { Session } from './gateway-session.js';
import { frameFirstSeq } from './client-seqs.js';

/**
 * Whether the Commands frame `requestId`, its commands at `start` of `view`, may go into the
 * ring as far as the session's refused frames go: none refused, or it is the oldest refused one
 * come again. A frame that starts at or below the oldest refused frame's first client seq,
 * under another request id, is a client that gave its refused frames up (the SDK's
 * busyTimeoutMs) and sends their seqs again: nothing of those frames reached the ring, and none
 * will come again in order, so they are forgotten and it takes its turn. (Until then such a
 * session was refused for ever: every later frame waited for one never sent again.)
 */
export function refusedTurn(
  session: Session,
  requestId: number,
  view: DataView,
  start: number,
): boolean {
  const refused = session.refused;
  if (refused.length === 0 || refused[0] === requestId) return true;
  const seq = frameFirstSeq(view, start); // 0: not a valid seq, which goes back to none
  if (seq === 0 || seq > session.refusedSeqs[0]) return false;
  refused.length = 0;
  session.refusedSeqs.length = 0;
  return true;
}

/** The Commands frame `requestId`, its commands at `start` of `view`, was refused as Busy. */
export function noteRefused(
  session: Session,
  requestId: number,
  view: DataView,
  start: number,
): void {
  if (session.refused.includes(requestId)) return;
  session.refused.push(requestId);
  session.refusedSeqs.push(frameFirstSeq(view, start));
}

/** The oldest refused frame came again and went into the ring. */
export function refusedTaken(session: Session): void {
  session.refused.shift();
  session.refusedSeqs.shift();
}
