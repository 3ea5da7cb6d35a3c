/**
 * The command being decided: a SequencedCommand record in some buffer (a ring slot, a chain
 * copy, a bench array). One instance, shared by the deciders and repointed by the engine for each
 * command, so that deciding passes no arguments around. The stamp is read here, once, into a
 * typed array: doubles never cross a call boundary, so nothing is boxed.
 */
import { CommandWord, SequencedWord } from '../protocol/command-layout.js';

export class CommandCursor {
  u32: Uint32Array = new Uint32Array(SequencedWord.size);
  /** Word index of the record's first word in `u32`. */
  w = 0;
  /** [sequence, timestamp] of the record. */
  readonly clock = new Float64Array(2);

  point(u32: Uint32Array, w: number): void {
    if (this.u32 !== u32) this.u32 = u32; // a pointer store costs a GC write barrier

    this.w = w;
    this.clock[0] =
      u32[w + SequencedWord.sequence + 1] * 4294967296 + u32[w + SequencedWord.sequence];
    this.clock[1] =
      u32[w + SequencedWord.timestamp + 1] * 4294967296 + u32[w + SequencedWord.timestamp];
  }

  /**
   * One 32-bit word of the command, by CommandWord index. Indices here are `| 0` (records.ts
   * says why): the record starts below word 2^31.
   */
  word(index: number): number {
    return this.u32[(this.w + index) | 0];
  }

  clientSeq(): number {
    return (
      this.u32[(this.w + CommandWord.clientSeq + 1) | 0] * 4294967296 +
      this.u32[(this.w + CommandWord.clientSeq) | 0]
    );
  }

  kind(): number {
    return this.u32[(this.w + CommandWord.bits) | 0] & 0xff;
  }

  flags(): number {
    return (this.u32[(this.w + CommandWord.bits) | 0] >>> 8) & 0xff;
  }
}
