/**
 * The open loop's slowest commands (each client's ≥ p99, tail-log.ts), stage by stage across
 * both processes: the client's own times joined by sequence with the node's (stage-trace.ts),
 * and each stage's percentiles over those commands, so that a tail is told by where its
 * commands spent their time, not by the stages' own p99s (which need not be the same commands):
 *
 *   intended ─lag─► called ─to_stamp─► stamped ─behind_commit─► ─to_commit─► commit start
 *     ─commit─► durable ─wake─► sent by the gateway ─back─► answer handed to the load loop
 *
 *   lag            the load loop's tick and its event loop (busy reading answers, collecting)
 *   to_stamp       the SDK's send, the socket, the gateway, the input ring, the processor
 *   behind_commit  waiting while the commit before its batch's was still on its way to disk
 *   to_commit      the rest of the journal wait: the engine, the output ring, the writer's wake
 *   commit         its batch's LMDB commit (two flushes)
 *   wake           durable → sent: the publisher's wake-up, the gateway's send
 *   back           sent → answered: the socket, the client's event loop, the SDK's decode
 *
 * It also counts the share of them whose node part (stamp → sent) overlapped a collection of
 * the node's main thread (the gateway and publisher), given those pauses in wall-clock µs.
 */
import type { NodeStages } from './stage-trace.js';
import type { TailFigures } from './tail-log.js';

export const tailStageNames = [
  'lag',
  'to_stamp',
  'behind_commit',
  'to_commit',
  'commit',
  'wake',
  'back',
  'whole',
] as const;
export type TailStageName = (typeof tailStageNames)[number];

/** One stage over the tail's commands (µs). */
export interface TailStage {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

export interface TailBreakdown {
  /** Tail commands found in the node's trace (the rest are left out of every figure). */
  found: number;
  stages: Record<TailStageName, TailStage>;
  /** Of those found, the share that overlapped a collection of their client / the node's main. */
  clientGcShare: number;
  mainGcShare: number;
}

/** The tail's stages, from the clients' tails and the node's trace (`stagesOf`). */
export function tailBreakdown(
  tails: readonly TailFigures[],
  stagesOf: (sequence: number) => NodeStages | null,
  mainPausesUs: readonly (readonly [number, number])[] = [],
): TailBreakdown {
  const values = Object.fromEntries(tailStageNames.map((n) => [n, [] as number[]])) as Record<
    TailStageName,
    number[]
  >;
  let clientGc = 0;
  let mainGc = 0;
  for (const tail of tails) {
    tail.sequences.forEach((sequence, i) => {
      const node = stagesOf(sequence);
      if (node === null) return;
      const lag = tail.each.lagUs[i];
      const toStamp = tail.each.toStampUs[i];
      const fromStamp = tail.each.fromStampUs[i];
      const inNode = node.journalWait + node.commit + node.wake;
      values.lag.push(lag);
      values.to_stamp.push(toStamp);
      values.behind_commit.push(node.behindCommit);
      values.to_commit.push(node.journalWait - node.behindCommit);
      values.commit.push(node.commit);
      values.wake.push(node.wake);
      values.back.push(fromStamp - inNode);
      values.whole.push(lag + toStamp + fromStamp);
      clientGc += tail.each.duringGc[i];
      const stampUs = node.sentUs - inNode;
      if (mainPausesUs.some(([a, b]) => a < node.sentUs && b > stampUs)) mainGc++;
    });
  }
  const found = values.whole.length;
  const stages = {} as Record<TailStageName, TailStage>;
  for (const name of tailStageNames) stages[name] = percentiles(values[name]);
  const share = (n: number): number => (found === 0 ? 0 : Number((n / found).toFixed(3)));
  return { found, stages, clientGcShare: share(clientGc), mainGcShare: share(mainGc) };
}

/** p50, p90, p99 and mean of `us` (sorted here); all 0 when empty. */
export function percentiles(us: number[]): TailStage {
  if (us.length === 0) return { p50: 0, p90: 0, p99: 0, mean: 0 };
  us.sort((a, b) => a - b);
  const at = (p: number): number => Math.round(us[Math.floor(((us.length - 1) * p) / 100)]);
  const mean = Math.round(us.reduce((sum, x) => sum + x, 0) / us.length);
  return { p50: at(50), p90: at(90), p99: at(99), mean };
}

/** JSON keys `open_tail_stage_<name>_<p50|p90|p99|mean>_us` of `stages`, and `_found`. */
export function tailStageKeys(
  found: number,
  stages: Readonly<Record<string, TailStage>>,
): Record<string, number> {
  const out: Record<string, number> = { open_tail_stage_found: found };
  for (const [name, s] of Object.entries(stages)) {
    out[`open_tail_stage_${name}_p50_us`] = s.p50;
    out[`open_tail_stage_${name}_p90_us`] = s.p90;
    out[`open_tail_stage_${name}_p99_us`] = s.p99;
    out[`open_tail_stage_${name}_mean_us`] = s.mean;
  }
  return out;
}

/** JSON keys `open_tail_stage_<name>_<p50|p90|p99|mean>_us`, and the shares. */
export function tailBreakdownFigures(t: TailBreakdown): Record<string, number> {
  const out = tailStageKeys(t.found, t.stages);
  out.open_tail_main_gc_share = t.mainGcShare;
  out.open_tail_found_client_gc_share = t.clientGcShare;
  return out;
}

/** The table's rows: one per stage, p50 / p90 / p99 / mean over the tail's commands. */
export function tailBreakdownRows(t: TailBreakdown) {
  const rows = tailStageNames.map((name) => ({
    measure: `  its tail (≥ p99, ${t.found} found) by stage: ${name}: p50 / p90 / p99 / mean`,
    value: [t.stages[name].p50, t.stages[name].p90, t.stages[name].p99, t.stages[name].mean]
      .map((us) => us.toLocaleString('en-US'))
      .join(' / '),
    unit: 'µs',
  }));
  const gc = `${t.clientGcShare} / ${t.mainGcShare}`;
  const share = "  its tail: share during a collection of its client / the node's main thread";
  return [...rows, { measure: share, value: gc, unit: '' }];
}
