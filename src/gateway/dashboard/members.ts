/**
 * The cluster's members as the dashboard shows them, read from what the node already exposes:
 * its role's description (GET /health) and its Prometheus gauges (GET /metrics, written by
 * src/pipeline/cluster-metrics.ts on a cluster member). The gateway may not import the
 * pipeline, and the gauges are what operators scrape, so the dashboard reads the same text
 * rather than a second path to the consensus state. Once a second, off the hot path.
 */
import { clusterMembersMax } from '../../constants.js';

/** One member: its id (null on a single node), role, and replication lag in events. */
export interface MemberRow {
  id: number | null;
  role: string;
  self: boolean;
  /**
   * Events the primary holds that this member has not made durable: 0 for the primary itself;
   * known for the others only on the primary (null elsewhere: a standby does not know).
   */
  lagEvents: number | null;
}

const lagLine = /^bourse_replication_lag_events\{member="(\d+)"\} (\S+)$/gm;

/** The members seen from this node: itself first, then the others it knows of. Allocates. */
export function membersOf(describe: Record<string, unknown>, metrics: string): MemberRow[] {
  const role = typeof describe.role === 'string' ? describe.role : 'unknown';
  const id = typeof describe.member === 'number' ? describe.member : null;
  const rows: MemberRow[] = [{ id, role, self: true, lagEvents: role === 'primary' ? 0 : null }];
  for (const match of metrics.matchAll(lagLine)) {
    if (rows.length >= clusterMembersMax) break;
    const lag = Number(match[2]);
    rows.push({
      id: Number(match[1]),
      role: 'standby',
      self: false,
      lagEvents: Number.isFinite(lag) ? lag : null,
    });
  }
  const primary = describe.primary;
  if (role !== 'primary' && typeof primary === 'number' && primary >= 0 && primary !== id) {
    rows.push({ id: primary, role: 'primary', self: false, lagEvents: 0 });
  }
  return rows;
}
