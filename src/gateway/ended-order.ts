/**
 * The ended cancel reports (gateway/cancel-reports.ts), oldest made first: a binary min-heap on
 * the order the reports were made (`made`), each knowing its place in the heap (`at`), so that
 * a report ending, beginning again or taken moves in or out wherever it is.
 *
 *            made 3                 pop(): the root, the oldest ended; the last leaf goes up
 *           /      \                  there and sifts down, one level a step
 *       made 7    made 5            push(r): a leaf, sifting up
 *       /    \                      remove(r): the last leaf takes r's place, sifting either way
 *   made 9  made 8
 *
 * Why not a list in the order the reports ended: a report that begins again keeps its place
 * among those made (it was a Map's insertion order), so it ends out of that order; and why not
 * a walk from the first report made: it passes every chain under way (up to
 * cancelOnDisconnectPendingMax) and, in V8's Map, every entry deleted since its last rehash,
 * on each drop (~87 µs at 131,072 reports, and growing with each drop).
 *
 * Bound: at most `max` held (one place a report, and at most `max` reports), so a heap of
 * `levelsMax` = floor(log2(max)) + 1 levels: any sift visits at most `levelsMax` places
 * (asserted). Allocated whole at construction (a reference per report); no call allocates.
 */
import { assert } from '../stdx/assert.js';

/** A report as this heap sees it: when it was made (unique), and its place here (-1: none). */
export interface EndedReport {
  readonly made: number;
  at: number;
}

export class EndedOrder<T extends EndedReport> {
  private readonly heap: (T | undefined)[];
  private count = 0;
  private readonly levelsMax: number;
  /** Places visited by the last sift (tests: a drop's work, at most `levelsMax`). */
  work = 0;

  constructor(private readonly max: number) {
    assert(Number.isSafeInteger(max), 'ended order: a whole bound');
    assert(max > 0, 'ended order: room for one at least');
    this.heap = new Array<T | undefined>(max).fill(undefined);
    let levels = 1;
    while (2 ** levels - 1 < max) levels++;
    this.levelsMax = levels;
  }

  size(): number {
    return this.count;
  }

  push(report: T): void {
    assert(report.at === -1, 'ended order: a report held once');
    assert(this.count < this.max, 'ended order: at most max held');
    report.at = this.count;
    this.heap[this.count++] = report;
    this.siftUp(report);
  }

  /** The oldest made of those held, now out. */
  pop(): T {
    assert(this.count > 0, 'ended order: one held');
    const oldest = this.heap[0]!;
    this.remove(oldest);
    return oldest;
  }

  remove(report: T): void {
    const at = report.at;
    assert(at >= 0 && at < this.count, 'ended order: a report held');
    assert(this.heap[at] === report, 'ended order: held where it says');
    report.at = -1;
    const last = this.heap[--this.count]!;
    this.heap[this.count] = undefined; // not kept alive by this heap
    this.work = 0;
    if (last === report) return;
    this.heap[at] = last;
    last.at = at;
    this.siftUp(last);
    if (last.at === at) this.siftDown(last);
  }

  private siftUp(report: T): void {
    let at = report.at;
    let work = 1;
    while (at > 0) {
      const up = (at - 1) >> 1;
      const parent = this.heap[up]!;
      if (parent.made <= report.made) break;
      this.place(parent, at);
      at = up;
      work++;
    }
    this.place(report, at);
    this.settled(work);
  }

  private siftDown(report: T): void {
    let at = report.at;
    let work = 1;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= this.count) break;
      const right = left + 1;
      let down = left;
      if (right < this.count && this.heap[right]!.made < this.heap[left]!.made) down = right;
      const child = this.heap[down]!;
      if (report.made <= child.made) break;
      this.place(child, at);
      at = down;
      work++;
    }
    this.place(report, at);
    this.settled(work);
  }

  private place(report: T, at: number): void {
    this.heap[at] = report;
    report.at = at;
  }

  private settled(work: number): void {
    assert(work <= this.levelsMax, 'ended order: a sift within the levels');
    this.work = Math.max(this.work, work);
  }
}
