/**
 * The SDK's batches in flight (BourseClient.submitBatch). A batch's commands take contiguous
 * client seqs and go out in the same frames as single commands; the batch is one promise, and
 * each command's answer is two numbers written into the batch's typed arrays: no promise, no
 * closure and no event object per command, which is what a client spends its time on when it
 * streams (a profile of bench:e2e's clients: a third of their time in GC).
 *
 *   submitBatch ─► seqs [first, first + count) ─► frames (≤ commandsPerFrameMax each)
 *   Events frames ─► head event of seq s ─► status[s - first], sequence[s - first]
 *                                           └─ the last one answered resolves the batch
 *
 * A command is answered once: a repeat (a frame sent again after a reconnect) is ignored.
 * A frame refused as a whole (any Error but Busy, which is retried) rejects the batch at once;
 * the batch stays here until its other commands are answered, so that their frames are still
 * counted and forgotten.
 */
import { assert } from '../stdx/assert.js';
import { ClientError } from './session.js';

/** What a batch resolves with. Command i of the batch has client seq firstClientSeq + i. */
export interface BatchResult {
  readonly count: number;
  readonly firstClientSeq: number;
  /** Per command: its status (0 is Ok; statusName() names the others). */
  readonly status: Uint16Array;
  /**
   * Per command: the journal sequence of its first event (its head): for an accepted
   * PlaceOrder, Transfer or TransferPending, the id of the order or transfer it made. A command
   * sent again after a drop and recognised as a repeat is answered, with its original status,
   * by an event of its own (`kind` Duplicate): this is that event's sequence, not the id.
   */
  readonly sequence: Float64Array;
  /**
   * Per command: the kind of its head event (EventKind): Duplicate for a repeat, Rejected for
   * a rejection, else the command's own (OrderAccepted, Transferred, ...).
   */
  readonly kind: Uint8Array;
  /** Commands whose status is not Ok. */
  rejected: number;
}

/** One result for consecutive batches (a large batch sent in parts), in their order. */
export function joinResults(parts: readonly BatchResult[]): BatchResult {
  let count = 0;
  for (const p of parts) count += p.count;
  const status = new Uint16Array(count);
  const sequence = new Float64Array(count);
  const kind = new Uint8Array(count);
  let at = 0;
  let rejected = 0;
  for (const p of parts) {
    status.set(p.status, at);
    sequence.set(p.sequence, at);
    kind.set(p.kind, at);
    at += p.count;
    rejected += p.rejected;
  }
  const firstClientSeq = parts[0]?.firstClientSeq ?? 0;
  return { count, firstClientSeq, status, sequence, kind, rejected };
}

/** The result of an empty batch (its first client seq: the next call's). */
export function noResults(firstClientSeq: number): BatchResult {
  const none = { status: new Uint16Array(0), sequence: new Float64Array(0) };
  return { count: 0, firstClientSeq, ...none, kind: new Uint8Array(0), rejected: 0 };
}

/** `error` naming client seq `seq` (a ClientError's copy; any other error as it is). */
function ofSeq(error: Error, seq: number): Error {
  if (!(error instanceof ClientError)) return error;
  return new ClientError(error.code, error.message, error.mayHaveApplied, seq);
}

/** Status slot of a command not answered yet (no status code comes near it). */
const unanswered = 0xffff;
/** Status slot of a command whose frame was refused (its batch is rejected, never resolved). */
const refused = 0xfffe;

interface InFlightBatch {
  readonly result: BatchResult;
  /** Request id of the frame that carries each command (set when the frame is sent). */
  readonly frames: Uint32Array;
  /**
   * The client seqs it holds, from its first: its count, unless the SDK gave up on the later
   * ones (busy-give-up.ts), which the next calls then take.
   */
  span: number;
  left: number;
  failed: boolean;
  readonly resolve: (result: BatchResult) => void;
  readonly reject: (error: Error) => void;
}

export class Batches {
  /** In flight, in client seq order (ranges never overlap). Short: window / batch size. */
  private readonly list: InFlightBatch[] = [];
  /** Commands of the batches here not yet answered: they count as in flight. */
  commands = 0;
  /**
   * The batch found last. Lookups come in seq order (a frame's commands as it is sent, then
   * their answers), so they nearly always hit it or the one after: no scan of the list.
   */
  private last: InFlightBatch | null = null;

  /** Registers a batch of `count` commands from client seq `first`; returns its promise. */
  add(first: number, count: number): Promise<BatchResult> {
    assert(count > 0, 'batches: empty batch');
    const last = this.list[this.list.length - 1];
    assert(last === undefined || last.result.firstClientSeq + last.span <= first, 'seq');
    return new Promise((resolve, reject) => {
      const status = new Uint16Array(count).fill(unanswered);
      const sequence = new Float64Array(count);
      const kind = new Uint8Array(count);
      const result = { count, firstClientSeq: first, status, sequence, kind, rejected: 0 };
      const frames = new Uint32Array(count);
      this.list.push({ result, frames, span: count, left: count, failed: false, resolve, reject });
      this.commands += count;
    });
  }

  /** The batch holding client seq `seq`, or null (a single command, or one already done). */
  private find(seq: number): InFlightBatch | null {
    const last = this.last;
    if (last !== null && seq - last.result.firstClientSeq < last.span) {
      if (seq >= last.result.firstClientSeq) return last;
    }
    for (const batch of this.list) {
      const offset = seq - batch.result.firstClientSeq;
      if (offset < 0) return null;
      if (offset < batch.span) return (this.last = batch);
    }
    return null;
  }

  /** Notes the frame that carries `seq`; false when no batch holds it. */
  setFrame(seq: number, requestId: number): boolean {
    const batch = this.find(seq);
    if (batch === null) return false;
    batch.frames[seq - batch.result.firstClientSeq] = requestId;
    return true;
  }

  /**
   * The head event of `seq` arrived (its status, sequence and kind): records it. Returns the
   * request id of its frame, or -1 when no batch holds `seq` or it was answered already.
   */
  answer(seq: number, status: number, sequence: number, kind: number): number {
    const batch = this.find(seq);
    if (batch === null) return -1;
    const i = seq - batch.result.firstClientSeq;
    if (batch.result.status[i] !== unanswered) return -1;
    batch.result.status[i] = status;
    batch.result.sequence[i] = sequence;
    batch.result.kind[i] = kind;
    if (status !== 0) batch.result.rejected++;
    this.settle(batch, 1);
    return batch.frames[i];
  }

  /** Client seqs `first`..`last` (a refused frame) fail: each batch holding one is rejected. */
  failRange(first: number, last: number, error: Error): void {
    for (let seq = first; seq <= last; seq++) {
      const batch = this.find(seq);
      if (batch === null) continue;
      const i = seq - batch.result.firstClientSeq;
      if (batch.result.status[i] !== unanswered) continue;
      batch.result.status[i] = refused;
      if (!batch.failed) batch.reject(error);
      batch.failed = true;
      this.settle(batch, 1);
    }
  }

  /**
   * Client seqs from `from` on were given up (failRange'd first): a batch that held some of
   * them holds them no more, so that the next calls may take them.
   */
  cut(from: number): void {
    for (const batch of this.list) {
      const held = from - batch.result.firstClientSeq;
      if (held >= 0 && held < batch.span) batch.span = held;
    }
  }

  /**
   * The connection is gone for good: every batch fails, each with its own error naming its
   * first client seq (ClientError.clientSeq: command i's is that + i).
   */
  failAll(error: Error): void {
    for (const batch of this.list) {
      if (!batch.failed) batch.reject(ofSeq(error, batch.result.firstClientSeq));
    }
    this.list.length = 0;
    this.commands = 0;
    this.last = null;
  }

  private settle(batch: InFlightBatch, answered: number): void {
    batch.left -= answered;
    this.commands -= answered;
    if (batch.left > 0) return;
    if (!batch.failed) batch.resolve(batch.result);
    this.list.splice(this.list.indexOf(batch), 1);
    if (this.last === batch) this.last = null;
  }
}
