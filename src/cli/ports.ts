/**
 * Free loopback ports, for local clusters, drills and tests (free when asked; taken soon after).
 *
 * Picked below the kernel's ephemeral range (ip_local_port_range, 32768-60999 by default): a
 * port the kernel handed out for bind(0) is the kind it hands out again to the next outgoing
 * connection, so on a busy machine a member's port was at times some client's by the time it
 * listened (ListenError in CI, while other work made connections). Random, so that processes
 * picking at once rarely meet; bound and let go to check, then left to the kernel only after
 * localPortTries misses.
 */
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { localPortCount, localPortMin, localPortsGivenMax, localPortTries } from '../constants.js';
import type { ClusterMember } from '../pipeline/cluster-node.js';
import { ExitError } from './output.js';

export async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  for (let i = 0; i < localPortTries; i++) {
    const port = localPortMin + Math.floor(Math.random() * localPortCount);
    if (given.includes(port)) continue;
    give(port); // before the check: a call meanwhile (Promise.all) does not pick it too
    if ((await bindError(kind, '127.0.0.1', port)) === null) return port;
  }
  return anyPort(kind);
}

/**
 * The ports this process handed out last (at most localPortsGivenMax), never handed out again
 * meanwhile. A port is free when checked, and stays so until its taker binds it: a cluster
 * picks all its members' ports before the first listens, and two picks of one process could
 * meet (3 of 10,000: ~0.03% a cluster and kind, then a ListenError), unseen by the check.
 */
const given: number[] = [];

function give(port: number): void {
  if (given.length === localPortsGivenMax) given.shift();
  given.push(port);
}

/** A port the kernel picks (its ephemeral range). */
function anyPort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    return new Promise((resolve) => {
      const socket = createSocket('udp4');
      socket.bind(0, '127.0.0.1', () => {
        const port = socket.address().port;
        socket.close(() => resolve(port));
      });
    });
  }
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The ports of `members` that cannot be bound now, said as `host:port (tcp, member id): code`
 * (EADDRINUSE: taken; EADDRNOTAVAIL: not this machine's address). Each is bound and let go at
 * once: `bourse cluster` checks them all before it starts a member (a port freed meanwhile, or
 * taken, is found by the member itself).
 */
export async function portsTaken(members: readonly ClusterMember[]): Promise<string[]> {
  const taken: string[] = [];
  for (const m of members) {
    const tcp = await bindError('tcp', m.host, m.port);
    if (tcp !== null) taken.push(`${m.host}:${m.port} (tcp, member ${m.id}): ${tcp}`);
    const udp = await bindError('udp', m.host, m.replicationPort);
    if (udp !== null) taken.push(`${m.host}:${m.replicationPort} (udp, member ${m.id}): ${udp}`);
  }
  return taken;
}

/**
 * Refuses (exit 69) `members` any of whose ports cannot be bound now (portsTaken), before
 * anything is written or started: the message names each port, its kind and its member, says
 * `outcome` (what was not done) and `how` to go on (default: free it, or them).
 * @throws ExitError 69
 */
export async function refuseTakenPorts(
  members: readonly ClusterMember[],
  outcome: string,
  how?: string,
): Promise<void> {
  const taken = await portsTaken(members);
  if (taken.length === 0) return;
  const free = how ?? (taken.length === 1 ? 'free it' : 'free them');
  throw new ExitError(
    `cannot bind ${taken.join('; ')}: ${outcome} (${free}; \`ss -tulpn\` shows who holds a port)`,
    69,
  );
}

/** Why `port` on `host` cannot be bound (the error's code), or null when it can. */
export function bindError(kind: 'tcp' | 'udp', host: string, port: number): Promise<string | null> {
  const why = (error: NodeJS.ErrnoException): string => error.code ?? error.message;
  if (kind === 'udp') {
    return new Promise((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', (error) => {
        socket.close();
        resolve(why(error));
      });
      socket.bind(port, host, () => socket.close(() => resolve(null)));
    });
  }
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error) => resolve(why(error)));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(null)));
  });
}
