/**
 * A member's host name to its IPv4 address, looked up as its replication transport will look
 * it up (host-lookup.ts: DNS on the event loop, bounded by hostLookupTimeoutMs and
 * hostLookupTries, then the hosts file), for the checks a member's start makes before it
 * writes anything (cli/member-hosts.ts). One resolver for the whole check, cancelled after:
 * nothing of it is left to hold the process's exit.
 */
import { newResolver, resolverLookup } from '../replication/host-lookup.js';

/** A name looked up: its address, or why there is none (the lookup's code, ENOTFOUND). */
export type HostAddress = { address: string } | { code: string };

/** Looks up each of `hosts` in turn (an IP address is its own). */
export async function hostAddresses(hosts: readonly string[]): Promise<HostAddress[]> {
  const resolver = newResolver();
  const lookup = resolverLookup(resolver);
  const one = (host: string): Promise<HostAddress> =>
    new Promise((resolve) =>
      lookup(host, { family: 4 }, (error, address) =>
        resolve(error === null ? { address } : { code: error.code ?? error.message }),
      ),
    );
  try {
    const found: HostAddress[] = [];
    for (const host of hosts) found.push(await one(host));
    return found;
  } finally {
    resolver.cancel();
  }
}
