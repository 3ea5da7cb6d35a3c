/**
 * How a party waits for a sequence word to move: a bounded spin (cheap when the other side is
 * about to publish), then a futex sleep with Atomics.wait, never an endless spin (two cores).
 *
 * A sleeper registers in the word's sleeper count before sleeping, so the other side calls
 * Atomics.notify (a system call) only when someone sleeps. No wake-up is lost: Atomics.wait
 * compares the word with the value seen and returns at once if it already moved.
 */
export class WaitStrategy {
  readonly spins: number;
  readonly sleepMs: number;

  /** `spins` loads before sleeping; sleeps at most `sleepMs` at a time (to re-check halt). */
  constructor(spins: number, sleepMs: number) {
    this.spins = spins;
    this.sleepMs = sleepMs;
  }

  /** Blocks until `header[word]` differs from `seen` or a sleep times out; returns the word. */
  waitChange(header: Int32Array, word: number, seen: number): number {
    for (let i = 0; i < this.spins; i++) {
      const value = Atomics.load(header, word);
      if (value !== seen) return value;
    }
    Atomics.add(header, word + 1, 1);
    Atomics.wait(header, word, seen, this.sleepMs);
    Atomics.sub(header, word + 1, 1);
    return Atomics.load(header, word);
  }
}

/** Stores `value` into a sequence word and wakes its sleepers, if any. */
export function publishWord(header: Int32Array, word: number, value: number): void {
  Atomics.store(header, word, value);
  if (Atomics.load(header, word + 1) > 0) Atomics.notify(header, word);
}
