/**
 * A cluster member's gauges on /metrics: its role and term, what is committed, and on the
 * primary each standby's replication lag (sequences the primary holds that the standby has not
 * yet made durable: one per command, whose events share it; the metric's name says events; for
 * a standby that lost its disk, not yet written: heldAt) and whether it is recovering.
 * And its transport's and consensus's counters (NAKs, resends, drops, damaged datagrams,
 * elections): they were only logged when a member stopped, so a lossy or corrupting link
 * showed nowhere while it lasted.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Consensus } from '../replication/consensus.js';
import { lastSequenceOf, memberRoleName, memberRoleNames, Role } from '../replication/messages.js';
import type { OtherVersion } from '../replication/other-versions.js';
import { refusalReasons } from '../replication/refusals.js';
import type { TransportStats } from '../replication/udp-transport.js';
import { readGauge, readTotal } from './node-metrics.js';
import type { StandbysSeen } from './members-heard.js';
import type { StageTimes } from './stage-times.js';

export interface ClusterView {
  readonly id: number;
  readonly consensus: Consensus;
  readonly committedSequence: number;
  /** The member's transport's counters (it lives as long as the member: no carry needed). */
  readonly transportStats: Readonly<TransportStats>;
  memberIds(): readonly number[];
  /** Members heard on another version and not on this one since. */
  otherVersions(): readonly OtherVersion[];
  /** Where a replicated command's time goes, when asked for (stage-times.ts), else null. */
  readonly stages?: StageTimes | null;
}

/**
 * A single node's role, as a cluster member shows it (always the primary), so that dashboards
 * and alerts read every node the same way.
 */
export function registerSingleNodeRole(registry: Registry): void {
  new Gauge({
    name: 'bourse_cluster_role',
    help: "This node's role: 1 for the role it has, 0 for the others (a single node: primary)",
    labelNames: ['role'],
    registers: [registry],
    collect(this: Gauge) {
      for (const r of memberRoleNames) this.set({ role: r }, r === 'primary' ? 1 : 0);
    },
  });
}

export function registerClusterMetrics(registry: Registry, view: ClusterView): void {
  const c = view.consensus;
  new Gauge({
    name: 'bourse_cluster_role',
    help: "This member's role: 1 for the role it has, 0 for the others",
    labelNames: ['role'],
    registers: [registry],
    collect(this: Gauge) {
      const shown = memberRoleName(c.role, c.recovering); // a recovering member: `recovering`
      for (const r of memberRoleNames) this.set({ role: r }, shown === r ? 1 : 0);
    },
  });
  const plain = (name: string, help: string, read: () => number): void =>
    readGauge(registry, name, help, read);
  plain('bourse_cluster_term', 'Current consensus term', () => c.term);
  plain('bourse_cluster_member_id', "This member's id", () => view.id);
  plain('bourse_cluster_committed_sequence', 'Last sequence durable on a majority', () => {
    return view.committedSequence;
  });
  registerTransferCounters(registry, view);
  registerLinkCounters(registry, view);
  const stages = view.stages ?? null;
  if (stages !== null) registerStageTimes(registry, stages);
  new Gauge({
    name: 'bourse_replication_other_version',
    help: 'The version a member was heard on that is not this one, by member and layer',
    labelNames: ['member', 'layer'],
    registers: [registry],
    collect(this: Gauge) {
      this.reset(); // a member heard on this member's version again is gone from the list
      for (const o of view.otherVersions()) {
        this.set({ member: String(o.member), layer: o.layer }, o.version);
      }
    },
  });
  new Gauge({
    name: 'bourse_replication_recovering',
    help: 'On the primary: 1 for a standby that lost its disk and is catching up, else 0',
    labelNames: ['member'],
    registers: [registry],
    collect(this: Gauge) {
      this.reset();
      for (const [id, recovering] of replicationRecovering(view)) {
        this.set({ member: String(id) }, recovering ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'bourse_replication_lag_events',
    help: 'On the primary: sequences (one per command) it holds that a standby has not stored',
    labelNames: ['member'],
    registers: [registry],
    collect(this: Gauge) {
      this.reset();
      for (const [id, lag] of replicationLags(view)) this.set({ member: String(id) }, lag);
    },
  });
}

/**
 * Totals of the member's transport and consensus, read when scraped. Both live as long as the
 * member (across its nodes, so across role changes), so the totals only grow.
 */
function registerTransferCounters(registry: Registry, view: ClusterView): void {
  const t = view.transportStats;
  const s = view.consensus.stats;
  const total = (name: string, help: string, read: () => number): void =>
    readTotal(registry, name, help, read);
  const replication = 'bourse_replication_';
  total(`${replication}datagrams_sent_total`, 'Replication datagrams sent', () => t.datagramsSent);
  total(`${replication}datagrams_received_total`, 'Replication datagrams received', () => {
    return t.datagramsReceived;
  });
  total(`${replication}naks_sent_total`, 'NAKs sent for fragments missing', () => t.naksSent);
  total(`${replication}fragments_resent_total`, 'Fragments resent for NAKs', () => {
    return t.fragmentsResent;
  });
  total(
    `${replication}nak_windows_full_total`,
    'NAK windows in which a peer got its most NAKs (udpNakPeerMax), the rest held back',
    () => t.nakWindowsFull,
  );
  total(
    `${replication}resends_coalesced_total`,
    'Fragments NAKed again within the resend linger (udpResendLingerMs): not resent',
    () => t.resendsCoalesced,
  );
  total(
    `${replication}dropped_total`,
    'Datagrams or messages dropped: malformed, damaged, of unknown senders or other versions, ' +
      'or incomplete past the reassembly timeout',
    () => t.messagesDropped,
  );
  total(`${replication}checksum_failures_total`, 'Datagrams whose CRC-32 did not match', () => {
    return t.checksumFailures;
  });
  new Counter({
    name: `${replication}refused_total`,
    help:
      'Datagrams refused: naming no member, not from the address and port of the member they ' +
      "name, not under the cluster's secret, or of a run of that member before the one heard",
    labelNames: ['reason'],
    registers: [registry],
    collect(this: Counter) {
      this.reset();
      for (const reason of refusalReasons) this.inc({ reason }, t.refused[reason]);
    },
  });
  total(
    `${replication}duplicates_total`,
    'Datagrams of messages taken already or too far behind: duplicates, or replays',
    () => t.duplicates,
  );
  total(`${replication}renews_asked_total`, 'Members asked to renew a run', () => t.renewsAsked);
  total(`${replication}runs_renewed_total`, 'Transport runs begun anew', () => t.runsRenewed);
  total(`${replication}other_version_total`, 'Datagrams or messages of another version', () => {
    return t.otherVersion;
  });
  total(`${replication}send_queue_full_total`, 'Messages not sent: send queue full', () => {
    return t.sendQueueFull;
  });
  total(`${replication}foreign_messages_total`, "Messages of another cluster's, dropped", () => {
    return s.foreignMessages;
  });
  total(`${replication}entries_resent_total`, 'On a primary: entries sent again', () => {
    return s.entriesResent;
  });
  total('bourse_cluster_term_changes_total', 'Terms this member entered', () => s.termChanges);
  total('bourse_cluster_elections_total', 'Elections this member stood in', () => s.elections);
}

/**
 * More of the same totals: the primary's side of the repair (NAKs received: how many resend
 * requests its standbys sent it, to compare with their naks_sent), whole messages, the peers'
 * addresses, injected faults, probes, appends shared between standbys, and consensus's entries
 * sent and votes dropped. Before, these were kept (transport-stats.ts, Consensus stats) but
 * only logged when a member stopped.
 */
function registerLinkCounters(registry: Registry, view: ClusterView): void {
  const t = view.transportStats;
  const s = view.consensus.stats;
  const total = (name: string, help: string, read: () => number): void =>
    readTotal(registry, `bourse_replication_${name}_total`, help, read);
  total('naks_received', 'NAKs received: requests from peers to resend fragments', () => {
    return t.naksReceived;
  });
  total('messages_received', 'Replication messages received whole', () => t.messagesReceived);
  total('connect_failures', "Lookups of a peer's name, or probe connects, that failed", () => {
    return t.connectFailures;
  });
  total('unconnected_drops', "Datagrams not sent: their peer's name not resolved", () => {
    return t.unconnectedDrops;
  });
  total('peers_moved', 'Peers whose name came to resolve to another address', () => {
    return t.peersMoved;
  });
  total('faults_injected', 'Faults the transport injected (tests and drills only)', () => {
    return t.faultsInjected;
  });
  total('probes_received', "Empty datagrams received: peers' probes of the link", () => {
    return t.probesReceived;
  });
  total('appends_shared', 'Appends sent in the bytes encoded for another standby', () => {
    return t.appendsShared;
  });
  total('entries_sent', 'On a primary: entries sent to standbys', () => s.entriesSent);
  total(
    'votes_not_ours',
    'Votes for another member, or an earlier life of this one, dropped',
    () => s.votesNotOurs,
  );
}

/**
 * Stage times (stage-times.ts) as `bourse_replication_stage_us{stage, stat}`: stat `count`,
 * `sum` (µs), and `b<k>` for each bucket k not empty (stage-histogram.ts gives its bounds).
 */
function registerStageTimes(registry: Registry, stages: StageTimes): void {
  new Gauge({
    name: 'bourse_replication_stage_us',
    help: "Where a replicated command's time goes: each stage's count, sum and buckets (µs)",
    labelNames: ['stage', 'stat'],
    registers: [registry],
    collect(this: Gauge) {
      for (const [stage, h] of stages.stages) {
        this.set({ stage, stat: 'count' }, h.count);
        this.set({ stage, stat: 'sum' }, h.sumUs);
        for (let b = 0; b < h.counts.length; b++) {
          if (h.counts[b] > 0) this.set({ stage, stat: `b${b}` }, h.counts[b]);
        }
      }
    },
  });
}

/**
 * On the primary: each standby's replication lag, in sequences it holds that the standby has
 * not made durable (empty on any other role). /metrics and the dashboard both show it.
 */
export function replicationLags(view: ClusterView): Map<number, number> {
  const c = view.consensus;
  const lags = new Map<number, number>();
  if (c.role !== Role.Primary) return lags;
  const last = c.lastSequence();
  for (const id of view.memberIds()) {
    if (id === view.id) continue;
    const at = Math.min(heldAt(c, id), c.lastIndex);
    const held = at < 1 ? 0 : lastSequenceOf(c.entry(at));
    lags.set(id, Math.max(0, last - held));
  }
  return lags;
}

/**
 * On the primary: whether each standby's last status of its term said it is recovering (it lost
 * its disk and has not caught up: it may not vote or stand). Empty off the primary.
 */
export function replicationRecovering(view: ClusterView): Map<number, boolean> {
  const c = view.consensus;
  const out = new Map<number, boolean>();
  if (c.role !== Role.Primary) return out;
  for (const id of view.memberIds()) {
    if (id !== view.id) out.set(id, c.recoveringAt(id));
  }
  return out;
}

/** What a primary knows of its standbys, for /health's peers (members-heard.ts). */
export function standbysSeen(view: ClusterView): StandbysSeen {
  return { lags: replicationLags(view), recovering: replicationRecovering(view) };
}

/**
 * The highest index standby `id` holds, for its lag: durable, or for a recovering standby
 * (bourse_replication_recovering) written. A recovering standby says nothing is durable past its
 * commit (consensus.ts: its acknowledgements make no commit), so counted from its durable, its
 * lag took in every entry not committed when it last heard, and looked behind when it was not.
 * Both are consensus's own view of the standby (Consensus writtenAt, recoveringAt): a status
 * read late, after a newer one, does not take it back.
 */
function heldAt(c: Consensus, id: number): number {
  const durable = c.durableAt(id);
  return c.recoveringAt(id) ? Math.max(durable, c.writtenAt(id)) : durable;
}
