/**
 * Writes events into the caller's event buffer, stamping each with the header of the command
 * being decided (sequence, timestamp, client id and seq, command kind, tif, stp).
 *
 * The first event of a client command gets the Head flag; when the command is new to the
 * idempotency window it also gets Record, so apply remembers its outcome, and when the command
 * is flagged Linked it also gets Linked, so a reader of the journal sees where chains end. A
 * recorded head also carries the command's fingerprint (fingerprint.ts), which apply remembers
 * with the outcome: replicas learn it from the event, as they learn everything. Every
 * event is written whole (unused fields zeroed), so the bytes of an event depend only on the
 * decision: replicas and the journal hash see identical records.
 */
import { assert as assertImport } from '../stdx/assert.js';
import {
  recordWordsMax as recordWordsMaxImport,
  write64 as write64Import,
} from '../stdx/records.js';
import { CommandWord, SequencedWord } from '../protocol/command-layout.js';
import {
  EventFlag,
  EventWord,
  fingerprintWord as fingerprintWordImport,
} from '../protocol/event-layout.js';
import type { RecordBuffer } from '../stdx/records.js';
import type { CommandCursor } from './cursor.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const write64: typeof write64Import = write64Import;
const fingerprintWord: typeof fingerprintWordImport = fingerprintWordImport;
const recordWordsMax: typeof recordWordsMaxImport = recordWordsMaxImport;

/** Masks a word index below recordWordsMax (records.ts says why), changing nothing. */
const wordMask = recordWordsMax - 1;

export class Emitter {
  u32: Uint32Array = new Uint32Array(0);
  private f64: Float64Array = new Float64Array(0);
  /** Index of the next event to write. */
  count = 0;
  /** Index of the first event of the current `reset`. */
  start = 0;
  capacity = 0;
  /** First word of the current command's head event when it must be recorded, else -1. */
  recordHead = -1;
  /**
   * The record the header comes from: the SequencedCommand being decided (`system` false) or,
   * for the engine's own events, only its stamp (`system` true: client fields are zero).
   */
  private source: CommandCursor | null = null;
  // The three flags below are tested with `=== true`: V8 does not track that a field only ever
  // holds booleans, so a bare `if (flag)` compiles to the generic truthiness test (false, '',
  // undetectable, number, bigint: ~12 instructions), and begin runs for every event.
  private system = false;
  private headPending = false;
  private recordPending = false;
  /** The fingerprint of the command marked for recording (markRecord). */
  private fingerprint = 0;
  /** The word of `u32` where `begin` put the recorded head's fingerprint (fingerprintWord). */
  private fingerprintAt = 0;
  private readonly eventsPerCallMax: number;

  constructor(eventsPerCallMax: number) {
    this.eventsPerCallMax = eventsPerCallMax;
  }

  /** Targets `out`, writing from event index `start`. */
  reset(out: RecordBuffer, start: number): void {
    // Store the views only when they change: a pointer store costs a GC write barrier. The
    // buffer is checked then too: a RecordBuffer's views are its own (its constructor makes
    // them), so the same `u32` is the same buffer, already checked.
    if (this.u32 !== out.u32) {
      assert(out.recordSizeBytes === EventWord.size * 4, 'emitter: event-sized records');
      assert(out.u32.length <= recordWordsMax, 'emitter: event words within recordWordsMax');
      this.u32 = out.u32;
      this.f64 = out.f64;
    }
    this.count = start;
    this.start = start;
    // Not Math.min: TurboFan took its int32 operands as doubles (~12 instructions a command).
    const end = start + this.eventsPerCallMax;
    this.capacity = out.capacity < end ? out.capacity : end;
  }

  /** Stamps the following events with the command the cursor points at (read at each begin). */
  startCommand(c: CommandCursor): void {
    if (this.source !== c) this.source = c;
    this.system = false;
    this.headPending = true;
    this.recordPending = false;
    this.recordHead = -1;
  }

  /** Stamps the following events as the engine's own (client 0), e.g. expirations. */
  startSystem(c: CommandCursor): void {
    if (this.source !== c) this.source = c;
    this.system = true;
    this.headPending = false;
    this.recordPending = false;
    this.recordHead = -1;
  }

  /**
   * Marks the current command as new: its head event will be recorded for idempotency, with
   * `fingerprint` (commandFingerprint of the command, non-zero).
   */
  markRecord(fingerprint: number): void {
    assert(fingerprint !== 0, 'emitter: a recorded command has a fingerprint');
    this.recordPending = true;
    this.fingerprint = fingerprint;
  }

  /** Whether the recorded head still carries its fingerprint (no payload was set over it). */
  headKeepsFingerprint(): boolean {
    // The word begin wrote, kept there: decideOne asks for every recorded command, and finding
    // it again from the head's kind cost ~40 instructions (a tenth of decideOne's own).
    return (this.u32[this.fingerprintAt] | 0) === this.fingerprint;
  }

  /** Starts an event and returns its first word; the caller sets the payload with `set`. */
  begin(kind: number, status: number, flags: number, ref: number): number {
    const e = this.stamp(kind, status, flags, ref);
    // Clear the eleven payload words, unrolled (TypedArray.fill is a slow runtime call).
    const f64 = this.f64;
    const d = (e + EventWord.account) >> 1;
    f64[d] = 0;
    f64[d + 1] = 0;
    f64[d + 2] = 0;
    f64[d + 3] = 0;
    f64[d + 4] = 0;
    f64[d + 5] = 0;
    f64[d + 6] = 0;
    f64[d + 7] = 0;
    f64[d + 8] = 0;
    f64[d + 9] = 0;
    f64[d + 10] = 0;
    this.putFingerprint(e, kind);
    return e;
  }

  /**
   * As `begin`, for an order's head (OrderAccepted, OrderAmended: taker-emit.ts's emitTaker),
   * whose caller sets seven payload words itself: account, id, price, quantity, amount, release
   * and aux. Only the other four are cleared (counterparty, other id, fee, counterparty fee):
   * each clearing is five instructions (index, bounds check and jump, base, store), ~35 an
   * order less than clearing all eleven. The bytes are the same as `begin` and seven `set`s.
   */
  beginOrder(kind: number, status: number, flags: number, ref: number): number {
    const e = this.stamp(kind, status, flags, ref);
    const f64 = this.f64;
    const d = (e + EventWord.counterparty) >> 1;
    f64[d] = 0; // counterparty
    f64[d + ((EventWord.otherId - EventWord.counterparty) >> 1)] = 0;
    f64[d + ((EventWord.fee - EventWord.counterparty) >> 1)] = 0;
    f64[d + ((EventWord.counterpartyFee - EventWord.counterparty) >> 1)] = 0;
    this.putFingerprint(e, kind);
    return e;
  }

  /**
   * As `begin`, for a transfer's event (Transferred, PendingCreated: ledger-decide.ts's
   * emitCommandMove), whose caller sets account, counterparty, id and amount itself: only the
   * other seven payload words are cleared (as beginOrder does for an order's head), ~20
   * instructions a transfer less. The bytes are the same as `begin` and four `set`s.
   */
  beginTransfer(kind: number, status: number, flags: number, ref: number): number {
    const e = this.stamp(kind, status, flags, ref);
    const f64 = this.f64;
    const d = (e + EventWord.otherId) >> 1;
    f64[d] = 0; // otherId
    f64[d + ((EventWord.price - EventWord.otherId) >> 1)] = 0;
    f64[d + ((EventWord.quantity - EventWord.otherId) >> 1)] = 0;
    f64[d + ((EventWord.fee - EventWord.otherId) >> 1)] = 0;
    f64[d + ((EventWord.counterpartyFee - EventWord.otherId) >> 1)] = 0;
    f64[d + ((EventWord.release - EventWord.otherId) >> 1)] = 0;
    f64[d + ((EventWord.aux - EventWord.otherId) >> 1)] = 0;
    this.putFingerprint(e, kind);
    return e;
  }

  /** After the clearing: the head's payload words are zero but this one (fingerprintWord). */
  private putFingerprint(e: number, kind: number): void {
    if (this.recordHead === e) {
      const at = e + fingerprintWord(kind);
      this.u32[at] = this.fingerprint;
      this.fingerprintAt = at;
    }
  }

  /**
   * Starts an event whose caller sets all eleven payload words itself (a Trade): as `begin`,
   * without clearing them first (~55 instructions an event). Never a command's head, which
   * carries the fingerprint in a payload word.
   */
  beginWhole(kind: number, status: number, flags: number, ref: number): number {
    assert(this.headPending === false, 'emitter: a whole event is not a head');
    return this.stamp(kind, status, flags, ref);
  }

  /** Sets a 64-bit payload field (word index from EventWord) of the event at word `e`. */
  set(e: number, word: number, value: number): void {
    write64(this.u32, (e + word) | 0, value);
  }

  /**
   * Sets a 64-bit payload field to the command's 64-bit field at CommandWord `from`, word for
   * word. For a field the decider checked (an id, or an amount below 2^53) and read as the
   * value it emits, these are the bytes `set` writes, without the double's round trip (a
   * multiply, a round and two truncations with their overflow checks, ~10 instructions).
   */
  copy(e: number, word: number, from: number): void {
    const source = this.source as CommandCursor;
    const cmd = source.u32;
    const w = source.w & wordMask;
    const u32 = this.u32;
    u32[(e + word) | 0] = cmd[w + from];
    u32[(e + (word + 1)) | 0] = cmd[w + (from + 1)];
  }

  /**
   * Sets a 64-bit payload field to the event's own sequence (the id of what the command
   * creates: an order, a transfer), copied from its header as `copy` copies a field.
   */
  setSequence(e: number, word: number): void {
    const u32 = this.u32;
    u32[(e + word) | 0] = u32[(e + EventWord.sequence) | 0];
    u32[(e + (word + 1)) | 0] = u32[(e + (EventWord.sequence + 1)) | 0];
  }

  /**
   * Writes an event's header (the command's stamp, kind, status, flags, ref); its first word.
   * Its word indexes `w + k` and `e + k` are plain adds: `w` and `e` are masked below
   * recordWordsMax (which reset and CommandCursor.point assert of the buffers). Each `(x + k) | 0`
   * (records.ts) did as much, but the longer bytecode kept stamp from being inlined (callgrind:
   * +37 instructions a command; the masks: -93, stamp inlined in every emitter of events).
   */
  private stamp(kind: number, status: number, flags: number, ref: number): number {
    assert(this.count < this.capacity, 'emitter: event buffer full');
    const source = this.source as CommandCursor;
    const cmd = source.u32;
    const w = source.w & wordMask;
    const u32 = this.u32;
    const e = (this.count * EventWord.size) & wordMask;
    this.count++;
    let allFlags = flags;
    if (this.headPending === true) {
      const record = this.recordPending === true;
      allFlags |= record ? EventFlag.Head | EventFlag.Record : EventFlag.Head;
      // CommandFlag.Linked is bit 8 of the bits word; EventFlag.Linked is 64.
      allFlags |= (cmd[w + CommandWord.bits] >>> 2) & EventFlag.Linked;
      if (record) this.recordHead = e;
      this.headPending = false;
    }
    u32[e + EventWord.sequence] = cmd[w + SequencedWord.sequence];
    u32[e + EventWord.sequence + 1] = cmd[w + SequencedWord.sequence + 1];
    u32[e + EventWord.timestamp] = cmd[w + SequencedWord.timestamp];
    u32[e + EventWord.timestamp + 1] = cmd[w + SequencedWord.timestamp + 1];
    const system = this.system === true;
    const bits = system ? 0 : cmd[w + CommandWord.bits];
    if (system) {
      u32[e + EventWord.clientSeq] = 0;
      u32[e + EventWord.clientSeq + 1] = 0;
      u32[e + EventWord.clientId] = 0;
    } else {
      u32[e + EventWord.clientSeq] = cmd[w + CommandWord.clientSeq];
      u32[e + EventWord.clientSeq + 1] = cmd[w + CommandWord.clientSeq + 1];
      u32[e + EventWord.clientId] = cmd[w + CommandWord.clientId];
    }
    u32[e + EventWord.kindStatus] = kind | ((bits & 0xff) << 8) | (status << 16);
    u32[e + EventWord.flagsTifStp] = allFlags | ((bits >>> 16) << 16);
    u32[e + EventWord.ref] = ref;
    return e;
  }

  /** Drops every event written after index `count` (a linked chain that failed). */
  rewind(count: number): void {
    assert(count <= this.count, 'emitter: rewind moves back');
    assert(count >= this.start, 'emitter: rewind stays in this call');
    this.count = count;
  }
}
