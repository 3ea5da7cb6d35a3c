/**
 * Logical time: the timestamp (µs since the epoch) the processor stamps on each command. It is
 * the only time the engine knows (the engine never reads a clock): a pending transfer's
 * `expiresAt` is in it, and so are the journal's time index and `replay --to-time`.
 *
 *   clock ────────┐
 *                 ├─► nextTimestampUs ─► stamped on a batch ─► engine (expiries)
 *   last stamped ─┘                      │
 *   (at start-up:                        └─► progress[timestampStamped]
 *    the engine's position)                  └─► expiry ticker: due <= nextTimestampUs?
 *
 * The rule: a batch is stamped max(clock, last stamped + 1), so logical time never goes back,
 * not across a restart nor a failover (a node starts from the last timestamp its journal
 * holds, whatever its own clock says), and every batch has a time of its own. A node whose
 * clock is behind that moves logical time on by 1 µs a batch until its clock catches up
 * (bourse_clock_behind_seconds and the pipeline watch's warning show how far), and holds
 * expire that much late; one whose clock is ahead moves logical time forward to it, and holds
 * due in between expire at once. Only clocks kept in sync avoid both. The expiry ticker asks
 * whether a hold is due by the same rule, the time its Tick will be stamped with, so a hold
 * that is due in logical time is ticked at once even while the node's clock is behind.
 *
 * Before, a batch was stamped max(clock, last stamped): a new primary whose clock was behind
 * the old one's last timestamp stamped every batch with that one time until its clock caught
 * up (an hour of commands at one instant for an hour's skew), so the journal's time index,
 * `replay --to-time` and a client ordering by time could not tell any of them apart. TigerBeetle
 * stamps the same way (its prepare timestamp is max(last + 1, clock)). Standbys and replays
 * never stamp: they apply the time carried by the events, so they agree whatever their clocks.
 *
 * The clock is the process's monotonic clock anchored at its start (performance.timeOrigin is
 * one per process in Node 20, so the main thread and the workers read the same clock): a step
 * of the wall clock (NTP) while the node runs moves neither logical time nor any hold's expiry.
 */

/** Microseconds since the epoch, from the monotonic clock anchored at process start. */
export function clockUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * The same clock in milliseconds, for ages and stalls measured on the main thread (the journal
 * writer stamps `durableAtMs` with it): a step of the wall clock moves none of them.
 */
export function clockMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The timestamp of a batch stamped when the clock reads `nowUs`, after one stamped `lastUs`:
 * past `lastUs` by 1 µs at least, whatever the clock says.
 */
export function nextTimestampUs(nowUs: number, lastUs: number): number {
  return nowUs > lastUs ? nowUs : lastUs + 1;
}
