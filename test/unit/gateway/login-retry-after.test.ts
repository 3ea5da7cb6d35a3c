/**
 * What a 503 that sheds a login tells the client to wait (gateway/admission.ts): it follows how
 * many more the node sheds than it takes, within bounds. A fixed pause (the SDK's 1 s cap) had
 * a storm of 5,000 clients ask again each second, ~98 % of them shed, their own connects
 * keeping their event loops seconds late. Fails on the old code: no such wait was told.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryAfterFollow } from '../../../src/gateway/admission.js';
import { loginRetryAfterMaxMs, loginRetryAfterMs } from '../../../src/constants.js';

test('shedding many more than it takes, the wait grows: at most ×4 an interval, to a cap', () => {
  assert.equal(retryAfterFollow(loginRetryAfterMs, 400, 100), 2 * loginRetryAfterMs, '√4');
  assert.equal(retryAfterFollow(loginRetryAfterMs, 5_000, 0), 4 * loginRetryAfterMs, 'none taken');
  let ms = loginRetryAfterMs;
  for (let i = 0; i < 5; i++) ms = retryAfterFollow(ms, 5_000, 64);
  assert.equal(ms, loginRetryAfterMaxMs, 'capped');
});

test('shedding no more than it takes, the wait halves, down to loginRetryAfterMs', () => {
  assert.equal(retryAfterFollow(8_000, 100, 100), 4_000);
  assert.equal(retryAfterFollow(8_000, 0, 0), 4_000, 'a quiet interval');
  let ms = loginRetryAfterMaxMs;
  for (let i = 0; i < 10; i++) ms = retryAfterFollow(ms, 1, 50);
  assert.equal(ms, loginRetryAfterMs, 'never below the floor');
});
