/**
 * A primary's clean stop (SIGTERM, Ctrl-C, a rolling restart) hands the cluster over instead
 * of leaving the standbys to notice its silence (a probe, pre-votes, then an election):
 *
 *   primary                                    standby holding its whole log    other standby
 *   takes no more commands (gateway: Busy)
 *   waits: both rings empty, so every command
 *   taken in is committed and answered
 *   ──timeout-now {term}──────────────────────► stands at once (no pre-votes:
 *                                               the others still hear the primary)
 *   ◄──vote-request {term + 1}──────────────── ──vote-request──────────────────► grants
 *   grants, and steps down; its stop goes on:                                    (log as long)
 *   sessions close (1001), the SDK reconnects
 *   and sends again what was refused Busy      primary of term + 1
 *
 * Each wait is bounded (transferDrainMs, transferVoteWaitMs): a primary that cannot drain (no
 * quorum) or whose successor does not stand stops anyway, and the others elect as after a
 * crash. Nothing here decides safety: standing is always safe, and votes go as in any election.
 */
import { clusterMembersMax, transferDrainMs, transferVoteWaitMs } from '../constants.js';
import type { Consensus } from '../replication/consensus.js';
import { Role } from '../replication/messages.js';
import type { BourseNode, NodeLog } from './node.js';

/** Drains the primary's `node`, names its successor and waits for it to stand (logged). */
export async function transferLeadership(
  node: Pick<BourseNode, 'inputRing' | 'outputRing'>,
  consensus: Consensus,
  log: NodeLog,
): Promise<void> {
  const started = performance.now();
  const empty = (): boolean =>
    node.inputRing.occupancy() === 0 && node.outputRing.occupancy() === 0;
  const drained = await waitUntil(empty, transferDrainMs);
  const term = consensus.term;
  const to = consensus.transferLeadership();
  const why = to === -1 ? noSuccessor(consensus) : '';
  const stood = to !== -1 && (await waitUntil(() => consensus.term > term, transferVoteWaitMs));
  const ms = (performance.now() - started).toFixed(0);
  const answered = drained ? 'all it took in answered' : 'not all it took in answered yet';
  const id = consensus.id;
  if (to === -1) return log(`member ${id}: stopping as primary (${answered}; ${why})`, 'warn');
  const how = stood ? 'stood' : 'was named (its vote request not heard yet)';
  log(`member ${id}: handed over in ${ms} ms: member ${to} ${how}; ${answered}`);
}

/**
 * Why a stopping primary named no successor: it is no primary now (deposed while it drained),
 * or the only standbys holding its whole journal are recovering (they lost their disks and may
 * not stand until caught up: consensus.ts), or none holds it (a quorum lost, one cut off).
 */
function noSuccessor(consensus: Consensus): string {
  if (consensus.role !== Role.Primary) return 'no longer primary';
  if (recoveringHolds(consensus)) {
    return 'only a recovering standby holds its whole journal, and it may not stand yet';
  }
  return 'no standby holds its whole journal';
}

/**
 * Whether a standby recovering, by its last status of the primary's term, has written the
 * primary's whole log (Consensus writtenAt: its durable stops at its commit, and a status read
 * late does not take it back).
 */
function recoveringHolds(consensus: Consensus): boolean {
  for (let id = 1; id <= clusterMembersMax; id++) {
    if (consensus.recoveringAt(id) && consensus.writtenAt(id) >= consensus.lastIndex) return true;
  }
  return false;
}

/** Whether `done()` came true within `ms` (looked at each millisecond). */
async function waitUntil(done: () => boolean, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (!done()) {
    if (performance.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return true;
}
