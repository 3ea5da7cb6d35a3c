/**
 * Each log entry's milestones, one row per entry (stage-times.ts keeps only histograms), so that
 * a bench can tell where its slowest commands' time went: bench:replicated joins the clients'
 * slowest commands by sequence with the primary's rows, and those with the standbys' rows by
 * log index (bench/lib/replicated-tail.ts). Kept when `BOURSE_STAGE_ROWS` names a folder (and
 * stage times are on); written there as `stage-rows-<pid>.json` when the process exits.
 *
 *   primary  sequenced  taken  sealed  proposed  durable here  ack 1 (from)  ack 2  commit  result
 *   standby  received  write  stored
 *
 * Times are wall-clock µs (0: not reached); rows are kept in a ring by log index (rowsMax).
 * For a bench's member processes, one member each: the file is named by the process.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const stageRowsVariable = 'BOURSE_STAGE_ROWS';

/** A row's fields, in order (the file's rows are arrays of these). */
export const stageRowFields = [
  'index',
  'first_sequence',
  'sequenced',
  'taken',
  'sealed',
  'proposed',
  'durable_here',
  'ack_1',
  'ack_1_from',
  'ack_2',
  'commit',
  'result',
  'received',
  'write',
  'stored',
] as const;
export type StageRowField = (typeof stageRowFields)[number];
export const Row = Object.fromEntries(stageRowFields.map((f, i) => [f, i])) as Record<
  StageRowField,
  number
>;
const width = stageRowFields.length;
const rowsMax = 1 << 15;
const mask = rowsMax - 1;

export class StageRows {
  private readonly rows = new Float64Array(rowsMax * width);
  /** The entry the last result was found in (results come in sequence order). */
  private resultAt = 0;

  /** From the environment: null unless asked for; when asked, written at the process's exit. */
  static fromEnvironment(): StageRows | null {
    const dir = process.env[stageRowsVariable];
    if (dir === undefined || dir === '') return null;
    const rows = new StageRows();
    process.once('exit', () => rows.write(join(dir, `stage-rows-${process.pid}.json`)));
    return rows;
  }

  /** Starts the row of entry `index` (its earlier row in the ring is overwritten). */
  open(index: number): void {
    const at = (index & mask) * width;
    if (this.rows[at + Row.index] === index) return;
    this.rows.fill(0, at, at + width);
    this.rows[at + Row.index] = index;
  }

  /** Sets `field` of entry `index` to `value` unless already set (or the row is gone). */
  set(index: number, field: number, value: number): void {
    const at = (index & mask) * width;
    if (this.rows[at + Row.index] !== index || this.rows[at + field] !== 0) return;
    this.rows[at + field] = value;
  }

  /** The field of entry `index` (0: not set, or the row gone). */
  get(index: number, field: number): number {
    const at = (index & mask) * width;
    return this.rows[at + Row.index] === index ? this.rows[at + field] : 0;
  }

  /** Results of sequences `first`..`last` went out at `nowUs`: each entry holding them is set. */
  result(first: number, last: number, nowUs: number): void {
    let i = this.resultAt;
    const starts = (x: number): number => this.get(x, Row.first_sequence);
    // Forward to the entry holding `first` (the one before the first entry that starts past it).
    if (starts(i) === 0 || starts(i) > first) i = this.findFirst(first);
    while (starts(i + 1) !== 0 && starts(i + 1) <= first) i++;
    if (starts(i) === 0) return;
    this.resultAt = i;
    for (; starts(i) !== 0 && starts(i) <= last; i++) this.set(i, Row.result, nowUs);
  }

  /** The tracked entry with the highest first sequence at or below `sequence` (0: none). */
  private findFirst(sequence: number): number {
    let best = 0;
    let bestFirst = 0;
    for (let k = 0; k < rowsMax; k++) {
      const first = this.rows[k * width + Row.first_sequence];
      if (first !== 0 && first <= sequence && first > bestFirst) {
        best = this.rows[k * width + Row.index];
        bestFirst = first;
      }
    }
    return best;
  }

  /** Every row held, as arrays of the fields (stageRowFields), by index. */
  held(): number[][] {
    const out: number[][] = [];
    for (let k = 0; k < rowsMax; k++) {
      const at = k * width;
      if (this.rows[at + Row.index] > 0) out.push(Array.from(this.rows.subarray(at, at + width)));
    }
    return out.sort((a, b) => a[Row.index] - b[Row.index]);
  }

  private write(path: string): void {
    writeFileSync(path, JSON.stringify({ fields: stageRowFields, rows: this.held() }));
  }
}
