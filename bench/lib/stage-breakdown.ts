/**
 * bench:replicated's breakdown of a replicated command's latency, stage by stage: each
 * member's `bourse_replication_stage_us` (src/pipeline/stage-times.ts; members started with
 * BOURSE_STAGE_TIMES=1) read at the start and end of a phase, and the difference summed up.
 */
import { stageBucketUpperUs } from '../../src/replication/stage-histogram.js';

/** One stage's counts: how many, their sum (µs), and per bucket. */
export interface StageCounts {
  count: number;
  sum: number;
  buckets: Map<number, number>;
}
export type MemberStages = Map<string, StageCounts>;

const line = /^bourse_replication_stage_us\{stage="([a-z_0-9]+)",stat="([a-z0-9]+)"\} (\S+)$/;
/** The transport's datagram counters, kept as the pseudo-stages datagrams_sent / _received. */
const counter = /^bourse_replication_datagrams_(sent|received)_total (\S+)$/;
/** Commands and batches of the processor and journal, kept as pseudo-stages of those names. */
const batchCounter = /^bourse_(commands|processor_batches|journal_batches)_total (\S+)$/;

/** A member's stage counts, from its /metrics (empty when it has none). */
export async function scrapeStages(host: string, port: number): Promise<MemberStages> {
  const out: MemberStages = new Map();
  const text = await (await fetch(`http://${host}:${port}/metrics`)).text();
  for (const l of text.split('\n')) {
    const c = counter.exec(l);
    if (c !== null)
      out.set(`datagrams_${c[1]}`, { count: Number(c[2]), sum: 0, buckets: new Map() });
    const b = batchCounter.exec(l);
    if (b !== null) out.set(b[1], { count: Number(b[2]), sum: 0, buckets: new Map() });
    const m = line.exec(l);
    if (m === null) continue;
    const [, stage, stat, value] = m;
    let s = out.get(stage);
    if (s === undefined) out.set(stage, (s = { count: 0, sum: 0, buckets: new Map() }));
    if (stat === 'count') s.count = Number(value);
    else if (stat === 'sum') s.sum = Number(value);
    else s.buckets.set(Number(stat.slice(1)), Number(value));
  }
  return out;
}

/** What `to` counted after `from`, summed over members (`to[i]` against `from[i]`). */
export function stagesBetween(from: MemberStages[], to: MemberStages[]): MemberStages {
  const out: MemberStages = new Map();
  to.forEach((member, i) => {
    for (const [stage, s] of member) {
      const before = from[i].get(stage);
      let d = out.get(stage);
      if (d === undefined) out.set(stage, (d = { count: 0, sum: 0, buckets: new Map() }));
      d.count += s.count - (before?.count ?? 0);
      d.sum += s.sum - (before?.sum ?? 0);
      for (const [b, n] of s.buckets) {
        const diff = n - (before?.buckets.get(b) ?? 0);
        d.buckets.set(b, (d.buckets.get(b) ?? 0) + diff);
      }
    }
  });
  return out;
}

/** Mean, p50 and p99 (µs; a percentile within its bucket's 19%), and the count. */
export function stageFigures(s: StageCounts | undefined): {
  n: number;
  mean: number;
  p50: number;
  p99: number;
} {
  if (s === undefined || s.count <= 0) return { n: 0, mean: 0, p50: 0, p99: 0 };
  const at = (p: number): number => {
    const want = s.count * p;
    let seen = 0;
    for (const b of [...s.buckets.keys()].sort((x, y) => x - y)) {
      seen += s.buckets.get(b) ?? 0;
      if (seen >= want) return Math.round(stageBucketUpperUs(b - 0.5));
    }
    return 0;
  };
  return { n: s.count, mean: Math.round(s.sum / s.count), p50: at(0.5), p99: at(0.99) };
}

/**
 * Replication datagrams per log entry in a phase: the primary's sent and received, and one
 * standby's sent (the mean of `standbys` of them). Entries: those the primary committed.
 */
export function datagramsPerEntry(
  primary: MemberStages,
  standbys: MemberStages,
  standbyCount: number,
): number[] {
  const entries = primary.get('proposed_to_commit')?.count ?? 0;
  const per = (s: MemberStages, key: string, members: number): number => {
    if (entries <= 0) return 0;
    return Math.round((100 * (s.get(key)?.count ?? 0)) / members / entries) / 100;
  };
  return [
    per(primary, 'datagrams_sent', 1),
    per(primary, 'datagrams_received', 1),
    per(standbys, 'datagrams_sent', standbyCount),
  ];
}

/**
 * Commands a batch on the primary in a phase: a processor batch (one wait for input returned
 * it: a wake-up, when the processor slept) and a journal batch (one commit, one sealed batch
 * posted to the main thread, one log entry).
 */
export function commandsPerBatch(primary: MemberStages): number[] {
  const commands = primary.get('commands')?.count ?? 0;
  const per = (key: string): number => {
    const batches = primary.get(key)?.count ?? 0;
    return batches <= 0 ? 0 : Math.round((10 * commands) / batches) / 10;
  };
  return [per('processor_batches'), per('journal_batches')];
}

/** The stages shown, in order: [stage, on whom, what it is]. */
export const shownStages: readonly [string, 'primary' | 'standbys', string][] = [
  ['sequenced_to_taken', 'primary', 'sequenced → journal writer takes it (after its last fsync)'],
  ['taken_to_sealed', 'primary', 'journal writer: encode, SHA-256 chain, copy'],
  ['sealed_to_proposed', 'primary', 'sealed → proposed on the main thread (message hop)'],
  ['sequenced_to_proposed', 'primary', 'sequenced → proposed (the three above)'],
  ['proposed_to_durable_here', 'primary', 'proposed → durable on the primary (write + fsync)'],
  ['udp_wait_bulk', 'primary', 'an entry datagram in the send queue (pacing)'],
  ['sequenced_to_received', 'standbys', 'sequenced → whole at a standby (UDP, verify)'],
  ['received_to_write', 'standbys', 'standby: received → its group commit starts'],
  ['write_to_durable', 'standbys', 'standby: write + fsync → durable (on its loop)'],
  ['udp_wait_control', 'standbys', 'standby: a status datagram in the send queue'],
  ['proposed_to_ack_1', 'primary', 'proposed → first standby status durable'],
  ['proposed_to_ack_2', 'primary', 'proposed → second standby status durable'],
  ['proposed_to_commit', 'primary', 'proposed → committed (majority durable)'],
  ['sequenced_to_result', 'primary', 'sequenced → results handed to the gateway'],
  ['loop_delay', 'primary', "primary's main thread: a 10 ms timer's lateness (loop delay)"],
  ['loop_delay', 'standbys', "standby's main thread: a 10 ms timer's lateness (loop delay)"],
  ['loop_wait', 'primary', "primary's main thread: waiting for a core, per 10 ms probe"],
  ['loop_wait', 'standbys', "standby's main thread: waiting for a core, per 10 ms probe"],
];
