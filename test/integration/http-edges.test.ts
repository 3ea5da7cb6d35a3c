/**
 * HTTP at its edges, as a hostile-input audit found them: HEAD, where health checkers use it;
 * development mode (every session admin) open to any web page a developer had open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import { upgradeOutcome, withNode } from '../harness/gateway-node.js';

/** What a raw connection receives for `request` (bytes as latin1), once it has gone quiet. */
function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('error', reject);
    socket.setTimeout(300, () => {
      socket.destroy();
      resolve(received);
    });
  });
}

test('HEAD is answered wherever GET is: the same status and headers, no body', async () => {
  await withNode(async (node) => {
    const port = node.gateway!.port;
    const base = `http://127.0.0.1:${port}`;
    for (const [path, status] of [
      ['/health', 200],
      ['/ready', 200],
      ['/metrics', 200],
      ['/balances?account=x', 400],
      // The dashboard's files were mounted apart from route(): HEAD was not answered.
      ['/dashboard', 200],
      ['/dashboard/app.js', 200],
    ] as const) {
      const head = await fetch(`${base}${path}`, { method: 'HEAD' });
      const get = await fetch(`${base}${path}`);
      assert.equal(head.status, status, `HEAD ${path}`);
      assert.equal(head.headers.get('content-type'), get.headers.get('content-type'), path);
      assert.equal(await head.text(), '', `HEAD ${path}: no body`);
    }
    const posted = await fetch(`${base}/dashboard`, { method: 'POST' });
    assert.deepEqual([posted.status, posted.headers.get('allow')], [405, 'GET, HEAD']);
    // No body on the wire: the GET behind it on the same connection is read as its own answer.
    const both = await exchange(
      port,
      'HEAD /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const answers = both.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 2, both);
    assert.match(answers[0], /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(answers[0].endsWith('\r\n\r\n'), `HEAD's answer ends with its headers: ${both}`);
    assert.match(answers[0], /content-length: [1-9]\d*\r\n/i, "and says the GET's length");
    assert.match(answers[1], /\r\n\r\n\{"status":"ok"/, 'the GET has its body');
  });
});

/** An upgrade's outcome with these headers: 'open', or the refusal's status. */
function upgradeWith(url: string, headers: Record<string, string>): Promise<string | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('error', () => {});
    ws.once('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
  });
}

test('development mode: pages of other sites are refused; POST /commands takes JSON', async () => {
  await withNode(async (node, url) => {
    const port = node.gateway!.port;
    const base = `http://127.0.0.1:${port}`;
    const deposit = { kind: 'Deposit', clientId: 9, clientSeq: 1, account: 1, asset: 1, amount: 1 };
    const post = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${base}/commands`, { method: 'POST', headers, body: JSON.stringify(deposit) });
    // A page elsewhere sent text/plain (no preflight) and it was processed as an admin's.
    const evil = await post({ origin: 'http://evil.example', 'content-type': 'text/plain' });
    assert.equal(evil.status, 403);
    assert.match(((await evil.json()) as { error: string }).error, /^development mode/);
    const plain = await post({ 'content-type': 'text/plain' });
    assert.equal(plain.status, 415, 'JSON only, in every mode');
    const refusal = ((await plain.json()) as { error: string }).error;
    assert.match(
      refusal,
      /^content-type: application\/json required; this request had content-type "text\/plain"/,
    );
    const own = await post({ origin: base, 'content-type': 'application/json; charset=utf-8' });
    assert.equal(own.status, 200, "the node's own page, and clients without Origin, go on");
    // WebSocket upgrades alike; DNS rebinding makes Origin and Host agree on a name.
    assert.equal(await upgradeWith(url, { origin: 'http://evil.example' }), 403);
    const rebound = { origin: `http://evil.example:${port}`, host: `evil.example:${port}` };
    assert.equal(await upgradeWith(url, rebound), 403, 'a name DNS can rebind');
    assert.equal(await upgradeWith(url, { origin: base }), 'open');
    assert.equal(await upgradeWith(url, { origin: `http://localhost:${port}` }), 403);
    const local = { origin: `http://localhost:${port}`, host: `localhost:${port}` };
    assert.equal(await upgradeWith(url, local), 'open');
    assert.equal(await upgradeOutcome(url), 'open', 'no Origin: not a page');
  });
});
