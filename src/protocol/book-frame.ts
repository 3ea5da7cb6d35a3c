/**
 * Book frames (docs/PROTOCOL.md, "Subscriptions"): one view of a book, written by the gateway
 * from the read model's `bookLevels` layout and read by the SDK.
 *
 * The header's flags say whether the book is halted (BookFlag).
 *
 *   8        12     14     16         24
 *   +--------+------+------+----------+----------------------------------------+
 *   | instr. | bids | asks | sequence | levels: price f64, quantity f64,       |
 *   | u32    | u16  | u16  | f64      | orders u32, reserved u32; bids best    |
 *   |        |      |      |          | first, then asks best first            |
 *   +--------+------+------+----------+----------------------------------------+
 */
import {
  bookBodyBytes,
  bookLevelBytes,
  FrameType,
  frameHeaderBytes,
  StreamKind,
  topicRequestId,
  writeHeader,
} from './frames.js';

export interface BookLevel {
  price: number;
  quantity: number;
  orders: number;
}

export interface BookView {
  instrument: number;
  /** The durable sequence the view is consistent at. */
  sequence: number;
  /** Best first. */
  bids: BookLevel[];
  /** Best first. */
  asks: BookLevel[];
  /** Halted: its orders stay, only cancels are taken (place and amend are rejected). */
  halted: boolean;
}

/** Bits of a Book frame's header flags. */
export const enum BookFlag {
  /** The book is halted: it keeps its orders and takes cancels only, until resumed. */
  Halted = 1,
}

/** A book's view as the read model publishes it (`levels`: the `bookLevels` layout). */
export interface BookSource {
  instrument: number;
  sequence: number;
  levels: Float64Array;
  halted: boolean;
}

/** Bytes of a Book frame of the best `depth` levels per side of `levels` (bookLevels layout). */
export function bookFrameBytes(levels: Float64Array, depth: number): number {
  const count = Math.min(depth, levels[0]) + Math.min(depth, levels[1]);
  return frameHeaderBytes + bookBodyBytes + count * bookLevelBytes;
}

/** A Book frame of the best `depth` levels per side of a view. */
export function bookFrame(kind: StreamKind, source: BookSource, depth: number): Uint8Array {
  const frame = new Uint8Array(bookFrameBytes(source.levels, depth));
  const { instrument, sequence, levels, halted } = source;
  writeBookFrame(new DataView(frame.buffer), kind, instrument, sequence, levels, halted, depth);
  return frame;
}

/**
 * Writes a Book frame of the best `depth` levels per side at the start of `view` (as long as
 * bookFrameBytes says, at least), and says its bytes: the gateway writes into buffers it keeps.
 */
export function writeBookFrame(
  view: DataView,
  kind: StreamKind,
  instrument: number,
  sequence: number,
  levels: Float64Array,
  halted: boolean,
  depth: number,
): number {
  const bids = Math.min(depth, levels[0]);
  const asks = Math.min(depth, levels[1]);
  writeHeader(view, 0, FrameType.Book, topicRequestId(kind), halted ? BookFlag.Halted : 0);
  view.setUint32(frameHeaderBytes, instrument, true);
  view.setUint16(frameHeaderBytes + 4, bids, true);
  view.setUint16(frameHeaderBytes + 6, asks, true);
  view.setFloat64(frameHeaderBytes + 8, sequence, true);
  let at = frameHeaderBytes + bookBodyBytes;
  at = writeLevels(view, at, levels, 0, bids);
  at = writeLevels(view, at, levels, levels[0], asks);
  return at;
}

/** Writes `n` levels of `levels` from level `first` at byte `at`; the byte after them. */
function writeLevels(
  view: DataView,
  at: number,
  levels: Float64Array,
  first: number,
  n: number,
): number {
  for (let i = first; i < first + n; i++) {
    view.setFloat64(at, levels[2 + i * 3], true);
    view.setFloat64(at + 8, levels[3 + i * 3], true);
    view.setUint32(at + 16, levels[4 + i * 3], true);
    at += bookLevelBytes;
  }
  return at;
}

/** Whether a Book frame holds its body and every level its counts name. */
export function bookFrameFits(frame: Uint8Array): boolean {
  if (frame.byteLength < frameHeaderBytes + bookBodyBytes) return false;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const levels =
    view.getUint16(frameHeaderBytes + 4, true) + view.getUint16(frameHeaderBytes + 6, true);
  return frame.byteLength >= frameHeaderBytes + bookBodyBytes + levels * bookLevelBytes;
}

/** A Book frame, decoded. @throws RangeError when it is shorter than it says. */
export function readBookFrame(frame: Uint8Array): BookView {
  if (!bookFrameFits(frame)) throw new RangeError('Book frame shorter than its level counts');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const bids = view.getUint16(frameHeaderBytes + 4, true);
  const asks = view.getUint16(frameHeaderBytes + 6, true);
  let at = frameHeaderBytes + bookBodyBytes;
  const level = (): BookLevel => {
    const l = {
      price: view.getFloat64(at, true),
      quantity: view.getFloat64(at + 8, true),
      orders: view.getUint32(at + 16, true),
    };
    at += bookLevelBytes;
    return l;
  };
  return {
    instrument: view.getUint32(frameHeaderBytes, true),
    sequence: view.getFloat64(frameHeaderBytes + 8, true),
    bids: Array.from({ length: bids }, level),
    asks: Array.from({ length: asks }, level),
    halted: (view.getUint16(2, true) & BookFlag.Halted) !== 0,
  };
}
