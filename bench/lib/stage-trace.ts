/**
 * A command's time inside the node, by stage, for a bench whose node runs in its own process
 * (bench:e2e): a publisher listener reads each answered command's stamp and sequence, finds its
 * journal batch in the progress's batch log (journal-progress.ts), and records
 *
 *   stamp ──► commit start ──► durable ──► sent (this listener runs after the gateway's, which
 *     │ journal wait │   commit + fsync  │  wake-up, send        has sent the answers by then)
 *     (the engine, the output ring, and the journal busy with the batch before)
 *
 * All three clocks are wall-clock µs read in different threads of one process (the stamp in
 * the processor, the batch times in the journal writer, the last here), which agree within a
 * few µs; a negative difference is counted as 1 µs.
 */
import * as hdr from 'hdr-histogram-js';
import { journalBatchLogCount } from '../../src/constants.js';
import {
  batchLogEntryWords,
  BatchLogWord,
  ProgressSlot,
  type JournalProgress,
} from '../../src/journal/journal-progress.js';
import { EventFlag, EventWord } from '../../src/protocol/event-layout.js';
import { readU64, type RecordBuffer } from '../../src/stdx/records.js';
import { percentileOf } from '../../src/stdx/percentile.js';

export type StageName = 'journal_wait' | 'commit' | 'wake';

/** One command's stages inside the node (StageTrace.stagesOf), µs. */
export interface NodeStages {
  journalWait: number;
  commit: number;
  wake: number;
  /** Of journalWait, the part before the commit ahead of its batch's ended. */
  behindCommit: number;
  /** When its answer was sent (wall-clock µs). */
  sentUs: number;
}

/** Float64 words kept per recorded command (StageTrace.bySequence). */
const bySequenceWords = 5;

/** One stage's figures (µs). */
export interface StageFigures {
  p50: number;
  p99: number;
  mean: number;
}

function histogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

export class StageTrace {
  readonly stages: Record<StageName, hdr.Histogram> = {
    journal_wait: histogram(),
    commit: histogram(),
    wake: histogram(),
  };
  /**
   * Each recorded answer's time in the node (stamp → sent, µs) by its sequence, when kept (the
   * idle round trip pairs them with its client's own figures); at most `keepMax`.
   */
  readonly kept = new Map<number, number>();
  /** Answers whose batch had left the log before they were published (not recorded). */
  missed = 0;
  private recording = false;
  /** The batch the last answer was in (batches and answers come in sequence order). */
  private batch = 0;
  /**
   * Each recorded answer's stages at [sequence - first] * bySequenceWords (µs: journal wait,
   * commit, wake, the part of the journal wait spent behind the commit before its own, and
   * when it was sent, wall clock), for the first `bySequenceMax` sequences recorded
   * (tailStages and stagesOf read them).
   */
  private readonly bySequence: Float64Array;
  private firstSequence = -1;

  constructor(
    private readonly progress: JournalProgress,
    private readonly keepMax = 0,
    bySequenceMax = 0,
  ) {
    this.bySequence = new Float64Array(bySequenceMax * bySequenceWords);
  }

  /** Records from now on (the answers published so far are not). */
  start(): void {
    this.recording = true;
  }

  stop(): void {
    this.recording = false;
  }

  /** For `Publisher.listen`: `count` durable events at `slot` of `records`. */
  readonly listener = (records: RecordBuffer, slot: number, count: number): void => {
    if (!this.recording) return;
    const nowUs = (performance.timeOrigin + performance.now()) * 1000;
    const u32 = records.u32;
    for (let i = 0; i < count; i++) {
      const e = (slot + i) * EventWord.size;
      if ((u32[e + EventWord.flagsTifStp] & EventFlag.Head) === 0) continue;
      this.record(
        readU64(u32, e + EventWord.sequence),
        readU64(u32, e + EventWord.timestamp),
        nowUs,
      );
    }
  };

  private record(sequence: number, stampUs: number, nowUs: number): void {
    const log = this.progress.batchLog;
    const written = this.progress.get(ProgressSlot.batchesWritten);
    this.batch = Math.max(this.batch, written - journalBatchLogCount);
    let at = (this.batch % journalBatchLogCount) * batchLogEntryWords;
    while (this.batch < written && log[at + BatchLogWord.lastSequence] < sequence) {
      this.batch++;
      at = (this.batch % journalBatchLogCount) * batchLogEntryWords;
    }
    if (this.batch >= written || this.batch === written - journalBatchLogCount) {
      this.missed++; // past the log's end (not yet logged) or maybe overwritten
      return;
    }
    const started = log[at + BatchLogWord.commitStartUs];
    const durable = log[at + BatchLogWord.durableUs];
    this.add('journal_wait', started - stampUs);
    this.add('commit', durable - started);
    this.add('wake', nowUs - durable);
    if (this.firstSequence < 0) this.firstSequence = sequence;
    const i = (sequence - this.firstSequence) * bySequenceWords;
    if (i < this.bySequence.length) {
      this.bySequence[i] = started - stampUs;
      this.bySequence[i + 1] = durable - started;
      this.bySequence[i + 2] = nowUs - durable;
      this.bySequence[i + 3] = this.behindCommit(stampUs, started);
      this.bySequence[i + 4] = nowUs;
    }
    if (this.kept.size < this.keepMax) this.kept.set(sequence, nowUs - stampUs);
  }

  /**
   * Of a journal wait from `stampUs` to its batch's commit start, the µs spent while the batch
   * before was still being committed (stamped before that commit ended); 0 when that batch has
   * left the log.
   */
  private behindCommit(stampUs: number, startedUs: number): number {
    const before = this.batch - 1;
    const written = this.progress.get(ProgressSlot.batchesWritten);
    if (before < 0 || before <= written - journalBatchLogCount) return 0;
    const at = (before % journalBatchLogCount) * batchLogEntryWords;
    const ended = Math.min(this.progress.batchLog[at + BatchLogWord.durableUs], startedUs);
    return Math.max(0, ended - stampUs);
  }

  /**
   * A recorded command's stages inside the node (µs), or null when it was not recorded: its
   * wait for the journal (of which `behindCommit` behind the commit before its batch's), its
   * batch's commit + fsync, the wake-up up to its answer's send, and when that was (wall µs).
   */
  stagesOf(sequence: number): NodeStages | null {
    const i = (sequence - this.firstSequence) * bySequenceWords;
    if (this.firstSequence < 0 || i < 0 || i >= this.bySequence.length) return null;
    const b = this.bySequence;
    if (b[i + 1] === 0) return null; // not recorded (commit takes > 0 µs)
    return {
      journalWait: b[i],
      commit: b[i + 1],
      wake: b[i + 2],
      behindCommit: b[i + 3],
      sentUs: b[i + 4],
    };
  }

  private add(stage: StageName, us: number): void {
    this.stages[stage].recordValue(Math.max(1, Math.round(us)));
  }

  /**
   * The mean of each stage (µs) over the commands of `sequences` that were recorded and kept
   * by sequence, and how many were.
   */
  tailStages(sequences: readonly number[]): { found: number } & Record<StageName, number> {
    const sum = { journal_wait: 0, commit: 0, wake: 0 };
    let found = 0;
    for (const sequence of sequences) {
      const s = this.stagesOf(sequence);
      if (s === null) continue;
      sum.journal_wait += s.journalWait;
      sum.commit += s.commit;
      sum.wake += s.wake;
      found++;
    }
    const mean = (us: number): number => (found === 0 ? 0 : Math.round(us / found));
    const { journal_wait, commit, wake } = sum;
    return { found, journal_wait: mean(journal_wait), commit: mean(commit), wake: mean(wake) };
  }

  figures(): Record<StageName, StageFigures> {
    const out = {} as Record<StageName, StageFigures>;
    for (const [name, h] of Object.entries(this.stages) as [StageName, hdr.Histogram][]) {
      out[name] = { p50: percentileOf(h, 50), p99: percentileOf(h, 99), mean: Math.round(h.mean) };
    }
    return out;
  }
}
