/**
 * Idle connections for bench:e2e: opens `count` sessions (Hello with client ids from `first`),
 * tells the parent when all are open, and holds them until told to close.
 *
 *   argv: url first count
 */
import WebSocket from 'ws';
import { FrameType, frameHeaderBytes, writeHeader } from '../../src/protocol/frames.js';
import { endWithParent } from '../lib/bench-exit.js';
import { loginsPendingPerAddressMax } from '../../src/constants.js';

endWithParent();

const [url, firstText, countText] = process.argv.slice(2);
const first = Number(firstText);
const count = Number(countText);
const sockets: WebSocket[] = [];

function open(clientId: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('error', reject);
    ws.once('open', () => {
      const hello = new DataView(new ArrayBuffer(frameHeaderBytes + 8));
      writeHeader(hello, 0, FrameType.Hello, 0);
      hello.setUint32(frameHeaderBytes, clientId, true);
      ws.send(hello.buffer);
      ws.once('message', () => resolve()); // Welcome
    });
    sockets.push(ws);
  });
}

// In waves: one address may have loginsPendingPerAddressMax (64) sockets logging in at once,
// and two of these processes open from the same address.
const wave = loginsPendingPerAddressMax / 2;
for (let i = 0; i < count; i += wave) {
  await Promise.all(
    Array.from({ length: Math.min(wave, count - i) }, (_, j) => open(first + i + j)),
  );
}
process.send?.({ open: sockets.length });
process.on('message', () => {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
