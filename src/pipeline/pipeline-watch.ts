/**
 * Watches the pipeline from the main thread, once every pipelineWatchMs, in the words the stages
 * keep anyway (ring cursors and consumer sequences, the progress buffer): nothing is added on
 * the processor's path. It says what an operator must know at once, each kind of line at most
 * once per watchLogEveryMs, and tells /ready when commands are not being answered:
 *
 *   stall         commands wait (in the input ring, or decided and not durable) while no batch
 *                 has become durable for pipelineStallMs: /ready for commands is 503 with the
 *                 reason until it moves again, and the log says which consumer holds it
 *   ring full     a ring at ringFullPercent of its slots for pipelineStallMs, and who holds it
 *   capacity      an engine table at capacityWarnPercent, and full (commands are rejected)
 *   reads         queries of the read model that timed out (HTTP 503)
 *   clock         the node's clock clockBehindWarnMs or more behind the logical time it last
 *                 stamped (logical-time.ts): it moves 1 µs a batch until the clock catches
 *                 up, and holds expire that much late
 *
 * A soak's 30-40 s outages (the read model held the output ring) logged nothing and /ready
 * stayed 200; the order table was full for 28 minutes without a line. A primary whose clock
 * was an hour behind (or that took over from one whose clock was an hour ahead) held logical
 * time still for that hour with nothing said but bourse_clock_behind_seconds.
 */
import {
  capacityWarnPercent,
  clockBehindWarnMs,
  pipelineStallMs,
  readQueryTimeoutMs,
  ringFullPercent,
  watchLogEveryMs,
  type EngineConfig,
} from '../constants.js';
import { assert } from '../stdx/assert.js';
import { ProgressSlot, type JournalProgress } from '../journal/journal-progress.js';
import { capacityMax, capacityTables } from './capacity-use.js';
import type { LogLevel } from './node.js';

/** What the watch reads of a ring. */
export interface WatchedRing {
  readonly slotCount: number;
  readonly consumers: number;
  occupancy(): number;
  consumerLag(i: number): number;
}

export interface WatchSources {
  progress: JournalProgress;
  input: WatchedRing;
  output: WatchedRing;
  config: EngineConfig;
  /** Read-model queries timed out so far (read-client.ts); null: the node serves no reads. */
  reads: { readonly timeouts: number } | null;
  log: (line: string, level?: LogLevel) => void;
}

const ringNames = { input: ['processor'], output: ['journal writer', 'publisher', 'read model'] };

export class PipelineWatch {
  private readonly s: WatchSources;
  private durable = -1;
  private movedAtMs = 0;
  /** Why commands are not answered (a stall), or null. */
  private stall: string | null = null;
  private readonly fullSinceMs = { input: -1, output: -1 };
  private timeoutsSeen = 0;
  private timeoutsUntold = 0;
  /** When each kind of line was last logged (a fixed set of keys). */
  private readonly loggedAtMs = new Map<string, number>();

  constructor(sources: WatchSources, nowMs: number) {
    this.s = sources;
    this.movedAtMs = nowMs;
  }

  /** One look at the pipeline (every pipelineWatchMs). */
  tick(nowMs: number): void {
    this.watchProgress(nowMs);
    this.watchRing('input', nowMs);
    this.watchRing('output', nowMs);
    this.watchCapacities(nowMs);
    this.watchReads(nowMs);
    this.watchClock(nowMs);
  }

  /** Why the node answers no command now (for GET /ready), or null. */
  stalled(): string | null {
    return this.stall;
  }

  /** Seconds commands have waited with nothing becoming durable (0 unless stalled). */
  stalledSeconds(nowMs: number): number {
    return this.stall === null ? 0 : (nowMs - this.movedAtMs) / 1000;
  }

  private watchProgress(nowMs: number): void {
    const p = this.s.progress;
    const durable = p.get(ProgressSlot.sequenceDurable);
    const undurable = Math.max(0, p.get(ProgressSlot.sequencePublished) - durable);
    const waiting = this.s.input.occupancy() + undurable;
    if (durable !== this.durable || waiting === 0) {
      if (this.stall !== null) {
        const s = ((nowMs - this.movedAtMs) / 1000).toFixed(0);
        this.s.log(`pipeline moves again: sequence ${durable} durable after ${s} s stalled`);
      }
      this.durable = durable;
      this.movedAtMs = nowMs;
      this.stall = null;
      return;
    }
    if (nowMs - this.movedAtMs < pipelineStallMs) return;
    const s = ((nowMs - this.movedAtMs) / 1000).toFixed(0);
    const what = `nothing durable for ${s} s while ${waiting} commands wait`;
    this.stall = `stalled: ${what}${this.holder()}`;
    this.warn('stall', nowMs, `pipeline ${this.stall}`);
  }

  /** Which stage holds the pipeline back, for a stall's reason (a clause, or ''). */
  private holder(): string {
    const output = this.s.output;
    if (output.occupancy() * 100 < output.slotCount * ringFullPercent) {
      return '; the journal has not committed (a slow or failing disk?)';
    }
    const [name, lag] = slowest(output, ringNames.output);
    return `; the output ring is full: the ${name} is ${lag} slots behind`;
  }

  private watchRing(ring: 'input' | 'output', nowMs: number): void {
    const r = this.s[ring];
    if (r.occupancy() * 100 < r.slotCount * ringFullPercent) {
      this.fullSinceMs[ring] = -1;
      return;
    }
    if (this.fullSinceMs[ring] < 0) this.fullSinceMs[ring] = nowMs;
    const ms = nowMs - this.fullSinceMs[ring];
    if (ms < pipelineStallMs) return;
    const [name, lag] = slowest(r, ringNames[ring]);
    const line =
      `${ring} ring full for ${(ms / 1000).toFixed(0)} s (${r.occupancy()} of ${r.slotCount} ` +
      `slots): the ${name} is ${lag} slots behind`;
    this.warn(`${ring}-full`, nowMs, line);
  }

  private watchCapacities(nowMs: number): void {
    const p = this.s.progress;
    for (const t of capacityTables) {
      const used = p.get(t.slot);
      const max = capacityMax(this.s.config, t);
      assert(max > 0, 'watch: a table holds entries');
      if (used >= max) {
        const full = `${t.name} table full (${max}): new ones are rejected with ${t.refusal}`;
        this.warn(`${t.name}-full`, nowMs, full);
      } else if (used * 100 >= max * capacityWarnPercent) {
        const pct = ((used * 100) / max).toFixed(0);
        this.warn(`${t.name}-high`, nowMs, `${t.name} table ${pct}% full (${used} of ${max})`);
      }
    }
  }

  private watchReads(nowMs: number): void {
    const reads = this.s.reads;
    if (reads === null) return;
    this.timeoutsUntold += reads.timeouts - this.timeoutsSeen;
    this.timeoutsSeen = reads.timeouts;
    if (this.timeoutsUntold === 0) return;
    const lag = Math.max(
      0,
      this.s.progress.get(ProgressSlot.sequenceDurable) -
        this.s.progress.get(ProgressSlot.readModelSequence),
    );
    const line =
      `${this.timeoutsUntold} reads timed out (not answered in ${readQueryTimeoutMs / 1000} s, ` +
      `answered 503); the read model is ${lag} sequences behind`;
    if (this.warn('reads', nowMs, line)) this.timeoutsUntold = 0;
  }

  /** `nowMs` is the clock logical time is stamped from (logical-time.ts clockMs). */
  private watchClock(nowMs: number): void {
    const stampedMs = this.s.progress.get(ProgressSlot.timestampStamped) / 1000;
    const behindMs = stampedMs - nowMs;
    if (behindMs < clockBehindWarnMs) return;
    const line =
      `clock ${(behindMs / 1000).toFixed(0)} s behind the logical time this node last ` +
      'stamped (its journal holds it): logical time moves 1 µs a batch until the clock ' +
      'catches up, ' +
      'and holds expire that much late; check the time sync (NTP) of this host, and of any ' +
      'member whose clock ran ahead';
    this.warn('clock', nowMs, line);
  }

  /** Logs `line` unless a line of this kind went out within watchLogEveryMs. */
  private warn(kind: string, nowMs: number, line: string): boolean {
    const at = this.loggedAtMs.get(kind);
    if (at !== undefined && nowMs - at < watchLogEveryMs) return false;
    this.loggedAtMs.set(kind, nowMs);
    this.s.log(line, 'warn');
    return true;
  }
}

/** The consumer furthest behind in `ring`, by name, and how far. */
function slowest(ring: WatchedRing, names: readonly string[]): [string, number] {
  let most = 0;
  for (let i = 1; i < ring.consumers; i++)
    if (ring.consumerLag(i) > ring.consumerLag(most)) most = i;
  return [names[most] ?? `consumer ${most}`, ring.consumerLag(most)];
}
