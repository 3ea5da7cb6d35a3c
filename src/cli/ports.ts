/** Free loopback ports, for local clusters and drills (free when asked; taken soon after). */
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import type { ClusterMember } from '../pipeline/cluster-node.js';

export function freePort(kind: 'tcp' | 'udp'): Promise<number> {
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

/** Why `port` on `host` cannot be bound (the error's code), or null when it can. */
function bindError(kind: 'tcp' | 'udp', host: string, port: number): Promise<string | null> {
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
