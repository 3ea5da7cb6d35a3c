/**
 * The reports Welcome takes (gateway/cancel-reports.ts): a chain's rounds summed, told once;
 * a chain under way told as Canceling, its rest told at the next login; bounded, dropping the
 * oldest ended report, never one under way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelReports } from '../../../src/gateway/cancel-reports.js';
import { BoundedIds } from '../../../src/gateway/bounded-ids.js';
import { CancelReport } from '../../../src/protocol/welcome.js';
import { cancelOnDisconnectPendingMax, cancelReportsMax } from '../../../src/constants.js';

test('rounds summed and told once; one under way told in two', () => {
  const reports = new CancelReports();
  reports.begin(5);
  reports.round(5, 1024, 100);
  reports.round(5, 3, 140);
  reports.ended(5);
  assert.deepEqual(reports.take(5), { report: CancelReport.Canceled, orders: 1027, sequence: 140 });
  assert.equal(reports.take(5).report, CancelReport.None, 'told once');
  reports.begin(6);
  reports.round(6, 2, 200);
  assert.deepEqual(reports.take(6), { report: CancelReport.Canceling, orders: 2, sequence: 200 });
  reports.round(6, 1, 210);
  reports.ended(6);
  assert.deepEqual(reports.take(6), { report: CancelReport.Canceled, orders: 1, sequence: 210 });
  assert.equal(reports.size(), 0);
});

test('full: the oldest ended report goes, chains under way stay', () => {
  const reports = new CancelReports();
  for (let c = 1; c <= cancelOnDisconnectPendingMax; c++) reports.begin(c); // under way
  for (let c = 1; c <= cancelReportsMax - cancelOnDisconnectPendingMax; c++) {
    const client = cancelOnDisconnectPendingMax + c;
    reports.begin(client);
    reports.ended(client);
  }
  assert.equal(reports.size(), cancelReportsMax);
  reports.begin(10_000_000);
  assert.equal(reports.size(), cancelReportsMax);
  assert.equal(reports.dropped, 1);
  assert.equal(reports.take(1).report, CancelReport.Canceling, 'under way: kept');
  // The dropped one: its client cannot be told "none" (it was, before): its orders may be gone.
  const dropped = cancelOnDisconnectPendingMax + 1;
  assert.equal(reports.take(dropped).report, CancelReport.Unknown, 'dropped: unknown');
  assert.equal(reports.take(dropped).report, CancelReport.None, 'told once: watched since');
  assert.equal(reports.take(cancelOnDisconnectPendingMax + 2).report, CancelReport.Canceled);
});

test('after taking over a past: unknown until the client id logs in here', () => {
  const reports = new CancelReports();
  reports.tookOver(true); // a restart, or a standby promoted: the cancels before are not seen
  assert.equal(reports.take(7).report, CancelReport.Unknown, 'a client id with commands');
  assert.equal(reports.take(7).report, CancelReport.None, 'logged in here since: seen');
  assert.equal(reports.take(8, false).report, CancelReport.None, 'no commands: no orders');
  reports.begin(9);
  reports.round(9, 2, 50);
  reports.ended(9);
  assert.deepEqual(reports.take(9), { report: CancelReport.Canceled, orders: 2, sequence: 50 });
  reports.tookOver(true); // another takeover: what was seen before is not known again
  assert.equal(reports.take(7).report, CancelReport.Unknown);
  const fresh = new CancelReports();
  fresh.tookOver(false); // an empty journal: no past to miss
  assert.equal(fresh.take(7).report, CancelReport.None);
});

test('dropped reports past what is kept of them: unknown for every client not seen since', () => {
  const max = 8; // cancelReportsMax, small
  const reports = new CancelReports(max);
  reports.take(1); // logged in: watched
  // Thrice max ended reports: the first dropped are past the names of dropped ones kept.
  for (let c = 0; c < 3 * max; c++) {
    reports.begin(1_000 + c);
    reports.ended(1_000 + c);
  }
  assert.equal(reports.dropped, 2 * max);
  assert.equal(reports.take(1_000).report, CancelReport.Unknown, 'its name forgotten too');
  assert.equal(reports.take(1_000 + 2 * max - 1).report, CancelReport.Unknown, 'dropped');
  assert.equal(reports.take(1_000 + 3 * max - 1).report, CancelReport.Canceled, 'kept');
  assert.equal(reports.take(1).report, CancelReport.None, 'watched, never dropped');
  assert.equal(reports.take(2).report, CancelReport.Unknown, 'not seen: maybe dropped');
  assert.equal(reports.take(3, false).report, CancelReport.None, 'no commands: no orders');
});

test('the ids watched are bounded: the oldest goes first, and reads as not seen', () => {
  const ids = new BoundedIds(3);
  for (const id of [5, 6, 7]) assert.equal(ids.add(id), 0);
  assert.equal(ids.add(6), 0, 'held already: nothing moves');
  assert.equal(ids.add(8), 5, 'full: the first added leaves');
  assert.equal(ids.has(5), false);
  ids.delete(6);
  assert.equal(ids.add(9), 0, "6's place: it had left already");
  assert.deepEqual(
    [6, 7, 8, 9].map((id) => ids.has(id)),
    [false, true, true, true],
  );
});
