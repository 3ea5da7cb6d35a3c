/**
 * Journal subscriptions: a session reads the journal from a sequence, like a Kafka topic from
 * an offset. It first catches up from LMDB, a chunk at a time and only while the socket keeps
 * up, then follows the durable events live.
 *
 *   catching up:  LMDB batches from `next` ──► Events frames (request id of the Subscribe)
 *   live:         publisher runs ──► the events with sequence ≥ `next`
 *
 * On a standby nothing is published live (its node applies what it stores): a caught-up
 * subscriber there polls LMDB every `journalPollMs` instead. Once the member is promoted, its
 * publisher publishes what it decides after the sequence it was promoted at (`handOver`): the
 * subscriber goes live only when it has read the journal past that sequence (the last batches
 * before it may be committed only after the promotion), so the hand-over has no gap. Either way
 * it reads only what is committed (JournalChunks' bound).
 *
 * Batches end at command boundaries, so `next` (one past the last sequence sent) never splits a
 * command. While a subscriber catches up it ignores live runs: those events are durable, so
 * the LMDB reads will reach them. A subscriber that falls behind while live goes back to
 * catching up instead of buffering without limit.
 *
 * Catching up shares one budget: a turn of the event loop sends at most
 * journalCatchUpEventsPerTurnMax events over all subscribers and account resumes, a chunk each
 * in turn (catch-up-turns.ts), and the next turn waits for the event loop (setImmediate). Each
 * subscriber read and sent as much as its own socket took, in one go: a thousand of them from
 * sequence 1 held the gateway's thread for seconds.
 */
import { eventSizeBytes, eventsPerFrameMax } from '../constants.js';
import type { RecordBuffer } from '../stdx/records.js';
import { readU64 } from '../stdx/records.js';
import { EventWord } from '../protocol/event-layout.js';
import type { WebSocket } from './uws.js';
import { catchUpBufferedMaxBytes } from './catch-up-turns.js';
import type { CatchUpKind, CatchUpTurns } from './catch-up-turns.js';

/** Journal reads for catching up (provided by the composition root). */
export interface JournalChunks {
  /**
   * Raw events of whole batches with sequence ≥ `from`, up to about `eventsMax`, and the last
   * sequence they hold; null when the journal has nothing from there yet.
   */
  chunkFrom(
    from: number,
    eventsMax: number,
  ): { events: Uint8Array; count: number; last: number } | null;
  /** The first sequence the journal holds (account-resumes.ts refuses a resume below it). */
  firstSequence?(): number;
}

export type SendEvents<S> = (
  ws: WebSocket<S>,
  requestId: number,
  events: Uint8Array,
  n: number,
) => void;

interface Subscriber<S> {
  ws: WebSocket<S>;
  requestId: number;
  next: number;
  live: boolean;
}

/** How often a caught-up subscriber on a standby looks for new batches (ms). */
export const journalPollMs = 10;

export class JournalStreams<S> {
  /** Every subscription (a Set: a step asks whether its subscriber is still here, in O(1)). */
  private readonly subscribers = new Set<Subscriber<S>>();
  /**
   * The subscribers catching up from LMDB, in the gateway's turns (shared with account
   * resumes; a standby's look again every journalPollMs).
   */
  private readonly catching: CatchUpKind<Subscriber<S>>;

  constructor(
    private readonly journal: JournalChunks,
    private readonly send: SendEvents<S>,
    /** The gateway's catch-up turns (catch-up-turns.ts: one budget for every reader). */
    turns: CatchUpTurns,
    /**
     * The sequence after which the node publishes durable events live (0 on a single node),
     * or null while it publishes nothing (a standby).
     */
    private readonly handOver: () => number | null = () => 0,
  ) {
    this.catching = turns.kind((sub, eventsMax) => this.step(sub, eventsMax));
  }

  subscribe(ws: WebSocket<S>, requestId: number, from: number): void {
    const sub = { ws, requestId, next: Math.max(from, 1), live: false };
    this.subscribers.add(sub);
    this.catching.add(sub);
  }

  /** Whether `ws` has a journal subscription of `requestId`. */
  has(ws: WebSocket<S>, requestId: number): boolean {
    return this.find(ws, requestId) !== undefined;
  }

  /** Ends the journal subscription `requestId` of `ws` (Unsubscribe). */
  unsubscribe(ws: WebSocket<S>, requestId: number): void {
    const sub = this.find(ws, requestId);
    if (sub === undefined) return;
    this.subscribers.delete(sub);
    this.catching.delete(sub);
  }

  /** Forgets every subscription of a closed socket. */
  drop(ws: WebSocket<S>): void {
    for (const sub of this.subscribers) {
      if (sub.ws !== ws) continue;
      this.subscribers.delete(sub); // deleting the current entry keeps a Set's iteration going
      this.catching.delete(sub);
    }
  }

  private find(ws: WebSocket<S>, requestId: number): Subscriber<S> | undefined {
    for (const sub of this.subscribers)
      if (sub.ws === ws && sub.requestId === requestId) return sub;
    return undefined;
  }

  /** Live delivery: a run of durable events from the publisher. */
  deliver(records: RecordBuffer, slot: number, count: number): void {
    if (this.subscribers.size === 0) return;
    const u32 = records.u32;
    const lastSeq = readU64(u32, (slot + count - 1) * EventWord.size + EventWord.sequence);
    for (const sub of this.subscribers) {
      if (!sub.live || lastSeq < sub.next) continue;
      if (sub.ws.getBufferedAmount() > catchUpBufferedMaxBytes) {
        sub.live = false; // catch up from LMDB once the socket drains
        this.catching.add(sub);
        continue;
      }
      let i = 0;
      while (readU64(u32, (slot + i) * EventWord.size + EventWord.sequence) < sub.next) i++;
      const bytes = records.u8.subarray(
        (slot + i) * eventSizeBytes,
        (slot + count) * eventSizeBytes,
      );
      this.sendChunked(sub, bytes, count - i);
      sub.next = lastSeq + 1;
    }
  }

  /**
   * Sends `sub` its next chunk while its socket keeps up: the events sent (0: it waits), or
   * null when it no longer catches up (it went live, or its session is closed).
   */
  private step(sub: Subscriber<S>, eventsMax: number): number | null {
    if (!this.subscribers.has(sub)) return null;
    if (sub.ws.getBufferedAmount() > catchUpBufferedMaxBytes) return 0;
    const chunk = this.readChunk(sub, eventsMax);
    if (chunk === undefined) return null; // the read failed: the session is closed
    if (chunk === null) {
      const handOver = this.handOver();
      if (handOver === null || sub.next <= handOver) return 0; // a standby, or before hand-over
      sub.live = true; // up to date, in this same turn: no live run was missed
      return null;
    }
    this.sendChunked(sub, chunk.events, chunk.count);
    sub.next = chunk.last + 1;
    return chunk.count;
  }

  /**
   * The next chunk for `sub`, or undefined when the journal could not be read (a damaged page):
   * the session is closed with 1011 and why. Thrown from a timer, it ended the process.
   */
  private readChunk(
    sub: Subscriber<S>,
    eventsMax: number,
  ): ReturnType<JournalChunks['chunkFrom']> | undefined {
    try {
      return this.journal.chunkFrom(sub.next, eventsMax);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      sub.ws.end(1011, `journal read failed: ${why}`.slice(0, 120));
      return undefined;
    }
  }

  private sendChunked(sub: Subscriber<S>, bytes: Uint8Array, n: number): void {
    for (let at = 0; at < n; at += eventsPerFrameMax) {
      const k = Math.min(eventsPerFrameMax, n - at);
      this.send(
        sub.ws,
        sub.requestId,
        bytes.subarray(at * eventSizeBytes, (at + k) * eventSizeBytes),
        k,
      );
    }
  }
}
