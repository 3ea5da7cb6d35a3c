/** Times as typed for replay --to-time and GET /events?from-time (src/protocol/time-us.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoTimeUs, readTimeUs } from '../../../src/protocol/time-us.js';

test('a day its month does not have is refused, not read as a day of the next month', () => {
  for (const text of ['2026-02-30', '2026-02-29T12:00:00Z', '2026-11-31', '2026-04-31T00:00Z']) {
    const read = readTimeUs(text);
    assert.equal(read.us, -1, `${text} was read as ${isoTimeUs(read.us)}`);
    assert.match(read.problem ?? '', new RegExp(`^'${text}' is not a time from 2000-01-01`));
  }
});

test('real days are read to the µs: the last of each month, 29 February of leap years', () => {
  const days = ['2026-01-31', '2026-02-28', '2028-02-29', '2000-02-29', '2026-04-30', '2026-12-31'];
  for (const day of days) {
    const read = readTimeUs(`${day}T23:59:59.999999Z`);
    assert.equal(read.problem, null, day);
    assert.equal(isoTimeUs(read.us), `${day}T23:59:59.999999Z`);
  }
  assert.equal(readTimeUs('2026-12-05T24:00:00Z').us, readTimeUs('2026-12-06').us); // ISO's 24:00
  assert.equal(readTimeUs('2026-12-05T05:20:20+01:00').us, readTimeUs('2026-12-05T04:20:20Z').us);
  assert.equal(readTimeUs('1796444420000000').us, 1796444420000000);
  assert.equal(readTimeUs('0').us, 0);
});
