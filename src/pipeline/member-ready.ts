/**
 * Whether a cluster member is ready for commands or reads (GET /ready, docs/PROTOCOL.md), from
 * what its ClusterNode knows: kept apart so that the member's file stays about its roles.
 */
import { readyLagEventsMax } from '../constants.js';
import { ProgressSlot } from '../journal/journal-progress.js';
import type { Consensus } from '../replication/consensus.js';
import { Role } from '../replication/messages.js';
import type { ReadyUse } from '../gateway/gateway.js';
import type { BourseNode } from './node.js';

export interface MemberReadyView {
  readonly stopping: boolean;
  readonly node: BourseNode | null;
  readonly consensus: Consensus;
  readonly committedSequence: number;
  /** Promoted and open for commands in the current term. */
  readonly accepting: boolean;
  /** The last sequence decided before its node began to serve. */
  readonly servingFrom: number;
  /** A primary: whether it heard a majority within an election timeout (members-heard.ts). */
  readonly confirmed: boolean;
}

/**
 * Why the member is not ready for `use`, or null. Commands: only a primary that serves in its
 * term. Reads: also a standby that follows a primary it hears (within an election timeout),
 * votes (not recovering) and has applied all but `lagEventsMax` committed events (default
 * `readyLagEventsMax`).
 */
export function memberNotReady(
  m: MemberReadyView,
  use: ReadyUse,
  lagEventsMax = readyLagEventsMax,
): string | null {
  const c = m.consensus;
  const node = m.node;
  if (m.stopping) return 'stopping';
  if (node === null) return 'starting';
  if (node.failure !== null) return `failed: ${node.failure.message}`;
  if (c.role === Role.Primary) return primaryNotReady(m, use);
  if (c.role === Role.Candidate) return 'election under way';
  if (use === 'commands') return 'not the primary';
  if (c.recovering) return 'recovering: catching up before it votes';
  if (c.primary < 0) return 'no primary known';
  // Cut off from it (and from a majority, or one would have elected): what it shows may be
  // far behind what is committed by now.
  if (c.heardPrimaryId < 0) return 'primary silent';
  const applied = node.progress.get(ProgressSlot.sequencePublished);
  if (m.committedSequence - applied > lagEventsMax) return 'catching up';
  return null;
}

/**
 * A primary: ready once it serves and hears a majority; for reads, also once its term's first
 * commit covers the journal it took over with. Its read model applied that whole journal on
 * promotion, and the entries it inherited are committed only with its term's first: until then
 * a read could show what a new election may still cut. One that heard no majority lately (it
 * was stopped, or stalled, or is cut off) may have been deposed meanwhile: not ready until it
 * hears one again, or steps down.
 */
function primaryNotReady(m: MemberReadyView, use: ReadyUse): string | null {
  if (!m.accepting) return 'promoting';
  if (!m.confirmed) return 'unconfirmed: no majority heard lately, it may have been deposed';
  if (use === 'reads' && m.committedSequence < m.servingFrom) return 'committing its term';
  return null;
}
