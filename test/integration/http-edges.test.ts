/**
 * HTTP at its edges, as a hostile-input audit found them: HEAD, where health checkers use it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { withNode } from '../harness/gateway-node.js';

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
    ] as const) {
      const head = await fetch(`${base}${path}`, { method: 'HEAD' });
      const get = await fetch(`${base}${path}`);
      assert.equal(head.status, status, `HEAD ${path}`);
      assert.equal(head.headers.get('content-type'), get.headers.get('content-type'), path);
    }
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
