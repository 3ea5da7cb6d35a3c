/**
 * Which report CancelReports drops when full (gateway/cancel-reports.ts), against a model: the
 * first report, in the order the reports were made, that is not under way. And the work of a
 * drop: not a walk past the chains under way, however many there are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CancelReports } from '../../../src/gateway/cancel-reports.js';
import { BoundedIds } from '../../../src/gateway/bounded-ids.js';
import { CancelReport, type WelcomeCancels } from '../../../src/protocol/welcome.js';

interface ModelReport {
  client: number;
  orders: number;
  sequence: number;
  underWay: boolean;
}

/** The reports in an array, made first first; the drop is a plain search from its start. */
class Model {
  readonly reports: ModelReport[] = [];
  dropped = 0;
  // The ids kept of watched and dropped clients are not what is tested here: the same class.
  private readonly watched: BoundedIds;
  private readonly droppedIds: BoundedIds;
  private pastUnseen = false;

  constructor(private readonly max: number) {
    this.watched = new BoundedIds(max);
    this.droppedIds = new BoundedIds(max);
  }

  find(client: number): ModelReport | undefined {
    return this.reports.find((r) => r.client === client);
  }

  /** begin would find no ended report to drop (the caller bounds chains under way below max). */
  beginRefused(client: number): boolean {
    const full = this.reports.length >= this.max;
    return this.find(client) === undefined && full && this.reports.every((r) => r.underWay);
  }

  begin(client: number): void {
    const report = this.find(client);
    if (report !== undefined) {
      report.underWay = true;
      return;
    }
    if (this.reports.length >= this.max) {
      const at = this.reports.findIndex((r) => !r.underWay);
      const [gone] = this.reports.splice(at, 1);
      this.dropped++;
      this.watched.delete(gone!.client);
      if (this.droppedIds.add(gone!.client) !== 0) this.pastUnseen = true;
    }
    this.reports.push({ client, orders: 0, sequence: 0, underWay: true });
  }

  round(client: number, orders: number, sequence: number): void {
    const report = this.find(client);
    if (report === undefined) return;
    report.orders += orders;
    report.sequence = sequence;
  }

  ended(client: number): void {
    const report = this.find(client);
    if (report !== undefined) report.underWay = false;
  }

  take(client: number, history: boolean): WelcomeCancels {
    const unseen = this.droppedIds.has(client) || (this.pastUnseen && !this.watched.has(client));
    this.droppedIds.delete(client);
    this.watched.add(client);
    const report = this.find(client);
    const none = unseen && history ? CancelReport.Unknown : CancelReport.None;
    if (report === undefined) return { report: none, orders: 0, sequence: 0 };
    const told = {
      report: report.underWay ? CancelReport.Canceling : CancelReport.Canceled,
      orders: report.orders,
      sequence: report.sequence,
    };
    if (report.underWay) {
      report.orders = 0;
      report.sequence = 0;
    } else {
      this.reports.splice(this.reports.indexOf(report), 1);
    }
    return told;
  }

  tookOver(past: boolean): void {
    this.watched.clear();
    this.pastUnseen ||= past;
  }
}

type Op =
  | { kind: 'begin'; client: number }
  | { kind: 'ended'; client: number }
  | { kind: 'round'; client: number; orders: number }
  | { kind: 'take'; client: number; history: boolean }
  | { kind: 'tookOver'; past: boolean };

const client = fc.integer({ min: 1, max: 9 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('begin' as const), client }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('ended' as const), client }), weight: 4 },
  {
    arbitrary: fc.record({
      kind: fc.constant('round' as const),
      client,
      orders: fc.integer({ min: 0, max: 5 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('take' as const), client, history: fc.boolean() }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('tookOver' as const), past: fc.boolean() }),
    weight: 1,
  },
);

function apply(reports: CancelReports, model: Model, o: Op, sequence: number): void {
  if (o.kind === 'begin') {
    if (model.beginRefused(o.client)) return; // both assert: cancelReportsMax > pending max
    reports.begin(o.client);
    model.begin(o.client);
  } else if (o.kind === 'ended') {
    reports.ended(o.client);
    model.ended(o.client);
  } else if (o.kind === 'round') {
    reports.round(o.client, o.orders, sequence);
    model.round(o.client, o.orders, sequence);
  } else if (o.kind === 'take') {
    assert.deepEqual({ ...reports.take(o.client, o.history) }, model.take(o.client, o.history));
  } else {
    reports.tookOver(o.past);
    model.tookOver(o.past);
  }
}

test('the report dropped is the first made of those not under way, as the model says', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
      const reports = new CancelReports(max);
      const model = new Model(max);
      for (let i = 0; i < ops.length; i++) {
        apply(reports, model, ops[i]!, i + 1);
        assert.equal(reports.size(), model.reports.length);
        assert.equal(reports.dropped, model.dropped);
      }
      // What is left, told in full: each client's report (or why there is none).
      for (let c = 1; c <= 9; c++) assert.deepEqual({ ...reports.take(c) }, model.take(c, true));
    }),
    { numRuns: 3_000 },
  );
});

/** Calls of a Map iterator's next() while `run` runs: the entries a walk of a Map reads. */
function mapSteps(run: () => void): number {
  const proto = Object.getPrototypeOf(new Map().entries()) as { next: () => unknown };
  const next = proto.next;
  let steps = 0;
  proto.next = function (this: unknown) {
    steps++;
    return next.call(this);
  };
  try {
    run();
  } finally {
    proto.next = next;
  }
  return steps;
}

test('a drop does not walk past the chains under way, nor past the reports dropped before', () => {
  const max = 4_096;
  const underWay = max / 2; // the front: chains that outlast the storm
  const reports = new CancelReports(max);
  for (let c = 1; c <= max; c++) {
    reports.begin(c);
    if (c > underWay) reports.ended(c);
  }
  // A storm: each chain begun ends before the next, each begin drops the oldest ended report.
  let stepsMax = 0;
  let workMax = 0;
  for (let c = max + 1; c <= 4 * max; c++) {
    stepsMax = Math.max(
      stepsMax,
      mapSteps(() => reports.begin(c)),
    );
    workMax = Math.max(workMax, reports.dropWork);
    reports.ended(c);
  }
  assert.equal(reports.dropped, 3 * max);
  assert.equal(stepsMax, 0, 'no walk of the reports');
  // The work of a drop: a path down a heap of at most max, log2(max) levels (+1 for the root).
  assert.ok(workMax <= Math.log2(max) + 1, `work ${workMax}`);
  assert.equal(reports.take(1).report, CancelReport.Canceling, 'under way: kept');
  assert.equal(reports.take(underWay + 1).report, CancelReport.Unknown, 'the first ended: gone');
});
