/**
 * An open loop's schedule: at `rate` per second, command i is due at i / rate from the start,
 * and its latency is counted from then. `dueBy` is how many are due `elapsedMs` in: command 0
 * at once. (Sending each only once the next was due added one interval to every latency
 * measured: 1 s at --rate 1.)
 */
export function dueBy(elapsedMs: number, perMs: number): number {
  return Math.floor(elapsedMs * perMs) + 1;
}

/**
 * How long a client process of an open loop of `seconds` runs at its rate unrecorded first
 * (ms): its first second runs interpreted code (see bench/macro/e2e-client.ts).
 */
export function openWarmupMs(seconds: number): number {
  return Math.min(2_000, seconds * 250);
}
