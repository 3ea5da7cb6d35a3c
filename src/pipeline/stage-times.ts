/**
 * Where a replicated command's time goes, stage by stage (bench:replicated prints them): set
 * `BOURSE_STAGE_TIMES=1` in a member's environment and its /metrics carries
 * `bourse_replication_stage_us` (count, sum and buckets per stage: stage-histogram.ts). Off,
 * the member holds no StageTimes and each hook is one null test.
 *
 *   primary  sequenced ─► proposed ─┬─► durable here (its journal's write and fsync)
 *            (processor's  (main     ├─► ack 1 (the first standby's status: durable there)
 *             batch clock)  thread)  ├─► ack 2
 *                                    └─► commit ─► results to the gateway ("result")
 *            and within sequenced ─► proposed: the journal writer takes the batch from the
 *            ring ("taken": after the engine, and after the writer's commit of the batch
 *            before), seals it (encode, SHA-256 chain), and the main thread proposes it
 *   standby  sequenced ─► received (whole, verified) ─► group commit starts ─► durable
 *   each     a datagram's wait in the transport's queue (control; bulk: paced entries), and
 *            its main thread's loop: a timer's lateness (loop_delay) and its wait for a core
 *
 * With `BOURSE_STAGE_ROWS` too, each entry's milestones are kept one row an entry (stage-rows.ts):
 * bench:replicated looks its slowest commands up in them.
 *
 * Times are per log entry (a journal batch), on the wall clock in µs: the processor stamps a
 * batch with it, and the members of a bench share one machine's clock. Entries are tracked in
 * a ring by log index (trackedEntries): one that fell out of it before its stage is not timed.
 */
import { readFileSync } from 'node:fs';
import { readU64, type RecordBuffer } from '../stdx/records.js';
import { EventWord } from '../protocol/event-layout.js';
import { StageHistogram } from '../replication/stage-histogram.js';
import type { Entry } from '../replication/messages.js';
import { decodeBatch } from '../journal/journal-codec.js';
import type { SealedAt } from './node.js';
import { Row, StageRows } from './stage-rows.js';

/** The period of the timer whose lateness is the main thread's event-loop delay (loop_delay). */
const loopProbeMs = 10;

export const stageTimesVariable = 'BOURSE_STAGE_TIMES';
export const stageNames = [
  'sequenced_to_taken',
  'taken_to_sealed',
  'sealed_to_proposed',
  'sequenced_to_proposed',
  'proposed_to_durable_here',
  'proposed_to_ack_1',
  'proposed_to_ack_2',
  'proposed_to_commit',
  'sequenced_to_result',
  'sequenced_to_received',
  'received_to_write',
  'write_to_durable',
  'udp_wait_control',
  'udp_wait_bulk',
  'loop_delay',
  'loop_wait',
] as const;
export type StageName = (typeof stageNames)[number];
const trackedEntries = 1 << 13;
const mask = trackedEntries - 1;

/** The wall-clock time (µs) the processor stamped an entry's batch with (0: unreadable). */
export function timestampOf(entry: Entry): number {
  const view = decodeBatch(entry.payload, false);
  return typeof view === 'string' ? 0 : view.timestamp;
}

/**
 * The main thread's time runnable but waiting for a core so far (ns, Linux's schedstat: its
 * second field); -1 where there is none. Beside loop_delay, it tells a loop held up by its own
 * work from one whose thread the machine did not run (loop_wait: per probe interval).
 */
function runQueueWaitNs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[1]);
  } catch {
    return -1;
  }
}

function nowUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

export class StageTimes {
  readonly stages = new Map<StageName, StageHistogram>(
    stageNames.map((name) => [name, new StageHistogram()]),
  );
  /** The transport's queue waits (UdpTransport.queueWait). */
  readonly udp = { control: this.get('udp_wait_control'), bulk: this.get('udp_wait_bulk') };
  /** By log index & mask: which index the slot holds, when proposed / received, written. */
  private readonly index = new Float64Array(trackedEntries).fill(-1);
  private readonly at = new Float64Array(trackedEntries);
  private readonly writeAt = new Float64Array(trackedEntries);
  private readonly acks = new Uint8Array(trackedEntries);
  /** The last index each stage has timed (and each standby's last acked): ranges follow on. */
  private durableHere = 0;
  private committed = 0;
  private readonly acked = new Map<number, number>();
  /** When the primary's journal writer took and sealed each batch not yet proposed, by sequence. */
  private readonly sealedAt = new Map<number, SealedAt>();

  /** Each entry's milestones, when asked for too (stage-rows.ts); else null. */
  readonly rows: StageRows | null;

  constructor(rows: StageRows | null = null) {
    this.rows = rows;
  }

  /**
   * From the environment: null (the default) when not asked for. Asked for, it also times the
   * main thread's event loop: a timer's lateness every loopProbeMs (unref'd: it keeps no
   * process alive), a sample of how long a turn of the loop holds up what is ready, and the
   * thread's wait for a core over each of those intervals (loop_wait).
   */
  static fromEnvironment(): StageTimes | null {
    if (process.env[stageTimesVariable] !== '1') return null;
    const times = new StageTimes(StageRows.fromEnvironment());
    const delay = times.get('loop_delay');
    const wait = times.get('loop_wait');
    let last = performance.now();
    let waitedNs = runQueueWaitNs();
    setInterval(() => {
      const now = performance.now();
      delay.record(Math.max(0, (now - last - loopProbeMs) * 1000));
      last = now;
      const waited = runQueueWaitNs();
      if (waited >= 0 && waitedNs >= 0) wait.record((waited - waitedNs) / 1000);
      waitedNs = waited;
    }, loopProbeMs).unref();
    return times;
  }

  private get(name: StageName): StageHistogram {
    return this.stages.get(name) as StageHistogram;
  }

  /** The primary's journal writer took the batch at sequence `first` and sealed it. */
  sealed(first: number, at: SealedAt): void {
    if (this.sealedAt.size >= trackedEntries) this.sealedAt.clear(); // never proposed: dropped
    this.sealedAt.set(first, at);
  }

  /** The primary proposed entry `index` (its batch at `first`), sequenced at `timestampUs`. */
  proposed(index: number, timestampUs: number, first: number): void {
    const now = nowUs();
    this.get('sequenced_to_proposed').record(now - timestampUs);
    const at = this.sealedAt.get(first);
    if (at !== undefined) {
      this.sealedAt.delete(first);
      this.get('sequenced_to_taken').record(at.takenMs * 1000 - timestampUs);
      this.get('taken_to_sealed').record((at.sealedMs - at.takenMs) * 1000);
      this.get('sealed_to_proposed').record(now - at.sealedMs * 1000);
    }
    this.track(index, now);
    const rows = this.rows;
    if (rows === null) return;
    rows.open(index);
    rows.set(index, Row.first_sequence, first);
    rows.set(index, Row.sequenced, timestampUs);
    if (at !== undefined) rows.set(index, Row.taken, at.takenMs * 1000);
    if (at !== undefined) rows.set(index, Row.sealed, at.sealedMs * 1000);
    rows.set(index, Row.proposed, now);
  }

  /** A standby received entries ending at `index`, the first sequenced at `timestampUs`. */
  received(index: number, count: number, timestampUs: number): void {
    const now = nowUs();
    this.get('sequenced_to_received').record(now - timestampUs);
    for (let i = Math.max(1, index - count + 1); i <= index; i++) {
      this.track(i, now);
      this.rows?.open(i);
      this.rows?.set(i, Row.received, now);
    }
  }

  /** A standby's group commit starts writing entries up to `index`. */
  writing(index: number): void {
    const now = nowUs();
    for (let i = index; i > index - trackedEntries && this.index[i & mask] === i; i--) {
      if (this.writeAt[i & mask] !== 0) break;
      this.writeAt[i & mask] = now;
      this.rows?.set(i, Row.write, now);
      this.get('received_to_write').record(now - this.at[i & mask]);
    }
  }

  /** A standby's entries up to `index` are durable. */
  stored(index: number): void {
    this.rangeTo('write_to_durable', this.durableHere, index, this.writeAt, Row.stored);
    this.durableHere = Math.max(this.durableHere, index);
  }

  /** The primary's own copy is durable up to `index`. */
  durable(index: number): void {
    this.rangeTo('proposed_to_durable_here', this.durableHere, index, this.at, Row.durable_here);
    this.durableHere = Math.max(this.durableHere, index);
  }

  /** Standby `from` says it holds up to `durable` on disk. */
  status(from: number, durable: number): void {
    const last = this.acked.get(from) ?? durable;
    this.acked.set(from, Math.max(last, durable));
    const now = nowUs();
    for (let i = Math.max(last + 1, durable - trackedEntries + 1); i <= durable; i++) {
      if (this.index[i & mask] !== i) continue;
      const n = ++this.acks[i & mask];
      if (n > 2) continue;
      this.get(n === 1 ? 'proposed_to_ack_1' : 'proposed_to_ack_2').record(now - this.at[i & mask]);
      this.rows?.set(i, n === 1 ? Row.ack_1 : Row.ack_2, now);
      if (n === 1) this.rows?.set(i, Row.ack_1_from, from);
    }
  }

  /** Entries up to `index` are committed. */
  commit(index: number): void {
    this.rangeTo('proposed_to_commit', this.committed, index, this.at, Row.commit);
    this.committed = Math.max(this.committed, index);
  }

  /** A publisher listener: results of `count` events from ring slot `slot` go out now. */
  readonly result = (records: RecordBuffer, slot: number, count: number): void => {
    if (count === 0) return;
    const timestamp = readU64(records.u32, slot * EventWord.size + EventWord.timestamp);
    const now = nowUs();
    this.get('sequenced_to_result').record(now - timestamp);
    if (this.rows === null) return;
    const first = readU64(records.u32, slot * EventWord.size + EventWord.sequence);
    const last = readU64(records.u32, (slot + count - 1) * EventWord.size + EventWord.sequence);
    this.rows.result(first, last, now);
  };

  private track(index: number, now: number): void {
    const k = index & mask;
    this.index[k] = index;
    this.at[k] = now;
    this.writeAt[k] = 0;
    this.acks[k] = 0;
  }

  /** Times (from, to] in `stage` from each entry's time in `since` (and sets its row's `field`). */
  private rangeTo(
    stage: StageName,
    from: number,
    to: number,
    since: Float64Array,
    field: number,
  ): void {
    const h = this.get(stage);
    const now = nowUs();
    for (let i = Math.max(from + 1, to - trackedEntries + 1); i <= to; i++) {
      if (this.index[i & mask] === i && since[i & mask] !== 0) h.record(now - since[i & mask]);
      this.rows?.set(i, field, now);
    }
  }
}
