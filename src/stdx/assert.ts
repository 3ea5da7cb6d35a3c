/**
 * Programmer-error checks (STYLE rule 4). A failed assert means an invariant is broken: the
 * process must stop rather than run on with corrupt state, so callers never catch it.
 * Messages are constant strings so that a passing assert builds nothing.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
  readonly code: string = 'BOURSE_ASSERTION';
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) fail(message);
}

/**
 * A table, pool or id range out of room where the engine had made sure of room before it
 * decided: the events come from a node with larger capacities (a cluster member started with
 * smaller ones than its primary's). An invariant broken here all the same, but one an operator
 * mends: the node names it so (`code`, pipeline/node.ts), and stops.
 */
export function assertRoom(condition: boolean, message: string): asserts condition {
  if (!condition) failRoom(message);
}

export class CapacityError extends AssertionError {
  override readonly code: string = 'BOURSE_CAPACITY';
}

function failRoom(message: string): never {
  throw new CapacityError(message);
}

/** Kept out of line so that `assert` stays small enough to inline everywhere. */
function fail(message: string): never {
  throw new AssertionError(message);
}
