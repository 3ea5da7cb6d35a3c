/**
 * A login the server is still processing is not given up (client/opening-watch.ts). The SDK
 * gave an opening silenceMs in all, from the socket's creation: in a reconnect storm its own
 * event loop ran seconds late, its timer fired before it read the Welcome already there, and it
 * ended a session the server had just opened (1006: a loss, the client's orders canceled).
 * Silence still ends an opening: a server that takes the connection and answers nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer, type WebSocket } from 'ws';
import { BourseClient } from '../../src/client/client.js';
import { FrameType } from '../../src/protocol/frames.js';
import { welcomeFor } from '../harness/welcome-frame.js';
import { clientProcess } from '../harness/client-process.js';
import { until } from '../harness/wait.js';

const silenceMs = 200;

/**
 * A server that answers each Hello with `onHello(socket, hello)`; `autoPong` false: it answers
 * no ping either (hung).
 */
async function server(onHello: (socket: WebSocket, hello: Buffer) => void, autoPong = true) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => {
      if (data.readUInt8(0) === FrameType.Hello) onHello(socket, data);
    });
  });
  const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`;
  return { url, close: () => wss.close() };
}

/** Busy for `ms`: this process's event loop stalls, as a client's did under a storm. */
function stall(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

// Fails on the old code: "no answer within 200 ms", though the server answered every ping.
test('a login queued on a live server (it pongs) is waited for past silenceMs', async () => {
  let pings = 0;
  const s = await server((socket, hello) => {
    socket.on('ping', () => pings++);
    setTimeout(() => socket.send(welcomeFor(hello)), 4 * silenceMs);
  });
  try {
    const client = await BourseClient.connect(s.url, { clientId: 7, silenceMs });
    assert.ok(pings > 0, 'the SDK pinged the server while it waited');
    await client.close();
  } finally {
    s.close();
  }
});

// Fails on the old code: its timer, due during the stall, ran before the Welcome was read.
test('a client stalled past silenceMs reads the Welcome that came meanwhile', async () => {
  const s = await server((socket, hello) => {
    socket.send(welcomeFor(hello));
    stall(3 * silenceMs); // the whole process: the Welcome waits unread, the timers are due
  });
  try {
    const client = await BourseClient.connect(s.url, { clientId: 8, silenceMs });
    assert.equal(client.clientId, 8);
    await client.close();
  } finally {
    s.close();
  }
});

test('a server that answers nothing after the upgrade, not even a ping, is given up', async () => {
  const s = await server(() => {}, false);
  try {
    const opening = BourseClient.connect(s.url, { clientId: 9, silenceMs });
    await assert.rejects(opening, /no answer within 200 ms \(hung, or cut off\?\)/);
  } finally {
    s.close();
  }
});

test('a server that pongs and never logs in is given up at connectWaitMs', async () => {
  const s = await server(() => {});
  try {
    const opening = BourseClient.connect(s.url, { clientId: 10, silenceMs, connectWaitMs: 600 });
    await assert.rejects(opening, /no Welcome within 600 ms/);
  } finally {
    s.close();
  }
});

// Fails on the old code: the opening went on (the server answered its pings) until
// connectWaitMs, a minute here, and held the closed client's process that long.
test('a client closed while its login waits on a live server lets its process end', async () => {
  const hellos: WebSocket[] = [];
  const s = await server((socket, hello) => {
    hellos.push(socket);
    if (hellos.length === 1) socket.send(welcomeFor(hello)); // later logins stay queued
  });
  const c = clientProcess(s.url, { connectWaitMs: 60_000 });
  try {
    await until('the client opened', () => c.out().includes('open\n'));
    hellos[0].terminate(); // a drop (1006): it reconnects, and its login waits
    await until('its login waits', () => hellos.length === 2);
    await c.closeAndExit();
  } finally {
    c.kill();
    s.close();
  }
});
