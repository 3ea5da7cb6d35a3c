/**
 * Waiting on a ring from the main thread, which must not block: Atomics.waitAsync instead of
 * Atomics.wait. Each sleep allocates a promise, so this is for idle paths only (a busy ring is
 * read without waiting). Not part of the per-message path; tidy lists it as an exception.
 */
import type { SequenceBarrier } from './sequence-barrier.js';

/** Resolves with the barrier's available() once something is readable (or the ring halted). */
export async function waitForAsync(barrier: SequenceBarrier, sleepMs: number): Promise<number> {
  const header = barrier.ring.header;
  for (;;) {
    const limit = barrier.available();
    if (barrier.ready(limit)) return limit;
    const word = barrier.watchedWord();
    const seen = Atomics.load(header, word);
    Atomics.add(header, word + 1, 1);
    const result = Atomics.waitAsync(header, word, seen, sleepMs);
    if (result.async) await result.value;
    Atomics.sub(header, word + 1, 1);
  }
}
