/** What the replication transport counts (udp-transport.ts): /metrics and logs show them. */
import type { RefusalReason } from './refusals.js';

export interface TransportStats {
  datagramsSent: number;
  datagramsReceived: number;
  faultsInjected: number;
  naksSent: number;
  /** NAKs taken from peers (each a request to resend fragments of a message sent to them). */
  naksReceived: number;
  /** Windows in which a peer got udpNakPeerMax NAKs, the rest held back (nak-pacing.ts). */
  nakWindowsFull: number;
  fragmentsResent: number;
  /** Fragments NAKed within udpResendLingerMs of their resend: not resent again. */
  resendsCoalesced: number;
  messagesReceived: number;
  messagesDropped: number;
  /** Empty datagrams: another member's probe (see probe()), not a message lost. */
  probesReceived: number;
  sendQueueFull: number;
  /** Appends sent with the bytes encoded for another peer (SharedAppend). */
  appendsShared: number;
  /** Datagrams or messages of another transport or replication version (also dropped). */
  otherVersion: number;
  /** Datagrams whose CRC-32 did not match their bytes (damaged): dropped unread. */
  checksumFailures: number;
  /** Lookups of a peer's name, or probe connects, that failed: retried later. */
  connectFailures: number;
  /** Datagrams not sent because their peer's name was not resolved (yet, or again). */
  unconnectedDrops: number;
  /** Peers whose name came to resolve to another address (followed: peer-addresses.ts). */
  peersMoved: number;
  /**
   * Datagrams refused, by reason: not from the member they name, forged, or of an earlier run
   * of the member's (refusals.ts).
   */
  refused: Readonly<Record<RefusalReason, number>>;
  /**
   * Datagrams of a message taken already, or too far behind the sender's newest (a network's
   * duplicate, or a replay: replay-window.ts): dropped.
   */
  duplicates: number;
  /** Members asked to begin a run this one can take (run-renewal.ts). */
  renewsAsked: number;
  /** This member's runs renewed: its message ids ran out, or another member asked. */
  runsRenewed: number;
}

/** Every count at zero; `refused`: the transport's refusals, counted there (refusals.ts). */
export function newTransportStats(
  refused: Readonly<Record<RefusalReason, number>>,
): TransportStats {
  return {
    datagramsSent: 0,
    datagramsReceived: 0,
    faultsInjected: 0,
    naksSent: 0,
    naksReceived: 0,
    nakWindowsFull: 0,
    fragmentsResent: 0,
    resendsCoalesced: 0,
    appendsShared: 0,
    messagesReceived: 0,
    messagesDropped: 0,
    probesReceived: 0,
    sendQueueFull: 0,
    otherVersion: 0,
    checksumFailures: 0,
    connectFailures: 0,
    unconnectedDrops: 0,
    peersMoved: 0,
    refused,
    duplicates: 0,
    renewsAsked: 0,
    runsRenewed: 0,
  };
}
