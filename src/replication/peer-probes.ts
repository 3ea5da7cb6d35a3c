/**
 * Probes of peers (udp-transport.ts probe()): an empty datagram sent from a socket connected
 * to the peer, one socket per peer. A peer whose process died has no socket on its port: the
 * host answers ICMP port unreachable, which Linux reports on a connected socket as
 * ECONNREFUSED, within a millisecond on loopback or a LAN. A host that is down, or a network
 * that drops ICMP, says nothing: the election timeout stays the rule, the probe only a shortcut.
 */
import { createSocket, type Socket } from 'node:dgram';
import { udpConnectRetryMs } from '../constants.js';
import type { HostLookup } from './host-lookup.js';
import type { PeerAddress } from './peer-addresses.js';

const emptyDatagram = Buffer.alloc(0);

export class PeerProbes {
  /** Probe sockets whose connect (its name's lookup) is in flight, closed with the transport. */
  private readonly connecting = new Set<Socket>();
  /** Connected sockets for probes, by peer, once connected (null: connecting). */
  private readonly probes = new Map<number, Socket | null>();
  private closed = false;

  /** `unreachable`: a probe found the peer's port closed; `failed`: a connect failed. */
  constructor(
    private readonly lookup: HostLookup,
    private readonly unreachable: (id: number) => void,
    private readonly failed: () => void,
  ) {}

  /** Sends a probe to `peer`, connecting its socket first (that probe is then not sent). */
  probe(peer: PeerAddress): void {
    const to = peer.id;
    const socket = this.probes.get(to);
    if (socket === undefined) {
      const s = createSocket({ type: 'udp4', lookup: this.lookup });
      this.probes.set(to, null); // connecting
      s.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED') this.unreachable(to);
      });
      s.on('message', () => {}); // errors are reported to a socket that reads
      this.connect(s, peer, (error) => {
        if (error === undefined && !this.closed) this.probes.set(to, s);
        else if (error === undefined) s.close();
        else this.connectFailed(s, () => this.probes.get(to) === null && this.probes.delete(to));
      });
      return;
    }
    socket?.send(emptyDatagram);
  }

  /** A peer's name resolves elsewhere now: its probe socket is connected again on next use. */
  forget(id: number): void {
    this.probes.get(id)?.close();
    this.probes.delete(id);
  }

  /** Closes every probe socket (connected again on the next probe). */
  clear(): void {
    for (const probe of this.probes.values()) probe?.close();
    this.probes.clear();
    for (const s of this.connecting) s.close(); // its connect's callback is then never called
    this.connecting.clear();
  }

  close(): void {
    this.closed = true;
    this.clear();
  }

  /** Connects `s` to `peer`; held in `connecting` meanwhile, so that closing ends it. */
  private connect(s: Socket, peer: PeerAddress, done: (error?: Error) => void): void {
    this.connecting.add(s);
    s.connect(peer.port, peer.host, (error?: Error) => {
      this.connecting.delete(s);
      done(error);
    });
  }

  /**
   * A connect's callback gets the error when the name did not resolve or the connect failed
   * (the socket is then not connected: sending on it without an address throws). Counted, the
   * socket closed, and `forget` run after udpConnectRetryMs so that the next use tries again
   * (its datagrams lost meanwhile: consensus resends). Containers start before names resolve.
   */
  private connectFailed(s: Socket, forget: () => void): void {
    this.failed();
    s.close();
    setTimeout(forget, udpConnectRetryMs).unref();
  }
}
