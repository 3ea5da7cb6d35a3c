/**
 * Reads a session's answers out of Results frames and Events frames (request id 0). A
 * command's events come in order, its head event (flag Head) first, and together; most end in
 * the frame they begin in. The server keeps a frame to at most 127 events, though, so a
 * command with more (an order that sweeps 300 makers) or one that a frame's cut falls on goes
 * on in the next frame, which the frame's EventsFlag.More says:
 *
 *   frame n    (More): [... | head of C, trade, trade, ..., trade]
 *   frame n+1        : [trade, ..., trade | head of D, ...]       C is answered here, whole
 *
 * A client that answered C when frame n ended resolved it with part of its trades, and the
 * rest, no longer pending, were dropped: a trader saw a fill cost with no trade behind it.
 */
import { EventFlag, EventWord } from '../protocol/event-layout.js';
import { readEvent, type EventRecord } from '../protocol/event-reader.js';
import { EventsFlag, frameHeaderBytes } from '../protocol/frames.js';
import { ResultWord, resultKind, resultStatus } from '../protocol/result-layout.js';
import { readU64 } from '../stdx/records.js';
import type { SeqWindow } from './seq-window.js';
import type { Pending } from './unanswered.js';

export interface AnswerSink {
  /** A single command's answer: all its events. */
  answer(clientSeq: number, pending: Pending): void;
  /** A batch's command: its head event's status, sequence and kind. */
  answerBatched(clientSeq: number, status: number, sequence: number, kind: number): void;
}

export class AnswerRuns {
  private readonly pending: SeqWindow<Pending>;
  private readonly sink: AnswerSink;
  /** One frame's events or results, copied into this reused buffer (4-byte aligned). */
  private incoming = new Uint32Array(1024 * EventWord.size);
  /** The command whose events are being read (null: not a single command of ours). */
  private open: Pending | null = null;
  private openSeq = -1;

  constructor(pending: SeqWindow<Pending>, sink: AnswerSink) {
    this.pending = pending;
    this.sink = sink;
  }

  /** One Events frame of answers. Events become objects only for single commands. */
  read(data: Buffer): void {
    const words = this.copyIn(data, EventWord.size);
    const u32 = this.incoming;
    for (let e = 0; e < words; e += EventWord.size) {
      const seq = readU64(u32, e + EventWord.clientSeq);
      const head = (u32[e + EventWord.flagsTifStp] & EventFlag.Head) !== 0;
      if (seq !== this.openSeq || head) {
        this.finish();
        this.openSeq = seq;
        this.open = this.pending.get(seq) ?? null;
        if (this.open === null && head) {
          const kindStatus = u32[e + EventWord.kindStatus];
          const sequence = readU64(u32, e + EventWord.sequence);
          this.sink.answerBatched(seq, kindStatus >>> 16, sequence, kindStatus & 0xff);
        }
      }
      if (this.open !== null) this.take(this.open, readEvent(u32, e));
    }
    if ((data.readUInt16LE(2) & EventsFlag.More) === 0) this.finish();
  }

  /** A Results frame: the outcome of each command of our ResultsOnly frames (all batched). */
  readResults(data: Buffer): void {
    const words = this.copyIn(data, ResultWord.size);
    const u32 = this.incoming;
    for (let r = 0; r < words; r += ResultWord.size) {
      const sequence = readU64(u32, r + ResultWord.sequence);
      this.sink.answerBatched(
        readU64(u32, r + ResultWord.clientSeq),
        resultStatus(u32, r),
        sequence,
        resultKind(u32, r),
      );
    }
  }

  /**
   * The connection dropped: a command cut between frames is answered again after the resend,
   * as a repeat (a Duplicate event with the original outcome, not its trades: those are in the
   * journal and the account streams), so the part that came is forgotten.
   */
  reset(): void {
    if (this.open !== null) this.open.events.length = 0;
    this.open = null;
    this.openSeq = -1;
  }

  /**
   * Copies an Events or Results frame's records (count: u32 after the header, then the
   * records from byte 16) into `incoming`, aligned for word reads; returns their words.
   */
  private copyIn(data: Buffer, recordWords: number): number {
    const words = data.readUInt32LE(frameHeaderBytes) * recordWords;
    if (this.incoming.length < words) this.incoming = new Uint32Array(words);
    const body = frameHeaderBytes + 8;
    new Uint8Array(this.incoming.buffer).set(data.subarray(body, body + words * 4));
    return words;
  }

  /**
   * Adds `event` to the command's events. The first makes an array of one: a push onto the
   * empty one grew it to 16 slots (144 bytes a command, for the one event most commands have).
   */
  private take(open: Pending, event: EventRecord): void {
    if (open.events.length === 0) open.events = [event];
    else open.events.push(event);
  }

  private finish(): void {
    const open = this.open;
    const seq = this.openSeq;
    this.open = null;
    this.openSeq = -1;
    if (open !== null) this.sink.answer(seq, open);
  }
}
