/**
 * freePort picks below the kernel's ephemeral ports: one the kernel handed out for bind(0) it
 * hands out again to outgoing connections, and a cluster member's port was at times a client's
 * by the time the member listened (ListenError in CI while other work made connections).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { localPortCount, localPortMin } from '../../../src/constants.js';
import { freePort } from '../../../src/cli/ports.js';

/** The kernel's first ephemeral port (32768 where the file cannot be read). */
function ephemeralMin(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
  } catch {
    return 32768;
  }
}

test('free ports are below the ephemeral range, and free', async () => {
  assert.ok(localPortMin + localPortCount <= ephemeralMin(), "the range is below the kernel's");
  const seen = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const tcp = await freePort('tcp');
    const udp = await freePort('udp');
    for (const port of [tcp, udp]) {
      assert.ok(port >= localPortMin && port < localPortMin + localPortCount, `${port}`);
      seen.add(port);
    }
    await new Promise<void>((resolve, reject) => {
      const server = createServer().once('error', reject);
      server.listen({ port: tcp, host: '127.0.0.1', exclusive: true }, () =>
        server.close(() => resolve()),
      );
    });
    await new Promise<void>((resolve, reject) => {
      const socket = createSocket('udp4').once('error', reject);
      socket.bind(udp, '127.0.0.1', () => socket.close(() => resolve()));
    });
  }
  assert.ok(seen.size > 20, 'picked at random: processes asking at once rarely meet');
});

test('a port taken is not picked', async () => {
  // The range is too wide to fill: hold each port picked, and see none picked again meanwhile.
  const held: { port: number; server: Server }[] = [];
  try {
    for (let i = 0; i < 30; i++) {
      const port = await freePort('tcp');
      assert.ok(!held.some((h) => h.port === port), `${port} is held`);
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
      held.push({ port, server });
    }
  } finally {
    for (const h of held) h.server.close();
  }
});

test('a port handed out is not handed out again before its taker binds it', async () => {
  // A cluster picks every member's port before the first listens: the second pick of the same
  // port passed the bind check (nothing held it yet), and the second member could not listen.
  const draws = [0.5, 0.5];
  const random = Math.random;
  Math.random = () => draws.shift() ?? random();
  try {
    const first = await freePort('tcp');
    const second = await freePort('tcp');
    assert.notEqual(second, first, 'the port handed out first (drawn again), not yet bound');
  } finally {
    Math.random = random;
  }
});
