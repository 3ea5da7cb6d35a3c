/**
 * Subscribed frames: where an account stream starts (docs/PROTOCOL.md, "Where an account
 * stream starts"). Every account frame carries the account stream's one request id, so a
 * client cannot tell by the frames themselves which Subscribe they answer; Subscribed, sent
 * in order with them, marks where the stream its request id names begins.
 *
 *   Subscribe, no From  ──► Subscribed(where the topics are) HelloFlag.AccountStarts
 *   Subscribe From f    ──► Subscribed(f - 1), the stored    HelloFlag.ResumeStarts (one that
 *                           events from f, then live ones    starts a resume: account-resumes.ts)
 */
import {
  FrameType,
  frameHeaderBytes,
  HelloFlag,
  StreamKind,
  writeHeader,
} from '../protocol/frames.js';
import type { WebSocket } from './uws.js';

/** Sends Subscribed: the stream of `account` asked for by `requestId` starts after `after`. */
export function sendSubscribed(
  ws: WebSocket<unknown>,
  requestId: number,
  account: number,
  after: number,
): void {
  const frame = new DataView(new ArrayBuffer(frameHeaderBytes + 24));
  writeHeader(frame, 0, FrameType.Subscribed, requestId, 0);
  frame.setUint8(frameHeaderBytes, StreamKind.Account);
  frame.setFloat64(frameHeaderBytes + 8, account, true);
  frame.setFloat64(frameHeaderBytes + 16, after, true);
  ws.send(frame.buffer, true);
}

/**
 * Tells a session that asked (HelloFlag.ResumeStarts) that its Subscribe flagged From `from`,
 * which starts a resume of `account`, starts after `from - 1`: sent before the stored events,
 * and after every frame of a stream of the account the session ended before it (Unsubscribe
 * is handled in order). A client drops the account's frames until this one: the ended
 * stream's, still on their way when it subscribed again, are not the new stream's.
 */
export function sayResumeStart(
  ws: WebSocket<{ helloFlags: number }>,
  requestId: number,
  account: number,
  from: number,
): void {
  if ((ws.getUserData().helloFlags & HelloFlag.ResumeStarts) === 0) return;
  sendSubscribed(ws, requestId, account, from - 1);
}
