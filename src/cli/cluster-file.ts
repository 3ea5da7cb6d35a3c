/**
 * The cluster file (cluster.json), read and checked, and a local cluster's shape: what `bourse
 * keys`, the drills and the benches read, apart from the members' code (cluster.ts), which
 * loads the whole pipeline (~0.2 s of CPU a `bourse keys` call spent on nothing).
 *
 *   cluster.json   {"members": [{"id": 1, "host": "127.0.0.1", "port": 9001,
 *                                "replicationPort": 9101}, ...]}
 *   <data>/member-<id>/   each member's data folder
 *
 * A member's host is where its peers and clients send: an address none can send to
 * (unsendableHost) is refused here, so that every command reading the file says so alike.
 */
import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { join } from 'node:path';
import { clusterMembersMax, udpPayloadBytesDefault, udpPayloadBytesMax } from '../constants.js';
import type { ClusterMember } from '../pipeline/cluster-node.js';
import type { Capacities } from '../pipeline/engine-config.js';
import { capacitiesFromFile } from './capacities.js';
import { ExitError, UsageError } from './output.js';

export interface ClusterFile {
  members: ClusterMember[];
  /** The engine capacities every member runs with (none: each folder's, or the defaults). */
  capacities?: Capacities;
  /**
   * The largest chunk of a replication datagram each member sends (none: the default,
   * udpPayloadBytesDefault, safe on any path; larger for loopback or jumbo frames).
   */
  datagramPayloadBytes?: number;
}

/**
 * Reads and checks a cluster file. @throws ExitError 66 (no input) naming a file that cannot be
 * read (it was 64, a usage error), UsageError naming what is wrong in one that can.
 */
export function readClusterFile(path: string): ClusterFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ExitError(`cluster file ${path}: cannot read it (${code})`, 66);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`cluster file ${path}: ${(error as Error).message}`);
  }
  const members = (parsed as { members?: unknown }).members;
  if (!Array.isArray(members) || members.length === 0 || members.length > clusterMembersMax) {
    throw new UsageError(`cluster file ${path}: "members" must list 1 to ${clusterMembersMax}`);
  }
  const taken = new Set<string>();
  const claim = (what: string): void => {
    if (taken.has(what)) throw new UsageError(`cluster file ${path}: ${what} used twice`);
    taken.add(what);
  };
  for (const m of members as Record<string, unknown>[]) {
    // Messages name their sender in one byte and drop any id past clusterMembersMax: a member
    // with a larger id would never be heard, and the cluster would never elect.
    const id = m.id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > clusterMembersMax) {
      throw new UsageError(
        `cluster file ${path}: member id ${String(id)}: 1..${clusterMembersMax}`,
      );
    }
    for (const key of ['port', 'replicationPort']) {
      const v = m[key];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65_535) {
        throw new UsageError(`cluster file ${path}: member ${id}: ${key} 1..65535`);
      }
    }
    if (typeof m.host !== 'string') throw new UsageError(`cluster file ${path}: host missing`);
    const unsendable = unsendableHost(m.host);
    if (unsendable !== null) {
      throw new UsageError(`cluster file ${path}: member ${id}: host ${m.host} is ${unsendable}`);
    }
    claim(`member id ${id}`);
    // TCP (clients) and UDP (replication) ports are apart: the same number may serve both.
    claim(`port ${m.host}:${String(m.port)} (tcp)`);
    claim(`port ${m.host}:${String(m.replicationPort)} (udp)`);
  }
  const capacities = capacitiesFromFile((parsed as { capacities?: unknown }).capacities, path);
  const payload = (parsed as { datagramPayloadBytes?: unknown }).datagramPayloadBytes;
  const datagramPayloadBytes = payload === undefined ? undefined : payloadBytes(payload, path);
  return { members: members as ClusterMember[], capacities, datagramPayloadBytes };
}

/**
 * Why peers and clients cannot send to `host` (an address), or null (a name is looked up later,
 * member-hosts.ts). 0.0.0.0 was taken: the member started, and each peer sent to its own machine.
 */
export function unsendableHost(host: string): string | null {
  const family = isIP(host);
  if (family === 0) return null;
  for (const [addresses, reason] of unsendableAddresses) {
    if (addresses.check(host, family === 4 ? 'ipv4' : 'ipv6')) return reason;
  }
  return null;
}

/** Addresses no peer or client can send to a member at, each with why (unsendableHost). */
const unsendableAddresses: readonly (readonly [BlockList, string])[] = [
  [
    subnets(['0.0.0.0/32', '::/128']),
    'the unspecified address: a peer sending to it reaches its own machine (give the address ' +
      'others reach the member at; --listen 0.0.0.0 binds all of its addresses)',
  ],
  [subnets(['255.255.255.255/32']), 'the broadcast address, not one member'],
  [
    subnets(['224.0.0.0/4', 'ff00::/8']),
    'a multicast address (224.0.0.0/4, ff00::/8), not one member',
  ],
];

/** A BlockList of `cidrs` ("address/prefix", IPv4 or IPv6). */
function subnets(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split('/');
    list.addSubnet(address, Number(prefix), isIP(address) === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** A cluster file's "datagramPayloadBytes". @throws UsageError */
function payloadBytes(value: unknown, path: string): number {
  const ok = typeof value === 'number' && Number.isInteger(value);
  if (ok && value >= udpPayloadBytesDefault && value <= udpPayloadBytesMax) return value;
  throw new UsageError(
    `cluster file ${path}: "datagramPayloadBytes": ${String(value)}: ` +
      `${udpPayloadBytesDefault} (the default) to ${udpPayloadBytesMax}`,
  );
}

/** Refuses a --base-port whose members' ports (localCluster) leave 1..65535. @throws UsageError */
export function checkBasePort(nodes: number, basePort: number): void {
  const last = basePort + nodes - 1 + replicationPortOffset;
  if (basePort < 1 || last > 65_535) {
    throw new UsageError(
      `--base-port: ${basePort}: members use ports ${basePort}..${basePort + nodes - 1} and ` +
        `${basePort + replicationPortOffset}..${last}, which must lie within 1..65535`,
    );
  }
}

/** A member's replication port in a local cluster: its client port plus this. */
const replicationPortOffset = 100;

/** Members on loopback: client ports from `basePort`, replication ports 100 above. */
export function localCluster(nodes: number, basePort: number): ClusterFile {
  const members: ClusterMember[] = [];
  for (let id = 1; id <= nodes; id++) {
    const port = basePort + id - 1;
    members.push({ id, host: '127.0.0.1', port, replicationPort: port + replicationPortOffset });
  }
  return { members };
}

/** Member `id`'s data folder in a local cluster's folder. */
export function memberDataDir(data: string, id: number): string {
  return join(data, `member-${id}`);
}
