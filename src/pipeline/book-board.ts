/**
 * The book views the read model publishes (snapshot worker) for the gateway (main thread), in
 * shared memory laid out once at start-up: a view crossed postMessage as an object with a new
 * Float64Array, cloned, for each changed book every bookPublishIntervalMs (read-model.ts). Now
 * the worker writes a changed view into its instrument's slot in place and posts one small
 * message a tick (bookNotice); the main thread reads each slot marked changed.
 *
 *   control (Int32Array), per instrument i:   data (Float64Array), per instrument i:
 *   [2i]     version: odd while written       [i*slotWords]      sequence of the view
 *   [2i + 1] changed: 1 until read            [i*slotWords + 1]  halted (1) or not (0)
 *                                             [i*slotWords + 2]  bookLevels layout: bid
 *                                                                count, ask count, (price,
 *                                                                quantity, orders) per level
 *
 * One writer (the worker) and one reader (the main thread), a seqlock per slot: the writer
 * makes the version odd, writes, makes it even again, then sets `changed`; the reader copies
 * the slot between two loads of an even version and tries again when they differ (a view
 * written meanwhile: the next notice reads it again anyway).
 */
import { bookDepthLevels } from '../constants.js';
import { assert } from '../stdx/assert.js';

/** Float64 words of a slot: sequence, halted, then the largest bookLevels layout. */
export const slotWords = 2 + 2 + 2 * bookDepthLevels * 3;
/** Words of the largest view (bookLevels layout at bookDepthLevels). */
export const viewWordsMax = slotWords - 2;
/** The one message a tick that says slots changed (posted as is: a clone of one field). */
export const bookNotice = { type: 'books' } as const;
/** A read that met a writer this many times in a row gives up until the next notice. */
const readTriesMax = 8;

export class BookBoard {
  private readonly control: Int32Array;
  private readonly data: Float64Array;
  readonly instrumentCountMax: number;
  /** The reader's: whether the view `read` copied last is of a halted book. */
  halted = false;

  /** Allocates (once) a board for `instrumentCountMax` instruments, or maps `buffer`'s. */
  constructor(instrumentCountMax: number, buffer?: SharedArrayBuffer) {
    const controlBytes = instrumentCountMax * 2 * 4;
    const bytes = controlBytes + instrumentCountMax * slotWords * 8;
    const shared = buffer ?? new SharedArrayBuffer(bytes);
    assert(shared.byteLength === bytes, 'book-board: a buffer of the board size');
    assert(controlBytes % 8 === 0, 'book-board: data is 8-byte aligned');
    this.instrumentCountMax = instrumentCountMax;
    this.control = new Int32Array(shared, 0, instrumentCountMax * 2);
    this.data = new Float64Array(shared, controlBytes, instrumentCountMax * slotWords);
  }

  get buffer(): SharedArrayBuffer {
    return this.control.buffer as SharedArrayBuffer;
  }

  /** Whether the slot holds `view` (its first `words`) and `halted`: the writer's own check. */
  holds(instrument: number, view: Float64Array, words: number, halted: boolean): boolean {
    const at = instrument * slotWords;
    if (Atomics.load(this.control, instrument * 2) === 0) return false; // never written
    if (this.data[at + 1] !== (halted ? 1 : 0)) return false;
    for (let i = 0; i < words; i++) if (this.data[at + 2 + i] !== view[i]) return false;
    return true;
  }

  /** Writes a view (its first `words`, bookLevels layout) into the slot and marks it changed. */
  write(instrument: number, sequence: number, view: Float64Array, words: number, halted: boolean) {
    assert(instrument >= 0 && instrument < this.instrumentCountMax, 'book-board: an instrument');
    assert(words >= 2 && words <= viewWordsMax, 'book-board: a view within the slot');
    const version = Atomics.add(this.control, instrument * 2, 1) + 1;
    assert((version & 1) === 1, 'book-board: one writer');
    const at = instrument * slotWords;
    this.data[at] = sequence;
    this.data[at + 1] = halted ? 1 : 0;
    for (let i = 0; i < words; i++) this.data[at + 2 + i] = view[i];
    Atomics.store(this.control, instrument * 2, version + 1);
    Atomics.store(this.control, instrument * 2 + 1, 1);
  }

  /** Whether the slot changed since it was last taken; clears the mark. */
  takeChanged(instrument: number): boolean {
    return Atomics.exchange(this.control, instrument * 2 + 1, 0) === 1;
  }

  /**
   * Copies the slot's view into `into` (viewWordsMax words at least; valid until the next
   * read into it) and returns its sequence, with `halted` set from it; or -1 when a writer
   * kept the slot busy (it marks it changed again: read at the next notice).
   */
  read(instrument: number, into: Float64Array): number {
    assert(into.length >= viewWordsMax, 'book-board: room for a view');
    const at = instrument * slotWords;
    for (let t = 0; t < readTriesMax; t++) {
      const before = Atomics.load(this.control, instrument * 2);
      if ((before & 1) === 1) continue;
      const sequence = this.data[at];
      const halted = this.data[at + 1] === 1;
      const words = 2 + (this.data[at + 2] + this.data[at + 3]) * 3;
      for (let i = 0; i < words && i < viewWordsMax; i++) into[i] = this.data[at + 2 + i];
      if (Atomics.load(this.control, instrument * 2) !== before) continue;
      this.halted = halted;
      return sequence;
    }
    return -1;
  }
}
