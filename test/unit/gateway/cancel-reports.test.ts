/**
 * The reports Welcome takes (gateway/cancel-reports.ts): a chain's rounds summed, told once;
 * a chain under way told as Canceling, its rest told at the next login; bounded, dropping the
 * oldest ended report, never one under way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelReports } from '../../../src/gateway/cancel-reports.js';
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
  assert.equal(reports.take(cancelOnDisconnectPendingMax + 1).report, CancelReport.None);
});
