/**
 * The command being decided: a SequencedCommand record in some buffer (a ring slot, a chain
 * copy, a bench array). One instance, shared by the deciders and repointed by the engine for each
 * command, so that deciding passes no arguments around. The stamp is read here, once, into a
 * typed array: doubles never cross a call boundary, so nothing is boxed.
 */
import { assert as assertImport } from '../stdx/assert.js';
import { recordWordsMax as recordWordsMaxImport } from '../stdx/records.js';
import { CommandWord, SequencedWord } from '../protocol/command-layout.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const recordWordsMax: typeof recordWordsMaxImport = recordWordsMaxImport;

export class CommandCursor {
  u32: Uint32Array = new Uint32Array(SequencedWord.size);
  /** Word index of the record's first word in `u32`. */
  w = 0;
  /** [sequence, timestamp] of the record. */
  readonly clock = new Float64Array(2);

  point(u32: Uint32Array, w: number): void {
    // A pointer store costs a GC write barrier: only when the buffer changes.
    if (this.u32 !== u32) {
      assert(u32.length <= recordWordsMax, 'cursor: command words within recordWordsMax');
      this.u32 = u32;
    }

    this.w = w;
    // `(w + (k + 1)) | 0`, not `(w + k + 1) | 0`: the inner `w + k` would be a checked add.
    this.clock[0] =
      u32[(w + (SequencedWord.sequence + 1)) | 0] * 4294967296 +
      u32[(w + SequencedWord.sequence) | 0];
    this.clock[1] =
      u32[(w + (SequencedWord.timestamp + 1)) | 0] * 4294967296 +
      u32[(w + SequencedWord.timestamp) | 0];
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
      this.u32[(this.w + (CommandWord.clientSeq + 1)) | 0] * 4294967296 +
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
