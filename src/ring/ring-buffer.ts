/**
 * A ring of fixed-size slots in a SharedArrayBuffer, shared between threads. `create` allocates
 * it (start-up only); `attach` wraps a buffer received from another thread. Slots are read and
 * written through `records` (typed-array views, no copies); the header holds the sequences.
 */
import { assert } from '../stdx/assert.js';
import { RecordBuffer } from '../stdx/records.js';
import {
  consumerWord,
  distance,
  headerBytes,
  ringBytes,
  ringMagic,
  RingWord,
} from './ring-layout.js';

export interface RingSpec {
  slotCount: number;
  slotSizeBytes: number;
  consumers: number;
  /** Extra slots after the end for a producer's group that wraps (see ring-layout.ts). */
  spill: number;
}

export class RingBuffer {
  readonly buffer: SharedArrayBuffer;
  readonly header: Int32Array;
  /** Slots 0 .. slotCount + spill - 1, as records. */
  readonly records: RecordBuffer;
  readonly slotCount: number;
  readonly mask: number;
  readonly slotSizeBytes: number;
  readonly consumers: number;
  readonly spill: number;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.header = new Int32Array(buffer, 0, RingWord.consumer0);
    assert(this.header[RingWord.magic] === ringMagic, 'ring: not a ring buffer');
    this.slotCount = this.header[RingWord.slotCount];
    this.mask = this.slotCount - 1;
    this.slotSizeBytes = this.header[RingWord.slotSizeBytes];
    this.consumers = this.header[RingWord.consumerCount];
    this.spill = this.header[RingWord.spillCount];
    this.header = new Int32Array(buffer, 0, headerBytes(this.consumers) / 4);
    this.records = new RecordBuffer(
      buffer,
      headerBytes(this.consumers),
      this.slotCount + this.spill,
      this.slotSizeBytes,
    );
  }

  /** Allocates a ring; every sequence starts at -1 (nothing published, nothing consumed). */
  static create(spec: RingSpec): RingBuffer {
    const buffer = new SharedArrayBuffer(
      ringBytes(spec.slotCount, spec.slotSizeBytes, spec.consumers, spec.spill),
    );
    const header = new Int32Array(buffer, 0, headerBytes(spec.consumers) / 4);
    header[RingWord.magic] = ringMagic;
    header[RingWord.slotCount] = spec.slotCount;
    header[RingWord.slotSizeBytes] = spec.slotSizeBytes;
    header[RingWord.consumerCount] = spec.consumers;
    header[RingWord.spillCount] = spec.spill;
    header[RingWord.cursor] = -1;
    for (let i = 0; i < spec.consumers; i++) header[consumerWord(i)] = -1;
    return new RingBuffer(buffer);
  }

  /** Wraps a ring created by `create`, usually in another thread. */
  static attach(buffer: SharedArrayBuffer): RingBuffer {
    return new RingBuffer(buffer);
  }

  /** Slot index of `sequence`. */
  slot(sequence: number): number {
    return sequence & this.mask;
  }

  /**
   * Makes the ring new again for its next parties, once every party of the last ones has ended
   * (a cluster member lends its rings to each node it starts): nothing published, nothing
   * consumed, nobody asleep, not halted. The slots keep their old bytes: none is read before it
   * is written again.
   */
  reset(): void {
    const header = this.header;
    Atomics.store(header, RingWord.cursor, -1);
    Atomics.store(header, RingWord.cursorSleepers, 0);
    for (let i = 0; i < this.consumers; i++) {
      Atomics.store(header, consumerWord(i), -1);
      Atomics.store(header, consumerWord(i) + 1, 0); // its sleepers
    }
    Atomics.store(header, RingWord.halt, 0);
    assert(Atomics.load(header, RingWord.cursor) === -1, 'ring: reset to nothing published');
  }

  /** Asks every party of the ring to stop waiting and return (shutdown). */
  halt(): void {
    Atomics.store(this.header, RingWord.halt, 1);
    Atomics.notify(this.header, RingWord.cursor);
    for (let i = 0; i < this.consumers; i++) Atomics.notify(this.header, consumerWord(i));
  }

  halted(): boolean {
    return Atomics.load(this.header, RingWord.halt) === 1;
  }

  /** Slots published and not yet released by consumer `i` (wrap-aware; for /metrics). */
  consumerLag(i: number): number {
    assert(i >= 0, 'ring: consumer index');
    assert(i < this.consumers, 'ring: consumer exists');
    const cursor = Atomics.load(this.header, RingWord.cursor);
    return distance(cursor, Atomics.load(this.header, consumerWord(i)));
  }

  /** Slots published and not yet released by the slowest consumer (wrap-aware). */
  occupancy(): number {
    const cursor = Atomics.load(this.header, RingWord.cursor);
    let most = 0;
    for (let i = 0; i < this.consumers; i++) {
      const consumed = Atomics.load(this.header, consumerWord(i));
      most = Math.max(most, distance(cursor, consumed));
    }
    return most;
  }
}
