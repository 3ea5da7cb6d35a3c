/**
 * The ResultsOnly frames of one session whose results are still to come, as client seq ranges
 * in the order the frames were accepted (docs/PROTOCOL.md, "Results instead of events"):
 *
 *   accepted ResultsOnly frames:  [f0 .. l0] [f1 .. l1] [f2 .. l2] ...   (a ring, at most N)
 *   an event of client seq q is durable: drop the ranges that end before q; the command is
 *   ResultsOnly when the first range left holds q.
 *
 * A session's commands reach the engine, and their events come back, in the order its frames
 * were accepted; client seqs increase (the SDK's do), so ranges are used up from the front.
 * A client whose seqs go back gets Events for some ResultsOnly commands, or a Results record
 * for some others: another format than it asked for, never a lost or a doubled answer.
 */
import { resultRangesPerSessionMax } from '../constants.js';
import { CommandWord } from '../protocol/command-layout.js';
import type { BatchSpan } from '../protocol/frames.js';
import { readU64At } from '../stdx/records.js';

const clientSeqByte = CommandWord.clientSeq * 4;
const commandBytes = CommandWord.size * 4;

export class ResultRanges {
  private readonly first = new Float64Array(resultRangesPerSessionMax);
  private readonly last = new Float64Array(resultRangesPerSessionMax);
  private head = 0;
  private size = 0;

  /**
   * Notes an accepted frame's commands (verified span of `view`) as ResultsOnly. False when
   * the ring is full or the frame's seqs go down: its commands are answered with Events.
   */
  add(view: DataView, span: BatchSpan): boolean {
    const first = readU64At(view, span.start + clientSeqByte);
    const last = readU64At(view, span.start + (span.count - 1) * commandBytes + clientSeqByte);
    const capacity = this.first.length;
    if (this.size === capacity || last < first) return false;
    const at = (this.head + this.size) % capacity;
    this.first[at] = first;
    this.last[at] = last;
    this.size++;
    return true;
  }

  isEmpty(): boolean {
    return this.size === 0;
  }

  /** Whether the command of client seq `seq` (its head event, or one after it) is ResultsOnly. */
  covers(seq: number): boolean {
    while (this.size > 0 && this.last[this.head] < seq) {
      this.head = (this.head + 1) % this.first.length;
      this.size--;
    }
    return this.size > 0 && this.first[this.head] <= seq;
  }
}
