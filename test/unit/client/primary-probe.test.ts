/**
 * The SDK's question to the other members of a quiet connection: which of you is a primary
 * taking commands? Standbys, members that hang, closed ports, wss:// addresses and addresses
 * that do not parse all answer "not I", within the timeout, and never throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { primaryAmong } from '../../../src/client/primary-probe.js';
import { freePort } from '../../../src/cli/ports.js';

async function member(answer: ((res: import('node:http').ServerResponse) => void) | null) {
  const server: Server = createServer((_req, res) => answer?.(res)); // null: never answers
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { server, url: `ws://127.0.0.1:${address.port}/` };
}

const json = (body: object) => (res: import('node:http').ServerResponse) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

test('primaryAmong: the member that says it is a primary taking commands, only it', async () => {
  const standby = await member(json({ role: 'standby', accepting: false }));
  const promoting = await member(json({ role: 'primary', accepting: false }));
  const hung = await member(null);
  const garbage = await member((res) => res.end('not json'));
  const primary = await member(json({ role: 'primary', accepting: true }));
  const closed = `ws://127.0.0.1:${await freePort('tcp')}/`;
  const all = [standby, promoting, hung, garbage, primary];
  try {
    const others = [standby.url, promoting.url, hung.url, garbage.url, closed, 'ws://', 'wss://x/'];
    const started = performance.now();
    assert.equal(await primaryAmong([...others, primary.url], 200), primary.url);
    assert.equal(await primaryAmong(others, 200), null, 'none of them');
    assert.ok(performance.now() - started < 2_000, 'within the timeouts');
    assert.equal(await primaryAmong([], 200), null);
  } finally {
    for (const m of all) m.server.closeAllConnections();
    for (const m of all) m.server.close();
  }
});
