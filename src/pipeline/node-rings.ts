/**
 * A node's two rings (node.ts draws them): commands in, from the main thread to the processor,
 * and events out, from the processor to the journal writer, the publisher and the snapshotter.
 *
 * A node allocates its own as it starts, unless it is lent a stopped node's: a cluster member
 * starts a new node at every demotion (cluster-node.ts), on the rings of the one it stopped,
 * so its first node's rings serve every later one, reset in between. When each node allocated
 * its own, the last one's (33 MB, resident once the load had gone round them) waited for the
 * main thread's next full collection, which a SharedArrayBuffer does not hasten and a small
 * main heap seldom needs: a member under load held several nodes' worth at a time.
 */
import {
  eventSizeBytes,
  eventsPerCommandMax,
  inputRingSlotCount,
  outputRingSlotCount,
  type EngineConfig,
} from '../constants.js';
import { SequencedWord } from '../protocol/command-layout.js';
import { RingBuffer } from '../ring/ring-buffer.js';
import { assert } from '../stdx/assert.js';

export class NodeRings {
  readonly input: RingBuffer;
  readonly output: RingBuffer;

  /** Allocates both (start-up only); `inputSlots`: a power of two (tests make it small). */
  constructor(config: EngineConfig, inputSlots: number = inputRingSlotCount) {
    this.input = RingBuffer.create({
      slotCount: inputSlots,
      slotSizeBytes: SequencedWord.size * 4,
      consumers: 1,
      spill: 0,
    });
    this.output = RingBuffer.create({
      slotCount: outputRingSlotCount,
      slotSizeBytes: eventSizeBytes,
      consumers: 3, // journal writer, publisher, snapshotter
      spill: eventsPerCommandMax(config),
    });
  }

  /**
   * Readies both for a node of `config`. Lent again, they are reset: the caller has stopped the
   * node they served (its stop() resolved: its workers and publisher have ended, and its input
   * port takes nothing more).
   */
  lendTo(config: EngineConfig): void {
    assert(this.output.spill === eventsPerCommandMax(config), 'rings: sized for the config');
    this.input.reset();
    this.output.reset();
  }
}
