/**
 * Members' host names to IPv4 addresses, for the replication transport's sockets (node:dgram's
 * `lookup` option) and for following a member that moved (udp-transport.ts, noteSource).
 *
 *   name ──c-ares (resolve4, on the event loop, bounded, cancellable)──▶ address
 *     └── not in DNS ──getaddrinfo (the hosts file)──▶ address, or not found
 *
 * Why not getaddrinfo alone (node's default): it runs on libuv's thread pool and cannot be
 * cancelled. Container DNS (podman's aardvark-dns) leaves queries unanswered for seconds while
 * members restart, so lookups piled up on the four pool threads that file I/O shares, and a
 * stopped member could not exit: node's exit joins the pool's threads, and waited for them.
 */
import { lookup as systemLookup, Resolver, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { hostLookupTimeoutMs, hostLookupTries } from '../constants.js';

/** Host name to IPv4 address: node:dgram's `lookup` option (udp4 sockets ask for family 4). */
export type HostLookup = (
  host: string,
  options: LookupOneOptions | number,
  done: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
) => void;

/** Codes of c-ares for a name DNS answered that it does not have. */
const notInDns = new Set(['ENOTFOUND', 'ENODATA']);

/** A lookup through `resolver` (cancel it to end the lookups in flight), then the hosts file. */
export function resolverLookup(resolver: Resolver): HostLookup {
  return (host, _options, done) => {
    if (isIP(host) === 4) return done(null, host, 4);
    resolver.resolve4(host, (error, addresses) => {
      if (error === null && addresses.length > 0) return done(null, addresses[0], 4);
      if (error !== null && !notInDns.has(error.code ?? '')) return done(error, '', 0);
      systemLookup(host, { family: 4 }, done); // localhost, /etc/hosts, extra_hosts
    });
  };
}

export function newResolver(): Resolver {
  return new Resolver({ timeout: hostLookupTimeoutMs, tries: hostLookupTries });
}
