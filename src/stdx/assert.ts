/**
 * Programmer-error checks (STYLE rule 4). A failed assert means an invariant is broken: the
 * process must stop rather than run on with corrupt state, so callers never catch it.
 * Messages are constant strings so that a passing assert builds nothing.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
  readonly code = 'BOURSE_ASSERTION';
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) fail(message);
}

/** Kept out of line so that `assert` stays small enough to inline everywhere. */
function fail(message: string): never {
  throw new AssertionError(message);
}
