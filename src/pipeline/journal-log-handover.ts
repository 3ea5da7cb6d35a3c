/**
 * The hand-over between the journal writer and its log's applier (journal-log.ts): a ring of
 * bytes in shared memory, allocated once, into which the writer copies each batch right after
 * the log's append made it durable, so that the applier stores it in LMDB from memory instead
 * of reading the record back from the file (a read, a CRC-32 over it and an array per record,
 * on the core the processor and the writer share: bench/RESULTS.md, forty-fifth session).
 *
 *   ring: [entry r][entry r+1][pad] ... [free] ...
 *          ^ freed: the applier's, moved after its LMDB transaction took the entries before it
 *                                        ^ written: the writer's, moved after each copy
 *
 * An entry: its record's number, the log's offset after that record, the batch's first
 * sequence and timestamp (float64 each), the batch's length (uint32, then 4 bytes of padding),
 * then the batch, padded to 8 bytes. An entry that would pass the ring's end starts at 0; the
 * bytes skipped hold a pad entry (record 0) when a header fits there. Both positions only grow
 * (bytes since the start, below 2^53), so `written - freed` is what the applier has yet to free.
 *
 * The file stays the truth: a batch that finds no room (the applier behind by a whole ring,
 * or a batch larger than the ring) is not handed over, and the applier reads its record from
 * the file, as it did for every record before (counted: ProgressSlot.journalLogFileReads).
 * Entries are in record order, so the applier finds its next record at its cursor or not at
 * all.
 */
import { assert } from '../stdx/assert.js';

const enum EntryWord {
  record = 0, // float64 words
  afterOffset = 1,
  firstSequence = 2,
  timestamp = 3,
  length = 8, // uint32 word
}
const headerBytes = 40;

/** The two positions, as float64 slots of the log's shared words (journal-log.ts LogSlot). */
export interface HandOverSlots {
  readonly slots: Float64Array;
  readonly writtenAt: number;
  readonly freedAt: number;
}

function entryBytes(length: number): number {
  return headerBytes + ((length + 7) & ~7);
}

/** The ring's views (each side makes its own, once). */
class HandOverRing {
  readonly size: number;
  readonly f64: Float64Array;
  readonly u32: Uint32Array;
  readonly u8: Uint8Array;

  constructor(
    buffer: SharedArrayBuffer,
    readonly at: HandOverSlots,
  ) {
    assert(buffer.byteLength % 8 === 0, 'hand-over: its size is a multiple of 8');
    assert(buffer.byteLength >= headerBytes, 'hand-over: a header fits');
    this.size = buffer.byteLength;
    this.f64 = new Float64Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.u8 = new Uint8Array(buffer);
  }
}

/** The writer's side: offers each appended batch. */
export class HandOverWriter {
  private readonly ring: HandOverRing;
  private written = 0;

  constructor(buffer: SharedArrayBuffer, at: HandOverSlots) {
    this.ring = new HandOverRing(buffer, at);
    this.written = at.slots[at.writtenAt];
  }

  /**
   * Copies `bytes` (the batch record `record` holds, the log's offset `afterOffset` after it)
   * into the ring; false, with nothing written, when it has no room. The caller publishes
   * (an Atomics.add the applier loads) after this and before the applier may look for it.
   */
  offer(
    record: number,
    afterOffset: number,
    firstSequence: number,
    timestamp: number,
    bytes: Uint8Array,
  ): boolean {
    const ring = this.ring;
    const need = entryBytes(bytes.length);
    const at = this.written % ring.size;
    const skip = at + need > ring.size ? ring.size - at : 0;
    const freed = ring.at.slots[ring.at.freedAt];
    if (this.written + skip + need - freed > ring.size) return false;
    if (skip >= headerBytes) ring.f64[at / 8 + EntryWord.record] = 0; // a pad entry
    const start = (this.written + skip) % ring.size;
    const word = start / 8;
    ring.f64[word + EntryWord.record] = record;
    ring.f64[word + EntryWord.afterOffset] = afterOffset;
    ring.f64[word + EntryWord.firstSequence] = firstSequence;
    ring.f64[word + EntryWord.timestamp] = timestamp;
    ring.u32[word * 2 + EntryWord.length] = bytes.length;
    ring.u8.set(bytes, start + headerBytes);
    this.written += skip + need;
    ring.at.slots[ring.at.writtenAt] = this.written;
    return true;
  }
}

/**
 * The applier's side: finds records at its cursor, and frees what it took once LMDB holds it.
 * Views it returns stay valid until free() (the writer writes no byte of them before).
 */
export class HandOverReader {
  private readonly ring: HandOverRing;
  private cursor = 0;
  /** The entry find() last returned: its batch's first sequence and timestamp, its mark. */
  firstSequence = 0;
  timestamp = 0;
  afterOffset = 0;

  constructor(buffer: SharedArrayBuffer, at: HandOverSlots) {
    this.ring = new HandOverRing(buffer, at);
    this.cursor = at.slots[at.freedAt];
  }

  /**
   * The batch of record `record` if it was handed over (then the cursor moves past it and the
   * fields above describe it), else null: the record is the file's to give.
   */
  find(record: number): Uint8Array | null {
    const ring = this.ring;
    const written = ring.at.slots[ring.at.writtenAt];
    for (; this.cursor < written;) {
      const at = this.cursor % ring.size;
      const rest = ring.size - at;
      const word = at / 8;
      if (rest < headerBytes || ring.f64[word + EntryWord.record] === 0) {
        this.cursor += rest; // the ring's end: the next entry is at 0
        continue;
      }
      const found = ring.f64[word + EntryWord.record];
      if (found > record) return null; // not handed over: the writer had no room for it
      const length = ring.u32[word * 2 + EntryWord.length];
      assert(at + entryBytes(length) <= ring.size, 'hand-over: an entry within the ring');
      this.cursor += entryBytes(length);
      if (found < record) continue; // taken from the file already (seen late): passed over
      this.firstSequence = ring.f64[word + EntryWord.firstSequence];
      this.timestamp = ring.f64[word + EntryWord.timestamp];
      this.afterOffset = ring.f64[word + EntryWord.afterOffset];
      return ring.u8.subarray(at + headerBytes, at + headerBytes + length);
    }
    return null;
  }

  /** The writer may reuse every byte before the cursor (LMDB holds what it held). */
  free(): void {
    this.ring.at.slots[this.ring.at.freedAt] = this.cursor;
  }
}
