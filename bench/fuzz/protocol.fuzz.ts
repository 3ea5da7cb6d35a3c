/**
 * bench:fuzz — the longer run of the protocol fuzzing that CI does briefly
 * (test/unit/protocol/frames.test.ts, test/integration/gateway.test.ts).
 *
 *   npm run bench:fuzz              large: 60 s of frames
 *   npm run bench:fuzz -- --small   CI size: a few seconds
 *
 * Phase 1 feeds random and mutated CommandBatches to `verifyCommandBatch` and checks that
 * nothing it accepts points outside the frame. Phase 2 sends random frames to a live node over
 * WebSocket and checks that it stays up and that a well-behaved client is still served. Phase 3
 * sends random HTTP requests and raw bytes to a live node (http-phase.ts): no answer may be a
 * 500 (a handler that threw), and the node must still answer /health. Each phase runs for half
 * of --seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import WebSocket from 'ws';
import { CommandBatchEncoder } from '../../src/protocol/command-batch.js';
import {
  BatchFault,
  FrameType,
  frameHeaderBytes,
  verifyCommandBatch,
  type BatchSpan,
} from '../../src/protocol/frames.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { BourseClient } from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { engineConfigDefault } from '../../src/constants.js';
import { machine, machineLine, printTable } from '../lib/table.js';
import { removeOnExit } from '../lib/bench-exit.js';
import { checkArgs, flag } from '../lib/flags.js';
import { httpPhase, type HttpFuzzFigures } from './http-phase.js';

checkArgs({
  run: 'npm run bench:fuzz --',
  switches: { '--small': 'the CI size: 2 s (large: 30 s) for each two phases' },
  values: { '--seconds': 'seconds of each two phases (default: 2 small, 30 large)' },
});
const small = process.argv.includes('--small');
const seconds = flag('--seconds', small ? 2 : 30);

function verifierPhase(): { frames: number; accepted: number } {
  const valid = new CommandBatchEncoder(16).encode(new Uint8Array(16 * 64).fill(3), 16, 1).slice();
  const frame = fc.oneof(
    fc.uint8Array({ maxLength: 4_000 }),
    fc
      .tuple(fc.nat(valid.byteLength - 1), fc.nat(255), fc.nat(valid.byteLength))
      .map(([at, byte, cut]) => {
        const copy = valid.slice(0, Math.max(cut, 1));
        if (at < copy.byteLength) copy[at] = byte;
        return copy;
      }),
  );
  const span: BatchSpan = { fault: BatchFault.None, start: 0, count: 0 };
  let frames = 0;
  let accepted = 0;
  const end = performance.now() + (seconds * 1000) / 2;
  while (performance.now() < end) {
    for (const bytes of fc.sample(frame, 1_000)) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      verifyCommandBatch(
        view,
        Math.min(frameHeaderBytes, bytes.byteLength),
        bytes.byteLength,
        span,
      );
      frames++;
      if (span.fault !== BatchFault.None) continue;
      accepted++;
      if (span.start + span.count * 64 > bytes.byteLength)
        throw new Error('verifier let an overrun through');
    }
  }
  return { frames, accepted };
}

/** Runs `phase` against a new node on a folder of its own, then stops it and removes the folder. */
async function withFuzzNode<T>(phase: (port: number) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-fuzz-'));
  removeOnExit(dir); // on any exit, Ctrl-C (then exit 130) or an error, the node's folder goes
  const node = await BourseNode.start({
    dataDir: dir,
    config: engineConfigDefault,
    gateway: { host: '127.0.0.1', port: 0 },
  });
  const result = await phase(node.gateway!.port);
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
  return result;
}

async function livePhase(port: number): Promise<{ frames: number; closes: number }> {
  const url = `ws://127.0.0.1:${port}/`;
  const good = await BourseClient.connect(url, { clientId: 1 });
  await good.submit(CommandKind.AddAsset, { ref: 1, aux: 2 });
  const garbage = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.uint8Array({ minLength: 8, maxLength: 300 }).map((b) => {
      b[0] = [FrameType.Hello, FrameType.Commands, FrameType.Subscribe][b[0] % 3];
      b[1] = 1;
      return b;
    }),
  );
  let frames = 0;
  let closes = 0;
  const end = performance.now() + (seconds * 1000) / 2;
  let clientId = 1_000;
  while (performance.now() < end) {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const hello = Buffer.alloc(16);
    hello.writeUInt8(FrameType.Hello, 0);
    hello.writeUInt8(1, 1);
    hello.writeUInt32LE(++clientId, frameHeaderBytes);
    ws.send(hello);
    for (const bytes of fc.sample(garbage, 50)) {
      ws.send(bytes);
      frames++;
    }
    await new Promise<void>((resolve) => {
      ws.once('close', () => {
        closes++;
        resolve();
      });
      setTimeout(() => ws.terminate(), 200);
    });
    const [head] = await good.submit(CommandKind.CreateAccount, { account: clientId });
    if (head.status !== 0) throw new Error('the well-behaved client was not served');
  }
  await good.close();
  return { frames, closes };
}

/** Phase 3: random HTTP requests; then the node must still say it is healthy. */
async function httpFuzz(port: number): Promise<HttpFuzzFigures> {
  const figures = await httpPhase(port, performance.now() + (seconds * 1000) / 2);
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  if (health.status !== 200) throw new Error(`/health answered ${health.status} after the fuzz`);
  if (figures.serverErrors.length > 0) {
    throw new Error(`server errors:\n${figures.serverErrors.join('\n')}`);
  }
  return figures;
}

const verifier = verifierPhase();
const live = await withFuzzNode(livePhase);
const http = await withFuzzNode(httpFuzz);
const host = await machine();
const figures = {
  bench: 'fuzz',
  cpu_steal_pct: host.cpu_steal_pct,
  size: small ? 'small' : 'large',
  seconds,
  verifier_frames: verifier.frames,
  verifier_accepted: verifier.accepted,
  live_frames: live.frames,
  live_connections_closed: live.closes,
  http_requests: http.requests,
  http_raw_garbage: http.garbage,
  http_statuses: http.statuses,
  http_unanswered: http.unanswered,
  node_survived: true,
};
printTable(`bench:fuzz (${figures.size}) on ${machineLine(host)}`, [
  { measure: 'frames through verifyCommandBatch', value: figures.verifier_frames, unit: 'frames' },
  {
    measure: '  of which accepted (all inside their frame)',
    value: figures.verifier_accepted,
    unit: 'frames',
  },
  { measure: 'random frames sent to a live node', value: figures.live_frames, unit: 'frames' },
  {
    measure: 'hostile connections closed',
    value: figures.live_connections_closed,
    unit: 'connections',
  },
  {
    measure: 'random HTTP requests to a live node',
    value: figures.http_requests,
    unit: 'requests',
  },
  { measure: 'raw garbage HTTP connections', value: figures.http_raw_garbage, unit: 'connections' },
  { measure: '  unanswered within 5 s', value: figures.http_unanswered, unit: 'requests' },
]);
console.log(JSON.stringify(figures));
