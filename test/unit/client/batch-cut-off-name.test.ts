/**
 * A batch cut off part way rejects with a BatchCutOff (README), whose `name` was the
 * ClientError's: its stack, an uncaught rejection and String(error) all read "ClientError:
 * batch cut off ...", so a log did not say which of the two a handler had caught.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchCutOff, settledParts } from '../../../src/client/batch-parts.js';
import { ClientError } from '../../../src/client/session.js';

test('a BatchCutOff names itself, and a plain ClientError still does', () => {
  const lost = new ClientError(1006, 'connection closed (1006)', true);
  const outcomes: PromiseSettledResult<string>[] = [
    { status: 'fulfilled', value: 'first part' },
    { status: 'rejected', reason: lost },
  ];
  const cut = settledParts(outcomes, [2, 3], null);
  assert.ok(cut instanceof BatchCutOff);
  assert.equal(cut.name, 'BatchCutOff');
  assert.match(String(cut), /^BatchCutOff: batch cut off/);
  assert.match(cut.stack ?? '', /^BatchCutOff: batch cut off/);
  assert.equal(cut.code, 1006);
  assert.equal(lost.name, 'ClientError');
  assert.match(String(lost), /^ClientError: connection closed/);
});
