import { assert as assertImport, assertRoom as assertRoomImport } from './assert.js';
import { ImageBase, pushBased, type StateImage } from './state-image.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const assertRoom: typeof assertRoomImport = assertRoomImport;

/**
 * A binary min-heap of slot indexes ordered by (key, tie), allocated once. It tracks each slot's
 * position so that any slot can be removed in O(log n). The (key, tie) order is total, so the
 * pop order depends only on the set of entries, not on the history of the heap: a replica
 * restored from a snapshot pops in the same order as one that applied every event.
 */
export class IndexHeap {
  private readonly heap: Int32Array;
  private readonly position: Int32Array;
  private readonly key: Float64Array;
  private readonly tie: Float64Array;
  size = 0;

  constructor(capacity: number) {
    assert(Number.isSafeInteger(capacity), 'index-heap: capacity must be an integer');
    assert(capacity > 0, 'index-heap: capacity must be positive');
    this.heap = new Int32Array(capacity);
    this.position = new Int32Array(capacity).fill(-1);
    this.key = new Float64Array(capacity);
    this.tie = new Float64Array(capacity);
  }

  contains(slot: number): boolean {
    return this.position[slot] >= 0;
  }

  /** The slot with the smallest (key, tie), or -1 when empty. */
  peek(): number {
    return this.size === 0 ? -1 : this.heap[0];
  }

  peekKey(): number {
    assert(this.size > 0, 'index-heap: empty');
    return this.key[this.heap[0]];
  }

  push(slot: number, key: number, tie: number): void {
    assert(this.position[slot] === -1, 'index-heap: slot already present');
    assertRoom(this.size < this.heap.length, 'index-heap: full');
    this.key[slot] = key;
    this.tie[slot] = tie;
    this.heap[this.size] = slot;
    this.position[slot] = this.size;
    this.size++;
    this.up(this.size - 1);
  }

  remove(slot: number): void {
    const at = this.position[slot];
    assert(at >= 0, 'index-heap: slot absent');
    this.size--;
    this.position[slot] = -1;
    if (at === this.size) return;
    const last = this.heap[this.size];
    this.heap[at] = last;
    this.position[last] = at;
    this.up(at);
    this.down(this.position[last]);
  }

  clear(): void {
    for (let i = 0; i < this.size; i++) this.position[this.heap[i]] = -1;
    this.size = 0;
  }

  private less(a: number, b: number): boolean {
    const ka = this.key[a];
    const kb = this.key[b];
    return ka < kb || (ka === kb && this.tie[a] < this.tie[b]);
  }

  private up(at: number): void {
    const heap = this.heap;
    const slot = heap[at];
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = heap[parentAt];
      if (!this.less(slot, parent)) break;
      heap[at] = parent;
      this.position[parent] = at;
      at = parentAt;
    }
    heap[at] = slot;
    this.position[slot] = at;
  }

  private down(at: number): void {
    const heap = this.heap;
    const slot = heap[at];
    for (;;) {
      let child = 2 * at + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.less(heap[child + 1], heap[child])) child++;
      if (!this.less(heap[child], slot)) break;
      heap[at] = heap[child];
      this.position[heap[at]] = at;
      at = child;
    }
    heap[at] = slot;
    this.position[slot] = at;
  }

  saveImage(image: StateImage): void {
    image.arrays.push(this.heap);
    pushBased(image, this.position, ImageBase.AllOnes); // -1: a slot not in the heap
    image.arrays.push(this.key, this.tie);
    image.counters.push(this.size);
  }

  loadCounters(counters: readonly number[], at: number): number {
    this.size = counters[at];
    return at + 1;
  }
}
