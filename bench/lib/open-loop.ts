/**
 * An open loop's schedule: at `rate` per second, command i is due at i / rate from the start,
 * and its latency is counted from then. `dueBy` is how many are due `elapsedMs` in: command 0
 * at once. (Sending each only once the next was due added one interval to every latency
 * measured: 1 s at --rate 1.)
 */
export function dueBy(elapsedMs: number, perMs: number): number {
  return Math.floor(elapsedMs * perMs) + 1;
}
