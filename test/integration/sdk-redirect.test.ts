/**
 * The SDK goes only to addresses it was given. A standby's 503 names its primary's address,
 * and the SDK went there, whatever it was, connecting and reconnecting alike: Hello carries the
 * API key (for challenge login its id, and a proof for a nonce the other side picks, which it
 * could relay), so a node misconfigured, or not the caller's, that named another address had
 * the key sent there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { BourseClient } from '../../src/client/client.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { freePort } from '../../src/cli/ports.js';

const apiKey = 'bk_0a1b2c3d_q2V_Lm9-Xc3aB7dR0sT4uW8yZ1eF5gH6';

/** A WebSocket server that records what reaches it, and never answers: the stranger. */
async function stranger(port: number): Promise<{ heard: string[]; close: () => void }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise((resolve) => server.once('listening', resolve));
  const heard: string[] = [];
  server.on('connection', (socket) => {
    heard.push('connection');
    socket.on('message', (data: Buffer) => heard.push(data.toString('latin1')));
  });
  return { heard, close: () => server.close() };
}

/** A member that answers every upgrade with 503, naming `primaryUrl` as a standby does. */
async function standbyNaming(port: number, primaryUrl: string): Promise<Server> {
  const server = createServer((_request, response) => {
    response.writeHead(503, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ role: 'standby', primary: 2, primaryUrl }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

test('connect does not follow a 503 to an address it was not given', async () => {
  const [near, far] = [await freePort('tcp'), await freePort('tcp')];
  const strange = await stranger(far);
  const standby = await standbyNaming(near, `ws://127.0.0.1:${far}/`);
  try {
    for (const login of ['key', 'challenge'] as const) {
      const opening = BourseClient.connect(`ws://127.0.0.1:${near}/`, {
        clientId: 7,
        apiKey,
        login,
        connectWaitMs: 600,
        silenceMs: 300,
      });
      const error = await opening.then(
        () => null,
        (e: Error) => e,
      );
      assert.deepEqual(strange.heard, [], `${login} login: nothing reached the named address`);
      assert.match(
        String(error),
        new RegExp(
          'no member took the session in 0\\.\\d s: .*HTTP 503.*its primary: ' +
            `ws://127\\.0\\.0\\.1:${far}/ \\(not followed: not among the addresses given`,
        ),
      );
    }
  } finally {
    await closeServer(standby);
    strange.close();
  }
});

test('a 503 naming a given member: the session opens there', async () => {
  const dir = tempDataDir();
  const [near, port] = [await freePort('tcp'), await freePort('tcp')];
  const node = await BourseNode.start({
    dataDir: dir,
    config: smallConfig,
    gateway: { host: '127.0.0.1', port },
  });
  const standby = await standbyNaming(near, `ws://127.0.0.1:${port}/`);
  try {
    // Given without the trailing slash: the same address.
    const members = [`ws://127.0.0.1:${near}/`, `ws://127.0.0.1:${port}`];
    const client = await BourseClient.connect(members[0], { clientId: 7, apiKey, members });
    const events = await client.addAsset({ asset: 1, scale: 2 });
    assert.equal(events[0].status, 0, 'its session is on the member the 503 named');
    await client.close();
  } finally {
    await closeServer(standby);
    await node.stop();
    removeDir(dir);
  }
});

test('reconnecting does not follow a 503 to an address it was not given', async () => {
  const dir = tempDataDir();
  const [port, far] = [await freePort('tcp'), await freePort('tcp')];
  let node: BourseNode | null = await BourseNode.start({
    dataDir: dir,
    config: smallConfig,
    gateway: { host: '127.0.0.1', port },
  });
  const strange = await stranger(far);
  let standby: Server | null = null;
  try {
    const url = `ws://127.0.0.1:${port}/`;
    const client = await BourseClient.connect(url, { clientId: 8, apiKey, reconnectWaitMs: 1_500 });
    await node.stop(); // a drop: the client looks for the session again...
    node = null;
    // ...where the node was, now a member that names another address as its primary.
    standby = await standbyNaming(port, `ws://127.0.0.1:${far}/`);
    const call = client.addAsset({ asset: 1, scale: 2 });
    await assert.rejects(call, /not sent, not applied|closed/);
    assert.deepEqual(strange.heard, [], 'nothing reached the address the standby named');
    await client.close();
  } finally {
    if (standby !== null) await closeServer(standby);
    await node?.stop();
    strange.close();
    removeDir(dir);
  }
});
