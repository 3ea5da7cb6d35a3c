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
  /**
   * From /health's `peers`: up, down (silent past memberDownMs while this node expects to hear
   * it), or unknown; this node itself is up. Absent before: a stopped standby looked the same
   * as a live one on a standby's page, and as one with a lag that did not move on a primary's.
   */
  state: 'up' | 'down' | 'unknown';
  /** Milliseconds since this node last heard it (null: itself, or never heard). */
  heardMsAgo: number | null;
}

type Heard = Pick<MemberRow, 'state' | 'heardMsAgo'>;

/**
 * `describe.peers` (src/pipeline/members-heard.ts: PeerHealth) by member id; the members they
 * say are recovering (known on the primary) go into `recovering`.
 */
function heardOf(describe: Record<string, unknown>, recovering: Set<number>): Map<number, Heard> {
  const heard = new Map<number, Heard>();
  const peers = Array.isArray(describe.peers) ? (describe.peers as unknown[]) : [];
  for (const peer of peers) {
    if (typeof peer !== 'object' || peer === null) continue;
    const p = peer as Record<string, unknown>;
    if (typeof p.member !== 'number') continue;
    const state = p.state === 'up' || p.state === 'down' ? p.state : 'unknown';
    const ago = typeof p.heardMsAgo === 'number' ? p.heardMsAgo : null;
    heard.set(p.member, { state, heardMsAgo: ago });
    if (p.recovering === true) recovering.add(p.member);
  }
  return heard;
}

/**
 * The members seen from this node: itself first, then the others (the primary's standbys with
 * their lag; on a standby, the primary it follows, then the rest of the cluster's members,
 * `describe.members`, whose lag only the primary knows). Allocates.
 */
export function membersOf(
  describe: Record<string, unknown>,
  lags: ReadonlyMap<number, number>,
): MemberRow[] {
  const role = typeof describe.role === 'string' ? describe.role : 'unknown';
  const id = typeof describe.member === 'number' ? describe.member : null;
  const recovering = new Set<number>();
  const heard = heardOf(describe, recovering);
  const of = (member: number): Heard => heard.get(member) ?? { state: 'unknown', heardMsAgo: null };
  const rows: MemberRow[] = [
    {
      id,
      role,
      self: true,
      lagEvents: role === 'primary' ? 0 : null,
      state: 'up',
      heardMsAgo: null,
    },
  ];
  for (const [member, lagEvents] of lags) {
    if (rows.length >= clusterMembersMax) break;
    // A standby that lost its disk and has not caught up: named as its own /health names it.
    const shown = recovering.has(member) ? 'recovering' : 'standby';
    rows.push({ id: member, role: shown, self: false, lagEvents, ...of(member) });
  }
  const primary = describe.primary;
  if (role !== 'primary' && typeof primary === 'number' && primary >= 0 && primary !== id) {
    rows.push({ id: primary, role: 'primary', self: false, lagEvents: 0, ...of(primary) });
  }
  const all = Array.isArray(describe.members) ? (describe.members as unknown[]) : [];
  for (const member of all) {
    if (rows.length >= clusterMembersMax) break;
    if (typeof member !== 'number' || rows.some((r) => r.id === member)) continue;
    // Not the primary (listed above when known): a standby while there is one.
    const other = typeof primary === 'number' && primary >= 0 ? 'standby' : 'member';
    rows.push({ id: member, role: other, self: false, lagEvents: null, ...of(member) });
  }
  return rows;
}
