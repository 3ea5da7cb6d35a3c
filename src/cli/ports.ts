/** Free loopback ports, for local clusters and drills (free when asked; taken soon after). */
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

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
