/**
 * Trades and account streams on a standby. A primary publishes each durable run of events to
 * the gateway; a standby publishes nothing (its node applies what it stores), so there the
 * streams follow the journal instead: every `journalPollMs` the tail reads the committed
 * batches stored since its last read and hands them to the topics, as the publisher would.
 *
 *   standby:   LMDB (committed, stored) ──poll──► TopicsTail ──► Topics ──► uWS pub/sub
 *   primary:   publisher runs ─────────────────────────────────► Topics ──► uWS pub/sub
 *
 * A promoted node's publisher publishes what it decides, after the sequence it was promoted
 * at (`handOver`); the tail publishes up to that sequence (waiting, if need be, for the last of
 * it to be committed) and stops: no gap and no repeat.
 */
import { eventSizeBytes, journalCatchUpEventsPerTurnMax } from '../constants.js';
import { EventWord } from '../protocol/event-layout.js';
import { readU64, RecordBuffer } from '../stdx/records.js';
import type { JournalChunks } from './journal-stream.js';
import { journalPollMs } from './journal-stream.js';

/** Events read from LMDB per step, and published at once (a chunk may hold more: sliced). */
const tailEvents = 4096;

/** What liveStart reads of the node before the topics had a run. */
interface LiveSources {
  journal: { visibleSequence(): number };
  /** The publisher (pipeline/publisher.ts): where its next run goes on, if one waits. */
  events: { listen: unknown; waitingAfter?(): number | null };
}

export class TopicsTail {
  private next = -1;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Aligned scratch: LMDB's bytes may sit at any offset. */
  private readonly scratch = new RecordBuffer(
    new ArrayBuffer(tailEvents * eventSizeBytes),
    0,
    tailEvents,
    eventSizeBytes,
  );

  constructor(
    private readonly journal: JournalChunks,
    /** The last sequence readers may see (committed and stored here). */
    private readonly visible: () => number,
    /** Once promoted, the sequence after which the node publishes live (null before). */
    private readonly handOver: () => number | null,
    private readonly publish: (records: RecordBuffer, slot: number, count: number) => void,
    /** Called, the tail stopped, when the journal cannot be read (a damaged page). */
    private readonly fail: (error: unknown) => void,
  ) {}

  /** Follows the journal from what is visible now (idempotent). */
  start(): void {
    if (this.timer !== null) return;
    this.next = this.visible() + 1;
    this.timer = setInterval(() => this.pollOrFail(), journalPollMs);
  }

  /**
   * The sequence the topics' live stream goes on after, which Subscribed names (frames.ts
   * FrameType.Subscribed): while the tail runs, the last it read (at its start, what was visible
   * then); else the last published to the topics (`published`, -1: none yet); before any run,
   * the node's visible sequence (the durable one, no further than committed on a cluster
   * member), but not past a run its publisher has yet to hand out. It named the durable
   * sequence always, and a standby's tail (one poll behind it) or a cluster primary's publisher
   * (committed, behind its own disk) then sent events up to it after the frame (16 at a time,
   * measured): "starts after" was not where the stream started. Before the first run since the
   * start, the visible sequence alone was that too: a run durable (and committed) but not yet
   * handed out by the publisher, which polls, came after a frame that named it.
   */
  liveStart(published: number, node: LiveSources): number {
    if (this.timer !== null) return this.next - 1;
    if (published >= 0) return published;
    const visible = node.journal.visibleSequence();
    return Math.min(visible, node.events.waitingAfter?.() ?? visible);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * A promoted node's publisher is about to publish: everything up to the hand-over is then
   * committed (its first events commit after them), so the tail publishes the rest of it now,
   * before them. Waiting for the next poll let a transfer committed just before a failover
   * reach its account stream after those the new primary decided.
   */
  catchUp(): void {
    if (this.timer !== null) this.pollOrFail(Number.POSITIVE_INFINITY);
  }

  /**
   * Polls, reading about `eventsMax` events at most (a timer's poll: one catch-up turn's, the
   * rest at the next poll); a read that throws stops the tail and is handed on (from a timer it
   * ended all). A poll read all that was committed since the last: a backlog (a loop stalled
   * 0.5 s at 100k events/s: 6 MB) went out in one call, and the subscribers of a busy topic
   * had more unsent than sessionBackpressureMaxBytes (4 MB) and were closed as slow.
   */
  private pollOrFail(eventsMax = journalCatchUpEventsPerTurnMax): void {
    try {
      this.poll(eventsMax);
    } catch (error) {
      this.stop();
      this.fail(error);
    }
  }

  private poll(eventsMax: number): void {
    const until = this.handOver() ?? Number.POSITIVE_INFINITY;
    for (let read = 0; this.next <= until;) {
      if (read >= eventsMax) return; // the rest at the next poll
      const chunk = this.journal.chunkFrom(this.next, tailEvents);
      if (chunk === null) return;
      for (let at = 0; at < chunk.count; at += tailEvents) {
        const n = Math.min(tailEvents, chunk.count - at);
        const bytes = chunk.events.subarray(at * eventSizeBytes, (at + n) * eventSizeBytes);
        this.scratch.u8.set(bytes);
        this.publish(this.scratch, 0, this.upTo(n, until));
      }
      read += chunk.count;
      this.next = chunk.last + 1;
    }
    this.stop(); // handed over: the publisher goes on from `until`
  }

  /** How many of the `n` events in scratch have a sequence up to `until`. */
  private upTo(n: number, until: number): number {
    let k = n;
    while (
      k > 0 &&
      readU64(this.scratch.u32, (k - 1) * EventWord.size + EventWord.sequence) > until
    ) {
      k--;
    }
    return k;
  }
}
