/**
 * What the gateway refused or ended, for the operator (`bourse_gateway_*_total` on /metrics):
 * sessions closed by close code (4008: a slow reader, or too many frames refused as Busy),
 * Busy answers, and Commands frames refused as Busy. Plain counters, bumped on the main thread
 * by the gateway and read when /metrics is scraped: nothing is allocated per frame.
 */

/**
 * The close codes counted by name, a label each (fixed, so that rate() sees the first): the
 * gateway's own (frames.ts CloseCode) and the standard ones a session ends with. Any other is
 * counted as `other`.
 */
export const closeCodesCounted = [
  1000, // normal (the client's)
  1001, // going away: the node stops, or the client leaves
  1005, // closed with no code
  1006, // lost: no close frame (cancel on disconnect's silent sessions too)
  1011, // the node failed, or a stream could no longer read the journal
  4000,
  4001,
  4002,
  4003,
  4004,
  4006,
  4007,
  4008,
  4009,
  4010,
] as const;

/** Labels of bourse_gateway_closes_total{code}, by index in GatewayCounts.closes. */
export const closeCodeLabels: readonly string[] = [...closeCodesCounted.map(String), 'other'];

export class GatewayCounts {
  /** WebSocket sessions closed, by index in closeCodeLabels (the last: any other code). */
  readonly closes = new Float64Array(closeCodeLabels.length);
  /** Error frames Busy sent: no room in the input ring, or the node not taking commands. */
  busyAnswers = 0;
  /** Commands frames refused as Busy (not the node stopping): each time, repeats too. */
  refusedFrames = 0;

  /** A session closed with `code`. */
  closed(code: number): void {
    let i = 0;
    while (i < closeCodesCounted.length && closeCodesCounted[i] !== code) i++;
    this.closes[i]++;
  }
}
