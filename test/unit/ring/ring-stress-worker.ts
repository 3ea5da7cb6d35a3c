/**
 * One side of the two-thread ring stress test. The producer writes messages 0..count-1 in
 * batches of varying size; each slot carries the message number and a check word derived from it.
 * The consumer checks that every message arrives once, in order, intact, and reports a digest.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RingBuffer } from '../../../src/ring/ring-buffer.js';
import { Sequencer } from '../../../src/ring/sequencer.js';
import { SequenceBarrier } from '../../../src/ring/sequence-barrier.js';
import { BatchEventProcessor, type EventHandler } from '../../../src/ring/batch-event-processor.js';
import { WaitStrategy } from '../../../src/ring/wait-strategy.js';
import type { RecordBuffer } from '../../../src/stdx/records.js';

interface Job {
  role: 'producer' | 'consumer';
  buffer: SharedArrayBuffer;
  count: number;
  seed: number;
  /** A consumer's index and the consumers it follows (default: consumer 0, none). */
  index?: number;
  dependsOn?: number[];
  /** Several consumers: each counts itself done here, and the last one halts the ring. */
  done?: SharedArrayBuffer;
  consumers?: number;
  /** A consumer pauses now and then (up to 1 ms), so which consumer is slowest keeps changing. */
  pauses?: boolean;
}

const job = workerData as Job;
const ring = RingBuffer.attach(job.buffer);
const wait = new WaitStrategy(64, 20);
const check = (n: number): number => (Math.imul(n, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;

function produce(): void {
  const seq = new Sequencer(ring, wait);
  const words = ring.slotSizeBytes >> 2;
  let state = job.seed >>> 0;
  let n = 0;
  while (n < job.count) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const batch = Math.min(1 + (state % 7), job.count - n);
    if (!seq.reserve(batch)) throw new Error('halted early');
    for (let i = 0; i < batch; i++) {
      const w = ring.slot((seq.nextSequence() + i) | 0) * words;
      ring.records.u32[w] = n + i;
      ring.records.u32[w + 1] = check(n + i);
    }
    seq.advance(batch);
    if ((state & 3) === 0 || n + batch === job.count) seq.publish();
    n += batch;
  }
  seq.publish();
  parentPort!.postMessage({ produced: n });
}

/** This consumer has everything: halt the ring, or let the last of several halt it. */
function finished(): void {
  if (job.done === undefined) return ring.halt();
  const done = Atomics.add(new Int32Array(job.done), 0, 1) + 1;
  if (done === job.consumers) ring.halt();
}

function consume(): void {
  const barrier = new SequenceBarrier(ring, job.index ?? 0, wait, job.dependsOn ?? []);
  const words = ring.slotSizeBytes >> 2;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let state = (job.seed + (job.index ?? 0) * 7919) >>> 0;
  let expected = 0;
  let errors = 0;
  let batches = 0;
  const handler: EventHandler = {
    onEvent(records: RecordBuffer, slot: number, _sequence: number, end: boolean): void {
      const value = records.u32[slot * words];
      if (value !== expected || records.u32[slot * words + 1] !== check(value)) errors++;
      expected = value + 1;
      if (end) batches++;
      if (expected === job.count) finished();
      if (job.pauses === true && end) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        if (state % 64 === 0) Atomics.wait(nap, 0, 0, (state >>> 8) % 2);
      }
    },
  };
  new BatchEventProcessor(barrier, handler, 5).run();
  parentPort!.postMessage({ consumed: expected, errors, batches });
}

if (job.role === 'producer') produce();
else consume();
