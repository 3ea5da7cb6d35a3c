/**
 * The host names of the members this machine runs (`bourse member`: its own; `bourse cluster`:
 * all of them), looked up before anything is written. A member binds its host's address:
 * a name that does not resolve, or resolves to another machine's address, failed only at the
 * bind, once the member had made its folder and stored its id in it (and `--make-secret` its
 * secret), and `bourse cluster` said it as a port it could not bind ("ENOTFOUND").
 *
 *   host ──an address (not looked up)─────────────────────────────┬─ not this machine's: 69
 *     │                                                           └─ this machine's ──► ports
 *     └─a name──lookup (host-lookup.ts: DNS, then the hosts file)─┬─ none: exit 68 (EX_NOHOST)
 *                                                                 ├─ not this machine's: 69
 *                                                                 └─ this machine's ──► ports
 *
 * The lookup is the replication transport's own (pipeline/host-address.ts: bounded, cancelled
 * once done), so a name it would not resolve is refused here rather than later.
 * Containers give `--listen` an address (docker/compose.yml): nothing is looked up then, but
 * it is checked as a name's address is (an address not this machine's was refused by the port
 * check, as a port to free).
 */
import { isIP } from 'node:net';
import type { ClusterMember } from '../pipeline/cluster-node.js';
import { hostAddresses } from '../pipeline/host-address.js';
import { ExitError } from './output.js';
import { bindError } from './ports.js';

/**
 * `members` with each host name replaced by its address (to check their ports on). Refuses a
 * name that does not resolve (exit 68), else one that resolves to an address this machine does
 * not have, or an IPv6 address (udp4 replication: it was said as a port that could not be bound,
 * EINVAL) (exit 69): each named with its member and what the lookup said, then `outcome`
 * (what was not done) and `how` to go on.
 * @throws ExitError 68 or 69
 */
export async function refuseForeignHosts(
  members: readonly ClusterMember[],
  outcome: string,
  how: string,
): Promise<ClusterMember[]> {
  const named = members.filter((m) => isIP(m.host) === 0);
  const found = await hostAddresses(named.map((m) => m.host));
  const unknown: string[] = [];
  const foreign: string[] = [];
  const addresses = new Map<number, string>();
  for (const m of members) {
    const at = isIP(m.host) === 0 ? found[named.indexOf(m)] : { address: m.host };
    const who = `${m.host} (member ${m.id})`;
    if ('code' in at) unknown.push(`${who}: ${at.code}`);
    else if (isIP(at.address) === 6) {
      foreign.push(`${who} is an IPv6 address: a member's replication is IPv4 (udp4)`);
    } else if ((await bindError('tcp', at.address, 0)) === 'EADDRNOTAVAIL') {
      const is = at.address === m.host ? '' : ` is ${at.address},`;
      foreign.push(`${who}${is} not an address of this machine`);
    } else addresses.set(m.id, at.address);
  }
  if (unknown.length > 0) {
    throw new ExitError(`cannot resolve host ${unknown.join('; ')}: ${outcome} (${how})`, 68);
  }
  if (foreign.length > 0) {
    throw new ExitError(`host ${foreign.join('; ')}: ${outcome} (${how})`, 69);
  }
  return members.map((m) => ({ ...m, host: addresses.get(m.id) ?? m.host }));
}
