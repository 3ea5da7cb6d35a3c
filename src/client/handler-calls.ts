/**
 * Calls of the caller's own functions from the SDK's socket events:
 *
 *   socket message ──► onEvents (journal, trades, account streams), onBook, onError (refusal),
 *                      onStatus (a status call's answer)
 *   socket open    ──► onState, onReconnect
 *   socket close   ──► onState, onError (the client gave up), onReconnect
 *
 * A throw there is out of the caller's reach: no call of theirs is on the stack. From the
 * message event it was an uncaught exception (a trades handler's bug ended a market maker's
 * process), from the reconnect's async close handler an unhandled rejection, and so was the
 * rejected promise of an async handler. Each is a process warning now, code
 * BOURSE_<NAME>_THREW (BOURSE_ONEVENTS_THREW, ...), and the SDK goes on: the frame's other
 * handlers still run, and the events handed over count as delivered (none comes again after a
 * reconnect, none is skipped for another subscription).
 */

import type { ClientError } from './session.js';

/** Which of the caller's functions it was: the warning's code and text name it. */
export type HandlerName =
  'onState' | 'onReconnect' | 'onEvents' | 'onBook' | 'onError' | 'onStatus';

/**
 * What a status call's caller is told (BourseClient.submitStatus): `error` null and the
 * command's `status` (0 is Ok; statusName() names the others) and head event's `sequence`, or
 * the `error` (a ClientError naming its client seq), `status` -1 and `sequence` 0. `tag` is
 * the number given with the call.
 */
export type OnStatus = (
  error: ClientError | null,
  status: number,
  tag: number,
  sequence: number,
) => unknown;

/**
 * Calls `handler(arg)`; a throw, or a rejection of the promise it returns, becomes a process
 * warning naming `on` (what it was called for: a state, a stream, a refusal's reason).
 */
export function callHandler<A>(
  name: HandlerName,
  handler: (arg: A) => unknown,
  arg: A,
  on: string,
): void {
  let result: unknown;
  try {
    result = handler(arg);
  } catch (thrown) {
    return warnThrown(name, thrown, on);
  }
  if (isPromiseLike(result)) result.then(undefined, (thrown) => warnThrown(name, thrown, on));
}

/** Calls a status call's handler (see OnStatus), as callHandler calls the others. */
export function callStatus(
  handler: OnStatus,
  error: ClientError | null,
  status: number,
  tag: number,
  sequence: number,
): void {
  let result: unknown;
  try {
    result = handler(error, status, tag, sequence);
  } catch (thrown) {
    return warnThrown('onStatus', thrown, `tag ${tag}`);
  }
  if (result !== undefined && isPromiseLike(result)) {
    result.then(undefined, (thrown) => warnThrown('onStatus', thrown, `tag ${tag}`));
  }
}

function warnThrown(name: HandlerName, thrown: unknown, on: string): void {
  const why = `bourse: ${name} threw: ${String(thrown)} (on ${on})`;
  process.emitWarning(why, { code: `BOURSE_${name.toUpperCase()}_THREW` });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
