/**
 * The gateway's limits against a real node, driven with raw frames: what one client may hold
 * (logins under way, read sessions, subscriptions) and what a bad value may not move.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { frame, hello, upgradeOutcome, withNode } from '../harness/gateway-node.js';
import { smallConfig } from '../harness/engine-driver.js';
import {
  loginsPendingMax,
  loginRetryAfterMs,
  loginsPendingPerAddressMax,
  loginTimeoutMs,
  readSessionsPerClientMax,
  subscriptionsPerSessionMax,
} from '../../src/constants.js';
import {
  CloseCode,
  FrameError,
  FrameType,
  frameHeaderBytes,
  StreamKind,
} from '../../src/protocol/frames.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { CommandBatchEncoder } from '../../src/protocol/command-batch.js';
import { writeCommand } from '../../src/protocol/command-writer.js';
import { Status } from '../../src/protocol/status.js';
import { BourseClient } from '../../src/client/client.js';

/** A raw socket and every frame the server sent it so far. */
interface Raw {
  ws: WebSocket;
  frames: Buffer[];
  closed: Promise<number>;
}

/** A raw socket, from `localAddress` (a loopback address: 127.x.y.z) if given. */
function openRaw(url: string, localAddress?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress });
    const frames: Buffer[] = [];
    const closed = new Promise<number>((done) => ws.once('close', (code) => done(code)));
    ws.on('message', (data: Buffer) => frames.push(data));
    ws.once('error', reject);
    ws.once('open', () => resolve({ ws, frames, closed }));
  });
}

/** `promise`, or a failure naming `what` after `ms` (so a test on faulty code ends). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Waits (at most 5 s) for a frame of `type` past the first `skip` frames. */
async function frameOf(raw: Raw, type: number, skip = 0): Promise<Buffer> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const found = raw.frames.slice(skip).find((f) => f.readUInt8(0) === type);
    if (found !== undefined) return found;
    assert.ok(Date.now() < deadline, `no frame of type ${type}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The first `n` events the server sent (at most 5 s), each 128 bytes. */
async function eventsOf(raw: Raw, n: number): Promise<Buffer[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const events: Buffer[] = [];
    for (const f of raw.frames.filter((f) => f.readUInt8(0) === FrameType.Events)) {
      const count = f.readUInt32LE(frameHeaderBytes);
      for (let i = 0; i < count; i++) {
        events.push(f.subarray(frameHeaderBytes + 8 + i * 128, frameHeaderBytes + 136 + i * 128));
      }
    }
    if (events.length >= n) return events.slice(0, n);
    assert.ok(Date.now() < deadline, `fewer than ${n} events`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A raw session of `clientId` (development mode: no key), once welcomed. */
async function login(
  url: string,
  clientId: number,
  localAddress?: string,
): Promise<Raw & { welcome: Buffer }> {
  const raw = await openRaw(url, localAddress);
  raw.ws.send(hello(clientId));
  return { ...raw, welcome: await frameOf(raw, FrameType.Welcome) };
}

/** Welcome's next client seq. */
function nextSeq(welcome: Buffer): number {
  return welcome.readDoubleLE(frameHeaderBytes + 16);
}

test('an invalid client seq (2^64 - 1) does not move the next seq Welcome names', async () => {
  await withNode(async (_node, url) => {
    const first = await login(url, 31);
    assert.equal(nextSeq(first.welcome), 1, 'a new client id starts at 1');
    // Two transfers in one frame: seq 7, then one whose seq is 2^64 - 1 (rejected 102).
    const staging = new Uint8Array(128);
    for (const [i, clientSeq] of [7, 8].entries()) {
      const fields = { kind: CommandKind.Transfer, clientId: 31, clientSeq, account: 1 };
      writeCommand(new Uint32Array(staging.buffer), i * 16, { ...fields, target: 2, ref: 1 });
    }
    staging.fill(0xff, 64, 72);
    first.ws.send(new CommandBatchEncoder(2).encode(staging, 2, 9));
    const [, refused] = await eventsOf(first, 2);
    assert.equal(refused.readUInt16LE(30), Status.CommandClientSeqInvalid, 'the seq refused');
    first.ws.close();
    await first.closed;
    const again = await login(url, 31);
    assert.equal(nextSeq(again.welcome), 8, 'one past the last valid seq, not 2^64');
    again.ws.close();
  });
});

/** A Subscribe (or Unsubscribe) frame for `kind` and `param`, with `requestId`. */
function subscribe(kind: number, param: number, requestId: number, type = FrameType.Subscribe) {
  const body = Buffer.alloc(16);
  body.writeUInt8(kind, 0);
  body.writeDoubleLE(param, 8);
  return frame(type, body, 1, requestId);
}

/**
 * Sends `frames`, then one Subscribe to an unknown stream as a marker, and resolves with the
 * request ids of the Error frames the server answered before the marker's (in order: the
 * server answers frames in the order they came).
 */
async function refusedIds(raw: Raw, frames: Buffer[]): Promise<number[]> {
  const skip = raw.frames.length;
  const marker = 0x7fff_ffff;
  for (const f of frames) raw.ws.send(f);
  raw.ws.send(subscribe(99, 1, marker));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const errors = raw.frames.slice(skip).filter((f) => f.readUInt8(0) === FrameType.Error);
    const ids = errors.map((f) => f.readUInt32LE(4));
    if (ids.at(-1) === marker) {
      const codes = new Set(errors.map((f) => f.readUInt16LE(frameHeaderBytes)));
      assert.deepEqual([...codes], [FrameError.BadSubscription], 'every refusal is Error 4');
      return ids.slice(0, -1);
    }
    assert.ok(Date.now() < deadline, 'the marker was answered');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('subscriptions name what can exist, and a session holds a bounded number', async () => {
  await withNode(async (_node, url) => {
    const reader = await login(`${url}read`, 32);
    const end = smallConfig.instrumentCountMax;
    // Trades of any id were taken: millions of them grew the node by 1 GB.
    const bad = [
      subscribe(StreamKind.Trades, 0, 1),
      subscribe(StreamKind.Trades, end, 2),
      subscribe(StreamKind.Trades, 2 ** 53 - 1, 3),
      subscribe(StreamKind.Account, 0, 4),
      subscribe(StreamKind.Depth, end, 5),
    ];
    const good = [subscribe(StreamKind.Trades, 1, 6), subscribe(StreamKind.Trades, end - 1, 7)];
    assert.deepEqual(await refusedIds(reader, [...bad, ...good]), [1, 2, 3, 4, 5]);
    // Up to the cap (two trades topics held already); the same topic again costs nothing.
    const accounts = Array.from({ length: subscriptionsPerSessionMax - 2 }, (_, i) =>
      subscribe(StreamKind.Account, 1 + i, 100 + i),
    );
    accounts.push(subscribe(StreamKind.Account, 1, 10), subscribe(StreamKind.Trades, 1, 11));
    assert.deepEqual(await refusedIds(reader, accounts), [], 'up to the cap');
    const past = [subscribe(StreamKind.Account, 5_000, 12), subscribe(StreamKind.Trades, 9, 13)];
    assert.deepEqual(await refusedIds(reader, past), [12, 13], 'one more is refused');
    // One ended makes room for one more.
    const swap = [
      subscribe(StreamKind.Account, 1, 14, FrameType.Unsubscribe),
      subscribe(StreamKind.Account, 5_000, 15),
      subscribe(StreamKind.Account, 5_001, 16),
    ];
    assert.deepEqual(await refusedIds(reader, swap), [16], 'room for one');
    reader.ws.close();
  });
});

test('one client id holds a bounded number of read sessions', async () => {
  await withNode(async (_node, url) => {
    const read = `${url}read`;
    const held = await Promise.all(
      Array.from({ length: readSessionsPerClientMax }, () => login(read, 34)),
    );
    const extra = await openRaw(read);
    extra.ws.send(hello(34));
    const code = await within(extra.closed, 5_000, 'one more read session closed');
    assert.equal(code, CloseCode.TooManyReadSessions, 'one more is closed');
    const other = await login(read, 35);
    assert.equal(nextSeq(other.welcome), 0, 'another client id reads on');
    const commands = await login(url, 34);
    assert.equal(commands.welcome.readUInt8(0), FrameType.Welcome, 'its command session too');
    held[0].ws.close();
    await held[0].closed;
    const again = await login(read, 34);
    assert.equal(again.welcome.readUInt32LE(frameHeaderBytes), 34, 'room again once one closed');
    for (const raw of [...held.slice(1), other, commands, again]) raw.ws.close();
  });
});

test('sockets that do not log in are bounded, and closed after the login deadline', async () => {
  await withNode(async (_node, url) => {
    const early = await login(url, 36);
    // 12,000 sockets without Hello were taken, past the session cap, and kept until idle.
    const silent: Raw[] = [];
    // From many addresses: one address holds at most loginsPendingPerAddressMax (below).
    while (silent.length < loginsPendingMax) {
      const batch = Math.min(loginsPendingPerAddressMax, loginsPendingMax - silent.length);
      const from = `127.0.0.${2 + silent.length / loginsPendingPerAddressMax}`;
      const opened = Array.from({ length: batch }, () => openRaw(url, from));
      silent.push(...(await Promise.all(opened)));
    }
    assert.equal(await upgradeOutcome(url), 503, 'one more login under way is refused');
    const opened = Date.now();
    const all = Promise.all(silent.map((raw) => raw.closed));
    const codes = await within(all, loginTimeoutMs + 5_000, 'sockets without login closed');
    assert.ok(Date.now() - opened <= loginTimeoutMs + 3_000, 'closed near the deadline');
    assert.deepEqual(new Set(codes), new Set([CloseCode.HelloRequired]), 'closed with 4001');
    assert.equal(await upgradeOutcome(url), 'open', 'room again');
    early.ws.send(subscribe(99, 1, 5));
    const refused = await frameOf(early, FrameType.Error);
    assert.equal(refused.readUInt32LE(4), 5, 'a session that logged in stays open');
    early.ws.close();
  });
});

/** An upgrade's refusal: its status and the JSON body's error. */
function refusalOf(url: string): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('error', () => {});
    ws.once('open', () => reject(new Error('opened')));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => {
        req.destroy();
        const { error, retryAfterMs } = JSON.parse(body) as Json;
        const retryAfter = res.headers['retry-after'];
        const refusal: Refusal = { status: res.statusCode ?? 0, error };
        resolve(retryAfter === undefined ? refusal : { ...refusal, retryAfter, retryAfterMs });
      });
    });
  });
}

type Json = Record<string, unknown>;
type Refusal = { status: number; error: unknown; retryAfter?: string; retryAfterMs?: unknown };

/**
 * ~1,000 silent sockets from one host, re-opened every login timeout, held the whole login pool
 * and locked keyed clients out with a plain-text 503 (a hostile-input audit). The 503 sheds a
 * login that waiting mends: it says when to come back (Retry-After, and retryAfterMs for the
 * SDK); without it a reconnect storm retried in step. Fails on the old code: no Retry-After.
 */
test('one address holds a bounded share of the logins under way; a 503 says why', async () => {
  await withNode(async (_node, url) => {
    const silent = await Promise.all(
      Array.from({ length: loginsPendingPerAddressMax }, () => openRaw(url)),
    );
    const refused = await refusalOf(url);
    assert.deepEqual(refused, {
      status: 503,
      error: 'too many logins under way from this address',
      retryAfter: String(Math.ceil(loginRetryAfterMs / 1000)),
      retryAfterMs: loginRetryAfterMs,
    });
    const other = await login(url, 37, '127.0.0.2');
    assert.equal(other.welcome.readUInt8(0), FrameType.Welcome, 'another address logs in');
    // The SDK shows the server's reason, not a guess ("a standby, or starting").
    const sdk = BourseClient.connect(url, { clientId: 38, connectWaitMs: 0 });
    await assert.rejects(sdk, /too many logins under way from this address \(HTTP 503\)/);
    other.ws.close();
    for (const raw of silent) raw.ws.close();
  });
});
