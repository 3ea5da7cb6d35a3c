/**
 * Clients that reset the connection (RST) while a large HTTP answer goes out. A fuzzing audit
 * took a node down this way in under a second: uWS ends the process ("returning from a
 * request handler without responding or attaching an abort handler is forbidden") when a
 * synchronous handler's end() cannot finish on a reset socket and no abort handler is set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BourseClient } from '../../src/client/client.js';
import { setUp, withNode } from '../harness/gateway-node.js';
import { workload } from '../harness/workload.js';

const resets = 1_500;

/**
 * Sends `request` `count` times, each on a new connection it then resets (RST, not FIN), from
 * another process: the node must read each request before the reset comes, as a remote
 * client's would be (from this process the kernel dropped each unread request with the reset).
 */
function resetLoop(port: number, request: string, count: number): Promise<number | null> {
  const script = `
    const net = require('node:net');
    const [port, request, count] = [${port}, ${JSON.stringify(request)}, ${count}];
    let left = count;
    const next = () => {
      if (left-- === 0) return;
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(request, () => { socket.resetAndDestroy(); next(); }));
      socket.on('error', () => next());
    };
    next();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

test('large answers to clients that reset the connection do not end the node', async () => {
  await withNode(async (node, url) => {
    const c = await BourseClient.connect(url, { clientId: 9 });
    await setUp(c);
    const more = workload(9, 300).slice(-300);
    await Promise.all(more.map(({ kind, clientId, clientSeq, ...body }) => c.submit(kind, body)));
    await c.close();
    const port = node.gateway?.port ?? 0;
    const base = `http://127.0.0.1:${port}`;
    const page = await (await fetch(`${base}/events?from=1&count=1000`)).text();
    assert.ok(page.length > 64 * 1024, `a large answer (${page.length} bytes)`);
    const paths = ['/events?from=1&count=1000', '/events?account=1&from=1&count=1000'];
    for (const path of [...paths, '/dashboard/app.js', '/book?instrument=1&depth=1000']) {
      const request = `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
      assert.equal(await resetLoop(port, request, resets), 0);
    }
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
  });
});
