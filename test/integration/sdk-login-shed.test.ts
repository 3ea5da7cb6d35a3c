/**
 * A node that sheds logins (503 with retryAfterMs: its logins under way are full) is up and
 * asks the client back: the SDK waits what it asks, jittered, and does not give up on it at
 * reconnectWaitMs. 10,000 clients after a restart were not all in within 30 s, and those left
 * failed every later call for good.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';
import { BourseClient } from '../../src/client/client.js';
import { reconnectPauseMs } from '../../src/client/backoff.js';
import type { ConnectionState } from '../../src/client/connection-state.js';
import { FrameType } from '../../src/protocol/frames.js';
import { welcomeFor } from '../harness/welcome-frame.js';
import { until } from '../harness/wait.js';
import { clientProcess } from '../harness/client-process.js';

/**
 * A server that welcomes every Hello, and sheds every upgrade while `shedding()`, asking to
 * come back in `retryAfterMs`.
 */
async function sheddingServer(shedding: () => boolean, retryAfterMs = 100) {
  let shed = 0;
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (_info, done) => {
      if (!shedding()) return done(true);
      shed++;
      const body = JSON.stringify({ error: 'too many logins under way', retryAfterMs });
      done(false, 503, body, { 'retry-after': '1', 'content-type': 'application/json' });
    },
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => {
      if (data.readUInt8(0) === FrameType.Hello) socket.send(welcomeFor(data));
    });
  });
  const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`;
  const dropAll = (): void => wss.clients.forEach((s) => s.terminate());
  return { url, dropAll, shed: () => shed, close: () => wss.close() };
}

// Fails on the old code: it gave up at reconnectWaitMs (400 ms), shed all along ('closed').
test('a client shed past reconnectWaitMs goes on and comes back', async () => {
  let shedUntil = 0;
  const s = await sheddingServer(() => performance.now() < shedUntil);
  let next: (state: string) => void = () => {};
  const onState = (state: ConnectionState): void => next(state.state);
  try {
    const client = await BourseClient.connect(s.url, {
      clientId: 7,
      reconnectWaitMs: 400,
      onState,
    });
    const settled = new Promise<string>((resolve) => {
      next = (state) => void (state === 'open' || state === 'closed' ? resolve(state) : 0);
    });
    shedUntil = performance.now() + 900; // more than twice reconnectWaitMs
    s.dropAll(); // a drop (1006): it reconnects, and is shed a while
    assert.equal(await settled, 'open', 'back once the node took it');
    assert.ok(s.shed() > 1, `shed ${s.shed()} times first`);
    assert.equal(client.reconnects, 1);
    await client.close();
  } finally {
    s.close();
  }
});

// Fails on the old code: no jitter (and no backoff.ts); every client paused alike.
test('reconnect pauses are jittered around the backoff or what the server asked', () => {
  assert.equal(reconnectPauseMs(0, 1, 0, 0), 12.5, 'a single node: 25 ms × [0.5, 1.5)');
  assert.equal(reconnectPauseMs(0, 1, 0, 0.5), 25);
  assert.ok(reconnectPauseMs(0, 1, 0, 0.99) > 37);
  assert.equal(reconnectPauseMs(10, 1, 0, 0.5), 1_000, 'capped at 1 s, on average');
  assert.equal(reconnectPauseMs(10, 1, 0, 0), 500);
  assert.equal(reconnectPauseMs(0, 1, 4_000, 0), 2_000, "a shed login: the server's wait");
  assert.equal(reconnectPauseMs(3, 3, 0, 0.5), 10, 'a cluster: 5 ms doubling per round');
  assert.equal(reconnectPauseMs(4, 3, 0, 0.5), 0, 'none between the members of a round');
});

// Fails on the old code: the pause before the next try (the server asked a minute: 30-90 s,
// jittered) was a timer that close() left running, and it held the process that long.
test('a client closed while it waits as a shedding node asked lets its process end', async () => {
  let shedding = false;
  const s = await sheddingServer(() => shedding, 60_000);
  const c = clientProcess(s.url);
  try {
    await until('the client opened', () => c.out().includes('open\n'));
    shedding = true;
    s.dropAll(); // a drop (1006): it reconnects, is shed, and waits what was asked
    await until('shed once', () => s.shed() >= 1);
    await c.closeAndExit();
  } finally {
    c.kill();
    s.close();
  }
});
