/**
 * Calls of the caller's own functions from the SDK's socket events:
 *
 *   socket message ──► onEvents (journal, trades, account streams), onBook, onError (refusal)
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

/** Which of the caller's functions it was: the warning's code and text name it. */
export type HandlerName = 'onState' | 'onReconnect' | 'onEvents' | 'onBook' | 'onError';

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
