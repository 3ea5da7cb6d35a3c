/**
 * Commands sent and not yet answered, and what a caller is told when they are cut off: whether
 * each was sent (so it may have been applied: see the journal) or never left (not applied).
 */
import type { EventRecord } from '../protocol/event-reader.js';
import { ClientError } from './session.js';
import type { SeqWindow } from './seq-window.js';

export interface Pending {
  /** Its client seq (told with its error when it is cut off). */
  seq: number;
  resolve: (events: EventRecord[]) => void;
  reject: (error: Error) => void;
  events: EventRecord[];
  /** Request id of the frame that carries it (set when the frame is sent). */
  frame: number;
}

/** `sent`: it went out on an open socket (staged while reconnecting, it waits for the next). */
export type UnansweredFrame = {
  bytes: Buffer;
  first: number;
  last: number;
  left: number;
  sent: boolean;
};

/**
 * The errors for a connection that ends: later calls, commands sent, commands never sent, and
 * the subscriptions' end when the client closes for good not by its own close() (else null).
 */
export interface CutOff {
  closed: ClientError;
  sent: ClientError;
  unsent: ClientError;
  ended: ClientError | null;
}

/** Why commands end unanswered when the connection closes (`ours`: the client closed it). */
export function closedErrors(code: number, reason: string, ours: boolean): CutOff {
  if (ours) {
    const closed = new ClientError(code, 'closed by the client: not sent, not applied');
    const why =
      'closed by the client before its answer: it may have been applied (see the journal)';
    return { closed, sent: new ClientError(code, why, true), unsent: closed, ended: null };
  }
  const what = `connection closed (${code})${reason === '' ? '' : `: ${reason}`}`;
  const unsent = new ClientError(code, `${what}: not sent, not applied`);
  const why = `${what}: sent, not answered: it may have been applied (see the journal)`;
  const ended = new ClientError(code, `${what}: the stream ended; subscribe on a new client`);
  return { closed: unsent, sent: new ClientError(code, why, true), unsent, ended };
}

/**
 * Why commands end unanswered when another connection used this client id while this one was
 * down: the server's seqs moved past ours, so a resend would be taken as a repeat of the other
 * connection's commands and answered with their outcomes.
 */
export function foreignErrors(clientId: number, nextSeq: number): CutOff {
  const what =
    `client id ${clientId} was used by another connection while this one was down ` +
    `(the server's next seq is ${nextSeq}); not sent again`;
  return {
    closed: new ClientError(4007, what),
    sent: new ClientError(
      4007,
      `${what}: it was sent before, so it may have been applied (see the journal)`,
      true,
    ),
    unsent: new ClientError(4007, `${what}: never sent, not applied`),
    ended: null, // the session goes on: its subscriptions were asked for again
  };
}

/**
 * Rejects every pending single command (`sent`'s error if its frame went out, else `unsent`'s),
 * each with its own client seq, and forgets them. Allocates an error per command: at a close.
 */
export function rejectPending(
  pending: SeqWindow<Pending>,
  frames: ReadonlyMap<number, UnansweredFrame>,
  errors: CutOff,
): void {
  for (const p of pending.values()) {
    const sent = p.frame !== 0 && frames.get(p.frame)?.sent === true;
    const error = sent ? errors.sent : errors.unsent;
    p.reject(new ClientError(error.code, error.message, error.mayHaveApplied, p.seq));
  }
  pending.clear();
}

/**
 * Counts an answer against its frame; a frame with every command answered is forgotten.
 * (It looked the frame up by scanning every unanswered one: with 10,000 frames in flight
 * the client spent its time there.)
 */
export function countAnswer(frames: Map<number, UnansweredFrame>, requestId: number): void {
  const frame = frames.get(requestId);
  if (frame === undefined) return;
  frame.left--;
  if (frame.left === 0) frames.delete(requestId);
}

/** The lowest client seq staged and never sent (`nextSeq` when every one went out). */
export function lowestUnsent(frames: Map<number, UnansweredFrame>, nextSeq: number): number {
  let lowest = nextSeq;
  for (const frame of frames.values())
    if (!frame.sent && frame.first < lowest) lowest = frame.first;
  return lowest;
}

/**
 * Why a command of a frame the server refused as a whole failed. The SDK sends the calls of
 * one tick in one frame, so an allowed call made in the same tick as a forbidden one failed
 * with "not allowed for this API key" and no word of the other: say so. Nothing of a refused
 * frame was applied.
 */
export function frameRefused(code: number, text: string, commands: number): ClientError {
  if (commands === 1) return new ClientError(code, `${text}: not applied`);
  const why =
    `${text}: its frame of ${commands} commands was refused as a whole, for any one of them ` +
    `(the SDK sends the calls of one tick together): not applied`;
  return new ClientError(code, why);
}
