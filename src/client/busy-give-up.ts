/**
 * Ending frames the server refused as a whole: with its Error frame's reason (onError), or after
 * the SDK gave up sending a Busy one again (busyTimeoutMs, busy-resend.ts).
 *
 * Why giving up is safe: the gateway refuses a Busy frame before any of it reaches the input
 * ring, and then refuses every later frame of the session until that one comes again
 * (gateway.ts onCommands). At the give-up the oldest frame refused has been refused and is not
 * on its way again, so neither it nor any frame sent after it was sequenced. The SDK takes
 * their client seqs back: the next calls carry them, and the gateway, seeing the client go
 * back to its oldest refused seq, forgets the frames refused before (gateway-session.ts). The
 * engine never decided those seqs, so a command made again under one is applied once.
 *
 *   frames:   E (answered)   F (refused 10 s)   G (sent after F: refused)
 *   give up:  F and G fail BusyTimeout, not applied; the next call takes F's first client seq
 */
import { ClientErrorCode } from './error-codes.js';
import { ClientError } from './session.js';
import type { Batches } from './batches.js';
import type { SeqWindow } from './seq-window.js';
import type { StatusCalls } from './status-calls.js';
import type { Pending, UnansweredFrame } from './unanswered.js';

/** The error of the calls given up on: seqs `first` to `last`, refused for `waitedMs`. */
export function busyTimedOut(waitedMs: number, first: number, last: number): ClientError {
  const seqs = first === last ? `client seq ${first}` : `client seqs ${first}-${last}`;
  const why =
    `the node stayed busy (refused as Busy) for ${waitedMs} ms, past busyTimeoutMs: ` +
    `not applied (${seqs}, given to the next calls); make the call again`;
  return new ClientError(ClientErrorCode.BusyTimeout, why);
}

/** Takes out of `frames` each frame whose commands start at client seq `from` or later. */
export function takeFramesFrom(
  frames: Map<number, UnansweredFrame>,
  from: number,
): UnansweredFrame[] {
  const taken: UnansweredFrame[] = [];
  for (const [id, frame] of frames) {
    if (frame.first < from) continue;
    frames.delete(id);
    taken.push(frame);
  }
  return taken;
}

/** Fails every call of `frame`, refused as a whole: its single commands and batches. */
export function failFrame(
  frame: UnansweredFrame,
  error: ClientError,
  pending: SeqWindow<Pending>,
  batches: Batches,
  statusCalls: StatusCalls,
): void {
  batches.failRange(frame.first, frame.last, error);
  statusCalls.failRange(frame.first, frame.last, error);
  for (let seq = frame.first; seq <= frame.last; seq++) {
    const p = pending.get(seq);
    if (p === undefined) continue;
    pending.delete(seq);
    p.reject(error);
  }
}
