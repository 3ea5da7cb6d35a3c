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
 */
import { eventSizeBytes, eventsPerFrameMax } from '../constants.js';
import type { RecordBuffer } from '../stdx/records.js';
import { readU64 } from '../stdx/records.js';
import { EventWord } from '../protocol/event-layout.js';
import type { WebSocket } from './uws.js';

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
  pumping: boolean;
}

/** Bytes unsent on a socket above which catching up waits (and a live reader falls back). */
const bufferedMaxBytes = 1 << 20;
/** Events read from LMDB per catch-up step. */
const chunkEvents = 8192;
/** How often a caught-up subscriber on a standby looks for new batches (ms). */
export const journalPollMs = 10;

export class JournalStreams<S> {
  private readonly subscribers: Subscriber<S>[] = [];

  constructor(
    private readonly journal: JournalChunks,
    private readonly send: SendEvents<S>,
    /**
     * The sequence after which the node publishes durable events live (0 on a single node),
     * or null while it publishes nothing (a standby).
     */
    private readonly handOver: () => number | null = () => 0,
  ) {}

  subscribe(ws: WebSocket<S>, requestId: number, from: number): void {
    const sub = { ws, requestId, next: Math.max(from, 1), live: false, pumping: false };
    this.subscribers.push(sub);
    this.pump(sub);
  }

  /** Whether `ws` has a journal subscription of `requestId`. */
  has(ws: WebSocket<S>, requestId: number): boolean {
    return this.subscribers.some((s) => s.ws === ws && s.requestId === requestId);
  }

  /** Ends the journal subscription `requestId` of `ws` (Unsubscribe). */
  unsubscribe(ws: WebSocket<S>, requestId: number): void {
    const at = this.subscribers.findIndex((s) => s.ws === ws && s.requestId === requestId);
    if (at !== -1) this.subscribers.splice(at, 1);
  }

  /** Forgets every subscription of a closed socket. */
  drop(ws: WebSocket<S>): void {
    for (let i = this.subscribers.length - 1; i >= 0; i--) {
      if (this.subscribers[i].ws === ws) this.subscribers.splice(i, 1);
    }
  }

  /** Live delivery: a run of durable events from the publisher. */
  deliver(records: RecordBuffer, slot: number, count: number): void {
    if (this.subscribers.length === 0) return;
    const u32 = records.u32;
    const lastSeq = readU64(u32, (slot + count - 1) * EventWord.size + EventWord.sequence);
    for (const sub of this.subscribers) {
      if (!sub.live || lastSeq < sub.next) continue;
      if (sub.ws.getBufferedAmount() > bufferedMaxBytes) {
        sub.live = false; // catch up from LMDB once the socket drains
        this.pump(sub);
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

  /** Catches a subscriber up from LMDB while its socket keeps up; then it goes live. */
  private pump(sub: Subscriber<S>): void {
    if (sub.pumping) return;
    sub.pumping = true;
    const step = (): void => {
      if (!this.subscribers.includes(sub)) return;
      while (sub.ws.getBufferedAmount() <= bufferedMaxBytes) {
        const chunk = this.readChunk(sub);
        if (chunk === undefined) return; // the read failed: the session is closed
        const handOver = chunk === null ? this.handOver() : 0;
        if (chunk === null && (handOver === null || sub.next <= handOver)) {
          setTimeout(step, journalPollMs); // a standby, or not yet past the hand-over
          return;
        }
        if (chunk === null) {
          sub.live = true; // up to date, in this same turn: no live run was missed
          sub.pumping = false;
          return;
        }
        this.sendChunked(sub, chunk.events, chunk.count);
        sub.next = chunk.last + 1;
      }
      setTimeout(step, 5);
    };
    step();
  }

  /**
   * The next chunk for `sub`, or undefined when the journal could not be read (a damaged page):
   * the session is closed with 1011 and why. Thrown from a timer, it ended the process.
   */
  private readChunk(sub: Subscriber<S>): ReturnType<JournalChunks['chunkFrom']> | undefined {
    try {
      return this.journal.chunkFrom(sub.next, chunkEvents);
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
