/**
 * Where an open loop's tail comes from, seen from one client process: each recorded command's
 * intended send, SDK call, stamp and answer (ms, this process's clock), kept in arrays sized at
 * the start. At the end, for the commands at or above this process's p99, it reports the mean
 * of each stage and the share whose life (intended send → answer) overlapped a garbage
 * collection of this process:
 *
 *   intended ──lag──► called ──to_stamp──► stamped ──from_stamp──► answered
 *                     └──────────── a client GC pause here delays the answer ───────┘
 */
export interface TailFigures {
  /** Commands at or above the process's p99. */
  count: number;
  /** Of those, how many overlapped a collection of the client process. */
  duringGc: number;
  /** Their sequences (the node's StageTrace gives their stages inside the node). */
  sequences: number[];
  /**
   * Each one's stages (µs, in the order of `sequences`): lag, to stamp, from stamp, and 1 if
   * its life overlapped a collection of the client (else 0); tail-stages.ts takes percentiles.
   */
  each: { lagUs: number[]; toStampUs: number[]; fromStampUs: number[]; duringGc: number[] };
  /** Mean µs of each stage over those commands. */
  lagUs: number;
  toStampUs: number;
  fromStampUs: number;
}

/** A histogram, as far as record() uses it. */
interface Recorder {
  recordValue(value: number): void;
}

export class TailLog {
  private readonly intended: Float64Array;
  private readonly called: Float64Array;
  private readonly stamped: Float64Array;
  private readonly answered: Float64Array;
  private readonly sequence: Float64Array;
  private length = 0;

  constructor(readonly capacity: number) {
    this.intended = new Float64Array(capacity);
    this.called = new Float64Array(capacity);
    this.stamped = new Float64Array(capacity);
    this.answered = new Float64Array(capacity);
    this.sequence = new Float64Array(capacity);
  }

  /**
   * Keeps one command's times (ms) and sequence; past the capacity it is not kept. `stamped`
   * NaN: none known (its to_stamp and from_stamp are not recorded; in the tail, all is
   * from_stamp).
   */
  add(intended: number, called: number, stamped: number, answered: number, sequence = 0): void {
    const i = this.length;
    if (i >= this.capacity) return;
    this.intended[i] = intended;
    this.called[i] = called;
    this.stamped[i] = stamped;
    this.answered[i] = answered;
    this.sequence[i] = sequence;
    this.length = i + 1;
  }

  /**
   * Each kept command's latency (intended send → answer) into `latency`, and its stages into
   * `stages`, in µs (at least 1). Called after the loop: the loop only keeps times, since
   * five histogram records a command were a tenth of the open-loop client's CPU (hdr-histogram-js
   * finds a value's bucket with log2 and pow), time the node's threads waited for a core.
   */
  record(latency: Recorder, stages: Record<'lag' | 'to_stamp' | 'from_stamp' | 'call', Recorder>) {
    const us = (ms: number): number => Math.max(1, Math.round(ms * 1000));
    for (let i = 0; i < this.length; i++) {
      latency.recordValue(us(this.answered[i] - this.intended[i]));
      stages.lag.recordValue(us(this.called[i] - this.intended[i]));
      if (!Number.isNaN(this.stamped[i])) {
        stages.to_stamp.recordValue(us(this.stamped[i] - this.called[i]));
        stages.from_stamp.recordValue(us(this.answered[i] - this.stamped[i]));
      }
      stages.call.recordValue(us(this.answered[i] - this.called[i]));
    }
  }

  /** The tail's figures, given this process's collections as [start, end] ms pairs. */
  figures(pauses: readonly (readonly [number, number])[]): TailFigures {
    const n = this.length;
    const latency = new Float64Array(n);
    for (let i = 0; i < n; i++) latency[i] = this.answered[i] - this.intended[i];
    const sorted = Float64Array.from(latency).sort();
    const cut = n === 0 ? Infinity : sorted[Math.min(n - 1, Math.floor(n * 0.99))];
    const out = { count: 0, duringGc: 0, lagUs: 0, toStampUs: 0, fromStampUs: 0 };
    const sequences: number[] = [];
    const each: TailFigures['each'] = { lagUs: [], toStampUs: [], fromStampUs: [], duringGc: [] };
    const us = (ms: number): number => Math.round(ms * 1000);
    for (let i = 0; i < n; i++) {
      if (latency[i] < cut) continue;
      out.count++;
      sequences.push(this.sequence[i]);
      out.lagUs += this.called[i] - this.intended[i];
      // No stamp (a status call's result carries none): its stages split at the call only.
      const stamped = Number.isNaN(this.stamped[i]) ? this.called[i] : this.stamped[i];
      out.toStampUs += stamped - this.called[i];
      out.fromStampUs += this.answered[i] - stamped;
      each.lagUs.push(us(this.called[i] - this.intended[i]));
      each.toStampUs.push(us(stamped - this.called[i]));
      each.fromStampUs.push(us(this.answered[i] - stamped));
      const from = this.intended[i];
      const to = this.answered[i];
      const overlapped = pauses.some(([start, end]) => start < to && end > from);
      if (overlapped) out.duringGc++;
      each.duringGc.push(overlapped ? 1 : 0);
    }
    const meanUs = (ms: number): number =>
      out.count === 0 ? 0 : Math.round((ms * 1000) / out.count);
    return {
      count: out.count,
      duringGc: out.duringGc,
      sequences,
      each,
      lagUs: meanUs(out.lagUs),
      toStampUs: meanUs(out.toStampUs),
      fromStampUs: meanUs(out.fromStampUs),
    };
  }
}
