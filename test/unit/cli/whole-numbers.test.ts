/**
 * The CLI's whole-number flags (--count, --rate, --snapshot-events, --from-seq ...): digits past
 * what a number holds exactly are told as too large. They were told "is not a whole number ≥ 1"
 * (`--snapshot-events 9999999999999999`), which they are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCount, parsePositive, UsageError } from '../../../src/cli/output.js';

test('a whole number past 2^53 - 1 is too large, not "not a whole number"', () => {
  for (const parse of [parsePositive, parseCount]) {
    for (const text of ['9007199254740992', '9999999999999999', '99999999999999999999']) {
      assert.throws(
        () => parse('--rate', text),
        (error: unknown) =>
          error instanceof UsageError &&
          error.message === `--rate: '${text}' is too large (at most 9007199254740991)`,
      );
    }
    assert.equal(parse('--rate', '9007199254740991'), 9007199254740991);
    assert.equal(parse('--rate', '7'), 7);
    assert.throws(() => parse('--rate', '1e3'), /'1e3' is not a whole number ≥ [01]$/);
    assert.throws(() => parse('--rate', '-5'), /'-5' is not a whole number ≥ [01]$/);
  }
  assert.throws(() => parsePositive('--rate', '0'), /'0' is not a whole number ≥ 1$/);
  assert.equal(parseCount('--from-seq', '0'), 0);
});
