/**
 * An open loop's clock finer than a timer's millisecond: a worker thread sleeps `tickUs` at a
 * time in Atomics.wait (a futex with a µs timeout) and bumps a shared word; the load loop awaits
 * the word's change with Atomics.waitAsync, so its event loop sleeps in epoll between ticks and
 * still reads its answers the moment they come. setTimeout(fn, 1) fires 1 ms or more after it
 * was set (libuv keeps ms timers), so a loop paced by it sent each command 0.5-1 ms after its
 * intended time on an idle machine, and in bursts of a millisecond's commands.
 *
 *   worker:  wait tickUs ─► tick++ ─► notify ─► wait tickUs ─► ...
 *   loop:    send what is due ─► waitAsync(tick) ─► send what is due ─► ...
 */
import { Worker } from 'node:worker_threads';

const workerCode = `
const { workerData } = require('node:worker_threads');
const words = new Int32Array(workerData.buffer);
const tickMs = workerData.tickUs / 1000;
while (Atomics.load(words, 0) === 0) {
  Atomics.wait(words, 0, 0, tickMs);
  Atomics.add(words, 1, 1);
  Atomics.notify(words, 1);
}
`;

export class Pacer {
  /** Word 0: stop (1), word 1: ticks so far. */
  private readonly words = new Int32Array(new SharedArrayBuffer(8));
  private readonly worker: Worker;

  constructor(readonly tickUs: number) {
    this.worker = new Worker(workerCode, {
      eval: true,
      workerData: { buffer: this.words.buffer, tickUs },
    });
    // Not unref'd: a pending Atomics.waitAsync does not keep the event loop alive, the worker
    // does (until stop).
  }

  /** Ticks so far. */
  get ticks(): number {
    return Atomics.load(this.words, 1);
  }

  /** Resolves at the next tick (allocates a promise a tick: bench code, not the node's). */
  async tick(): Promise<void> {
    const result = Atomics.waitAsync(this.words, 1, Atomics.load(this.words, 1));
    if (result.async) await result.value;
  }

  async stop(): Promise<void> {
    Atomics.store(this.words, 0, 1);
    Atomics.notify(this.words, 0);
    await this.worker.terminate();
  }
}
