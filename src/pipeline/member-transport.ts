/**
 * A cluster member's replication transport (src/replication/udp-transport.ts), made from its
 * options and told where to say what it sees: members of another version, and datagrams it
 * refuses (not from the member they name), both warnings, the second at a bounded rate.
 */
import { UdpTransport, type FaultPlan } from '../replication/udp-transport.js';
import type { Message } from '../replication/messages.js';
import type { NodeLog } from './node.js';

/** What the transport needs of a member's options (ClusterNodeOptions). */
export interface TransportOptions {
  id: number;
  members: readonly { id: number; host: string; replicationPort: number }[];
  /** The cluster's replication secret (every member's the same): datagrams' MACs. */
  secret: Uint8Array;
  faults?: FaultPlan;
  /** The largest chunk a datagram carries (UdpTransport.setPayloadBytes; default the default). */
  datagramPayloadBytes?: number;
  /** This run's start, above every earlier run's (ReplicaStore.nextTransportStart). */
  start: number;
  /** A new start above `floor`, stored before use, once the run's message ids run out. */
  renewStart?: (floor: number) => number;
  /** The other members' starts stored in the member's folder, and how to store a new one. */
  peerStarts?: ReadonlyMap<number, number>;
  /**
   * The member lost its folder: no start is stored for the others, and it took the first run
   * it heard of each, a recorded one sent again included (a dead primary's appends, from which
   * it could end recovering and vote on a stale log). Its own start stands for each missing
   * one instead: a run begun before it is asked to renew above it (run-renewal.ts), which a
   * live member does within a round trip and a recording cannot.
   */
  recovering?: boolean;
  notePeerStart?: (id: number, start: number) => void;
}

export function memberTransport(
  options: TransportOptions,
  receive: (message: Message) => void,
  log: NodeLog,
): UdpTransport {
  const id = options.id;
  const peers = options.members.map((m) => ({ id: m.id, host: m.host, port: m.replicationPort }));
  const { secret, faults, start } = options;
  const transport = new UdpTransport(id, peers, receive, secret, faults, undefined, start);
  if (options.renewStart !== undefined) transport.renewStart = options.renewStart;
  if (options.datagramPayloadBytes !== undefined) {
    transport.setPayloadBytes(options.datagramPayloadBytes);
  }
  const starts = new Map(options.peerStarts ?? []);
  if (options.recovering === true) {
    for (const m of options.members) if (!starts.has(m.id)) starts.set(m.id, start);
  }
  transport.rememberStarts(starts);
  if (options.notePeerStart !== undefined) transport.onPeerStart = options.notePeerStart;
  // Rare (a member restarted, or lost its folder behind its clock): worth a line each.
  transport.onRenewed = (by, was, start) =>
    log(`member ${id}: member ${by} could not take run ${was}: began run ${start}`);
  // A warning: members of two versions do not hear each other (README, rolling upgrades).
  transport.onOtherVersion = (from, what) => {
    const line = `member ${from} speaks ${what}; their messages are dropped until it speaks ours`;
    log(`member ${id}: ${line}`, 'warn');
  };
  // Someone sends what no member sends (docs/ROLES.md, "Who may speak on the replication port").
  transport.onRefused = (line) => log(`member ${id}: ${line}`, 'warn');
  return transport;
}
