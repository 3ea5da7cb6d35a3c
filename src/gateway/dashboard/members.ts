/**
 * The cluster's members as the dashboard shows them, from what the node's role already
 * gives: its description (GET /health) and, on a primary, each standby's replication lag (the
 * same figures as /metrics' bourse_replication_lag_events). Once a second, off the hot path.
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

/** The members seen from this node: itself first, then the others it knows of. Allocates. */
export function membersOf(
  describe: Record<string, unknown>,
  lags: ReadonlyMap<number, number>,
): MemberRow[] {
  const role = typeof describe.role === 'string' ? describe.role : 'unknown';
  const id = typeof describe.member === 'number' ? describe.member : null;
  const rows: MemberRow[] = [{ id, role, self: true, lagEvents: role === 'primary' ? 0 : null }];
  for (const [member, lagEvents] of lags) {
    if (rows.length >= clusterMembersMax) break;
    rows.push({ id: member, role: 'standby', self: false, lagEvents });
  }
  const primary = describe.primary;
  if (role !== 'primary' && typeof primary === 'number' && primary >= 0 && primary !== id) {
    rows.push({ id: primary, role: 'primary', self: false, lagEvents: 0 });
  }
  return rows;
}
