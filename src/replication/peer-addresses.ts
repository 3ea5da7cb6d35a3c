/**
 * Where each peer is: the IPv4 address and port its datagrams go to, and the only source its
 * datagrams are taken from (udp-transport.ts). A member sends every datagram from the socket
 * bound to its replication port, so a datagram that says "member 2" in its header and comes
 * from anywhere but member 2's address and port is not member 2's: it is refused unread.
 *
 *   cluster file host ──an IP──────────────────────────────────────────▶ address (fixed)
 *                     └─a name──lookup (host-lookup.ts)──────────────────▶ address
 *                        looked up again when a datagram claiming the peer comes from another
 *                        address (a restarted container has a new one), at most once per
 *                        udpConnectRetryMs; only the name's answer moves the peer, never the
 *                        datagram's source (which is refused meanwhile)
 *
 * Why the port too: every member of `bourse cluster` and any other process on the host share
 * 127.0.0.1. An unprivileged process cannot send from a port another socket holds (the
 * replication socket is bound without SO_REUSEADDR, so no one else may bind its port) nor
 * forge a source address (raw sockets need CAP_NET_RAW), so on one host the check stops any
 * other process speaking as a member. Off the host it stops nothing a network that lets
 * sources be forged lets through: that takes the MAC (datagram.ts).
 */
import { isIP } from 'node:net';
import { udpConnectRetryMs } from '../constants.js';
import type { HostLookup } from './host-lookup.js';

export interface PeerAddress {
  id: number;
  host: string;
  port: number;
}

/** What a datagram's source says of the peer it claims to be from. */
export const enum Source {
  /** The peer's address and port. */
  Peer = 0,
  /** Another address or port: refused. */
  Other = 1,
  /** The peer's name is not resolved yet: nothing to check against (dropped, not refused). */
  Unresolved = 2,
}

/** What the owner is told; the address book only counts on it. */
export interface AddressEvents {
  /** A peer's name did not resolve (tried again after udpConnectRetryMs). */
  failed(id: number): void;
  /** A peer's name resolved to another address than before: it moved. */
  moved(id: number): void;
}

export class PeerAddresses {
  private readonly peers = new Map<number, PeerAddress>();
  /** Resolved IPv4 addresses, by peer. */
  private readonly resolved = new Map<number, string>();
  /** Peers whose name is being looked up, and when each was last asked for (performance.now). */
  private readonly inFlight = new Set<number>();
  private readonly askedAt = new Map<number, number>();
  /** Bumped by set() and close(): a lookup answered after either is dropped. */
  private epoch = 0;

  constructor(
    private readonly lookup: HostLookup,
    private readonly events: AddressEvents,
  ) {}

  /** The peers (not this member). An IP is its own address; a name is looked up now. */
  set(peers: Iterable<PeerAddress>): void {
    this.epoch++;
    this.peers.clear();
    this.resolved.clear();
    this.inFlight.clear();
    this.askedAt.clear();
    for (const p of peers) {
      this.peers.set(p.id, p);
      if (isIP(p.host) === 4) this.resolved.set(p.id, p.host);
    }
  }

  get(id: number): PeerAddress | undefined {
    return this.peers.get(id);
  }

  has(id: number): boolean {
    return this.peers.has(id);
  }

  /** Where datagrams to peer `id` go now; null while its name is not resolved (a lookup runs). */
  addressOf(id: number): string | null {
    const address = this.resolved.get(id);
    if (address !== undefined) return address;
    this.lookUp(id);
    return null;
  }

  /** The peer's address as `ip:port` (or its name, unresolved), for log lines. */
  shown(id: number): string {
    const p = this.peers.get(id);
    if (p === undefined) return 'no member';
    return `${this.resolved.get(id) ?? p.host}:${p.port}`;
  }

  /** Whether a datagram claiming to be from peer `id` came from its address and port. */
  check(id: number, address: string, port: number): Source {
    const p = this.peers.get(id);
    const resolved = this.resolved.get(id);
    if (p !== undefined && resolved === address && p.port === port) return Source.Peer;
    if (p === undefined || isIP(p.host) === 4) return Source.Other;
    this.lookUp(id); // a name: it may have moved (bounded: one at a time, udpConnectRetryMs apart)
    return resolved === undefined ? Source.Unresolved : Source.Other;
  }

  close(): void {
    this.epoch++;
  }

  private lookUp(id: number): void {
    const p = this.peers.get(id);
    if (p === undefined || isIP(p.host) === 4 || this.inFlight.has(id)) return;
    const now = performance.now();
    if (now - (this.askedAt.get(id) ?? -Infinity) < udpConnectRetryMs) return;
    this.askedAt.set(id, now);
    this.inFlight.add(id);
    const epoch = this.epoch;
    this.lookup(p.host, { family: 4 }, (error, address) => {
      if (epoch !== this.epoch) return; // set() again, or closed, meanwhile
      this.inFlight.delete(id);
      if (error !== null || isIP(address) !== 4) return this.events.failed(id);
      const before = this.resolved.get(id);
      this.resolved.set(id, address);
      if (before !== undefined && before !== address) this.events.moved(id);
    });
  }
}
