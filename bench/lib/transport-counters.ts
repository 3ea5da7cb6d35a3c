/**
 * bench:replicated's replication transport counters: each member's `bourse_replication_*_total`
 * (src/pipeline/cluster-metrics.ts) read once from its /metrics after the load, so that a run's
 * datagram loss and resends sit beside its latency. The totals are since the member started
 * (funding and the idle round trips included): the members are started for the run alone.
 */

/** The figure's name (`repl_<name>_primary`, `repl_<name>_standbys`) and the metric read. */
export const transportCounters: ReadonlyArray<readonly [string, string]> = [
  ['datagrams_sent', 'datagrams_sent'],
  ['datagrams_received', 'datagrams_received'],
  ['naks_sent', 'naks_sent'],
  /** Fragments sent again for a NAK: the transport's retransmits. */
  ['retransmits', 'fragments_resent'],
  ['resends_coalesced', 'resends_coalesced'],
  ['nak_windows_full', 'nak_windows_full'],
  ['dropped', 'dropped'],
  ['checksum_failures', 'checksum_failures'],
  /** Every reason's refusals summed (the metric is labelled by reason). */
  ['refused', 'refused'],
  ['duplicates', 'duplicates'],
  ['send_queue_full', 'send_queue_full'],
  ['other_version', 'other_version'],
  /** Consensus's, on a primary: log entries sent again to a standby behind. */
  ['entries_resent', 'entries_resent'],
  ['runs_renewed', 'runs_renewed'],
];

/** A member's counters by figure name (0 for one its /metrics does not show). */
export type TransportCounts = Map<string, number>;

const total = /^bourse_replication_([a-z_]+)_total(?:\{[^}]*\})? (\S+)$/;

/** A member's transport counters, from its /metrics (allocates; read once, after the load). */
export async function scrapeTransport(host: string, port: number): Promise<TransportCounts> {
  const text = await (await fetch(`http://${host}:${port}/metrics`)).text();
  const byMetric = new Map<string, number>();
  for (const l of text.split('\n')) {
    const m = total.exec(l);
    if (m !== null) byMetric.set(m[1], (byMetric.get(m[1]) ?? 0) + Number(m[2]));
  }
  const out: TransportCounts = new Map();
  for (const [name, metric] of transportCounters) out.set(name, byMetric.get(metric) ?? 0);
  return out;
}

/** The primary's counters and its standbys' summed, as the bench's JSON figures. */
export function transportFigures(
  primary: TransportCounts,
  standbys: TransportCounts[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name] of transportCounters) {
    out[`repl_${name}_primary`] = primary.get(name) ?? 0;
    out[`repl_${name}_standbys`] = standbys.reduce((sum, s) => sum + (s.get(name) ?? 0), 0);
  }
  return out;
}

/** The same as table rows: one a counter, `primary / standbys`. */
export function transportRows(figures: Record<string, number>): Array<Record<string, string>> {
  return transportCounters.map(([name]) => ({
    measure: `replication ${name.replaceAll('_', ' ')}: primary / standbys`,
    value: `${figures[`repl_${name}_primary`]} / ${figures[`repl_${name}_standbys`]}`,
    unit: '',
  }));
}
