/**
 * One instrument's last book frames, kept for the subscribers to come and written in place:
 * each view of a book built two new frames (depth and top of book), and its topics were
 * strings built per view. The buffers are allocated when the instrument's books are first
 * watched (at most instrumentCountMax of them); each frame length has its view, made then too,
 * for uWS to copy from.
 */
import { bookDepthLevels } from '../constants.js';
import { bookBodyBytes, bookLevelBytes, frameHeaderBytes, StreamKind } from '../protocol/frames.js';
import { writeBookFrame } from '../protocol/book-frame.js';

/** A frame buffer of up to `depth` levels per side, and a view of each length it may have. */
class FrameBuffer {
  readonly view: DataView;
  /** By levels in the frame (bids + asks). */
  private readonly lengths: Uint8Array[] = [];
  /** The frame written last: a view of `bytes` (null before the first). */
  frame: Uint8Array | null = null;

  constructor(private readonly depth: number) {
    const bytes = new Uint8Array(frameHeaderBytes + bookBodyBytes + 2 * depth * bookLevelBytes);
    this.view = new DataView(bytes.buffer);
    for (let n = 0; n <= 2 * depth; n++) {
      this.lengths.push(bytes.subarray(0, frameHeaderBytes + bookBodyBytes + n * bookLevelBytes));
    }
  }

  /** Writes the frame of a view; it is `frame` then. */
  write(
    kind: StreamKind,
    instrument: number,
    sequence: number,
    levels: Float64Array,
    halted: boolean,
  ) {
    const end = writeBookFrame(this.view, kind, instrument, sequence, levels, halted, this.depth);
    this.frame = this.lengths[(end - frameHeaderBytes - bookBodyBytes) / bookLevelBytes];
    return this.frame;
  }
}

export class BookFrames {
  readonly depth = new FrameBuffer(bookDepthLevels);
  /** Top of book's last frame, and the one before it (compared: sent only when they differ). */
  top = new FrameBuffer(1);
  before = new FrameBuffer(1);

  /** Swaps `top` and `before`: the frame written next is compared with the last. */
  turn(): void {
    const last = this.top;
    this.top = this.before;
    this.before = last;
  }
}
