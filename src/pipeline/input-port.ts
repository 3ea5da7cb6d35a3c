/**
 * The main thread's producer side of the input ring (the gateway's, later): claim slots, write
 * Command structs into them, publish. The main thread must never block, so waiting for room is
 * asynchronous (Atomics.waitAsync on the processor's sequence).
 */
import { commandSizeBytes, ringSleepMs } from '../constants.js';
import { assert } from '../stdx/assert.js';
import { SequencedWord } from '../protocol/command-layout.js';
import type { RingBuffer } from '../ring/ring-buffer.js';
import { Sequencer } from '../ring/sequencer.js';
import { consumerWord } from '../ring/ring-layout.js';
import type { WaitStrategy } from '../ring/wait-strategy.js';

export class InputPort {
  readonly ring: RingBuffer;
  private readonly sequencer: Sequencer;
  private readonly words: number;
  /** Its node stopped: it takes nothing more (the ring may serve a next node: node-rings.ts). */
  private retired = false;

  constructor(ring: RingBuffer, wait: WaitStrategy) {
    assert(ring.slotSizeBytes === SequencedWord.size * 4, 'input: slots hold sequenced commands');
    this.ring = ring;
    this.sequencer = new Sequencer(ring, wait);
    this.words = ring.slotSizeBytes >> 2;
  }

  /** True when `n` more commands fit now (never once retired). */
  hasRoom(n: number): boolean {
    return !this.retired && this.sequencer.hasRoom(n);
  }

  /** Resolves once `n` commands fit (or the ring halted, or the port retired: then false). */
  async waitRoom(n: number): Promise<boolean> {
    while (!this.hasRoom(n)) {
      if (this.retired || this.ring.halted()) return false;
      this.sequencer.publish();
      const header = this.ring.header;
      const seen = Atomics.load(header, consumerWord(0));
      Atomics.add(header, consumerWord(0) + 1, 1);
      const result = Atomics.waitAsync(header, consumerWord(0), seen, ringSleepMs);
      if (result.async) await result.value;
      Atomics.sub(header, consumerWord(0) + 1, 1);
    }
    return true;
  }

  /**
   * Word offset in `ring.records.u32` of the next free slot, where the caller writes one Command
   * (64 bytes); `commit()` takes it. Call only after `hasRoom(1)`.
   */
  claim(): number {
    assert(!this.retired, 'input: a stopped node takes no command');
    return this.ring.slot(this.sequencer.nextSequence()) * this.words;
  }

  /** Copies a 64-byte Command from `bytes` at `offset` into the next slot and takes it. */
  put(bytes: Uint8Array, offset: number): void {
    const at = this.claim() * 4;
    this.ring.records.u8.set(bytes.subarray(offset, offset + commandSizeBytes), at);
    this.commit();
  }

  commit(): void {
    this.sequencer.advance(1);
  }

  /** Makes every taken slot visible to the processor (end of batch). */
  publish(): void {
    if (!this.retired) this.sequencer.publish();
  }

  /**
   * Its node stops, once it has published what it took: from now on there is never room, and
   * nothing is published, whoever still holds the port (the ring may serve a next node).
   */
  retire(): void {
    this.publish();
    this.retired = true;
  }
}
