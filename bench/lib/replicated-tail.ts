/**
 * bench:replicated's tail by stage: the open loop's slowest commands (each client's ≥ p99,
 * tail-log.ts) joined by sequence with the primary's entry rows, and those by log index with
 * the standbys' (src/pipeline/stage-rows.ts, written by each member at its exit), so that a
 * slow command is told by where its own time went:
 *
 *   intended ─lag─► called ─to_stamp─► stamped (its entry's stamp: sequenced) ─to_taken─►
 *     taken ─seal─► sealed ─hop─► proposed ─to_standby─► whole at the standby whose status
 *     committed it ─standby_wait─► its write starts ─standby_write─► durable there ─status─►
 *     its status read by the primary ─ack_to_commit─► committed ─to_result─► results handed
 *     to the gateway ─back─► answer handed to the load loop
 *
 *   hop            the sealed batch's message to the primary's main thread (its event loop)
 *   to_standby     the primary's send (pacing), UDP, the standby's receive and verify
 *   status         the standby's status out, UDP, the primary's main thread reading it
 *   ack_to_commit  waiting for the primary's own copy (its journal), if later than the ack
 *   back           results → the client's load loop (gateway, socket, SDK); measured from the
 *                  entry's stamp, which is at or before the command's own: it is a floor
 *
 * `own_durable` (proposed → durable on the primary) runs beside the standby's part; all times
 * are wall-clock µs on one machine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Row } from '../../src/pipeline/stage-rows.js';
import type { TailFigures } from './tail-log.js';
import { percentiles, tailStageKeys, type TailStage } from './tail-stages.js';

export const replicatedTailStages = [
  'lag',
  'to_stamp',
  'to_taken',
  'seal',
  'hop',
  'to_standby',
  'standby_wait',
  'standby_write',
  'status',
  'ack_to_commit',
  'to_result',
  'back',
  'own_durable',
  'whole',
] as const;
export type ReplicatedTailStage = (typeof replicatedTailStages)[number];

export interface ReplicatedTail {
  /** Tail commands whose entry was found in the rows (the rest are left out). */
  found: number;
  stages: Record<ReplicatedTailStage, TailStage>;
}

/** Each member's rows (by member id) from the files its process wrote in `dir` at its exit. */
export function readStageRows(dir: string, pidOf: Map<number, number>): Map<number, number[][]> {
  const out = new Map<number, number[][]>();
  const files = readdirSync(dir).filter((f) => f.startsWith('stage-rows-'));
  for (const [id, pid] of pidOf) {
    if (!files.includes(`stage-rows-${pid}.json`)) continue;
    const text = readFileSync(join(dir, `stage-rows-${pid}.json`), 'utf8');
    out.set(id, (JSON.parse(text) as { rows: number[][] }).rows);
  }
  return out;
}

/** The tail's stages, from the clients' tails, the primary's rows and the standbys' by id. */
export function replicatedTail(
  tails: readonly TailFigures[],
  primary: number[][],
  standbys: Map<number, number[][]>,
): ReplicatedTail {
  const entries = primary.filter((r) => r[Row.first_sequence] > 0 && r[Row.result] > 0);
  const byIndex = new Map<number, Map<number, number[]>>();
  for (const [id, rows] of standbys) byIndex.set(id, new Map(rows.map((r) => [r[Row.index], r])));
  const values = Object.fromEntries(replicatedTailStages.map((n) => [n, [] as number[]])) as Record<
    ReplicatedTailStage,
    number[]
  >;
  for (const tail of tails) {
    tail.sequences.forEach((sequence, i) => {
      const e = entryOf(entries, sequence);
      if (e === null) return;
      const s = byIndex.get(e[Row.ack_1_from])?.get(e[Row.index]);
      if (s === undefined || e[Row.ack_1] === 0 || e[Row.commit] === 0) return;
      values.lag.push(tail.each.lagUs[i]);
      values.to_stamp.push(tail.each.toStampUs[i]);
      // A stage between two milestones of the rows, where both were reached (else left out).
      const put = (name: ReplicatedTailStage, to: number, from: number): void => {
        if (to !== 0 && from !== 0) values[name].push(to - from);
      };
      put('to_taken', e[Row.taken], e[Row.sequenced]);
      put('seal', e[Row.sealed], e[Row.taken]);
      put('hop', e[Row.proposed], e[Row.sealed]);
      put('to_standby', s[Row.received], e[Row.proposed]);
      put('standby_wait', s[Row.write], s[Row.received]);
      put('standby_write', s[Row.stored], s[Row.write]);
      put('status', e[Row.ack_1], s[Row.stored]);
      put('ack_to_commit', e[Row.commit], e[Row.ack_1]);
      put('to_result', e[Row.result], e[Row.commit]);
      put('own_durable', e[Row.durable_here], e[Row.proposed]);
      values.back.push(tail.each.fromStampUs[i] - (e[Row.result] - e[Row.sequenced]));
      values.whole.push(tail.each.lagUs[i] + tail.each.toStampUs[i] + tail.each.fromStampUs[i]);
    });
  }
  const stages = {} as Record<ReplicatedTailStage, TailStage>;
  for (const name of replicatedTailStages) stages[name] = percentiles(values[name]);
  return { found: values.whole.length, stages };
}

/** The row of the entry holding `sequence` (rows sorted by index, so by first sequence). */
function entryOf(rows: readonly number[][], sequence: number): number[] | null {
  let lo = 0;
  let hi = rows.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid][Row.first_sequence] <= sequence) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return null;
  const next = rows[found + 1];
  const row = rows[found];
  // Past a gap (an entry not tracked) the command may be in the entry missing: not counted.
  if (next !== undefined && next[Row.index] !== row[Row.index] + 1) return null;
  return row;
}

/** JSON keys `open_tail_stage_<name>_<p50|p90|p99|mean>_us`, and how many were found. */
export function replicatedTailFigures(t: ReplicatedTail): Record<string, number> {
  return tailStageKeys(t.found, t.stages);
}

/** The table's rows: one per stage, p50 / p90 / p99 / mean over the tail's commands. */
export function replicatedTailRows(t: ReplicatedTail) {
  return replicatedTailStages.map((name) => ({
    measure: `${name}`,
    value: [t.stages[name].p50, t.stages[name].p90, t.stages[name].p99, t.stages[name].mean]
      .map((us) => us.toLocaleString('en-US'))
      .join(' / '),
    unit: 'µs',
  }));
}
