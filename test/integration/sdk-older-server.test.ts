/**
 * The SDK against a server from before Hello flag AccountInFrames, which closes a Hello with a
 * flag it does not know (4002, "unknown Hello flags 2"): the SDK of this version asks for the
 * flag on every connection, and failed to connect to such a server at all. It says Hello
 * again without the flag, and reads that server's account frames as naming no account. So
 * too for the later flags, AccountStarts and ResumeStarts: a server that does not say where a
 * stream starts has its frames handed over as they come.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer, type WebSocket } from 'ws';
import { BourseClient, ClientError } from '../../src/client/client.js';
import { eventSizeBytes } from '../../src/constants.js';
import { EventKind, EventWord } from '../../src/protocol/event-layout.js';
import {
  FrameType,
  frameHeaderBytes,
  HelloFlag,
  StreamKind,
  topicRequestId,
  writeHeader,
} from '../../src/protocol/frames.js';
import { until } from '../harness/wait.js';

/** As the gateway before AccountInFrames: Hello flags other than bit 0 close with 4002. */
async function olderServer(knownFlags: number) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const hellos: number[] = [];
  const sockets: WebSocket[] = [];
  /** The request ids of the Subscribe frames it got. */
  const subscribes: number[] = [];
  server.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('message', (data: Buffer) => {
      if (data.readUInt8(0) === FrameType.Subscribe) subscribes.push(data.readUInt32LE(4));
      if (data.readUInt8(0) !== FrameType.Hello) return;
      const flags = data.readUInt16LE(2);
      hellos.push(flags);
      if ((flags & ~knownFlags) !== 0) return socket.close(4002, `unknown Hello flags ${flags}`);
      const welcome = Buffer.alloc(frameHeaderBytes + 24);
      const view = new DataView(welcome.buffer, welcome.byteOffset, welcome.byteLength);
      writeHeader(view, 0, FrameType.Welcome, data.readUInt32LE(4), flags);
      view.setUint32(frameHeaderBytes, data.readUInt32LE(frameHeaderBytes), true);
      view.setUint32(frameHeaderBytes + 4, 1_000, true);
      socket.send(welcome);
    });
  });
  const port = (server.address() as { port: number }).port;
  const url = `ws://127.0.0.1:${port}/`;
  return { url, hellos, sockets, subscribes, close: () => server.close() };
}

/** An account frame as servers before AccountInFrames send it: one Transferred, from to to. */
function plainAccountFrame(sequence: number, from: number, to: number): Buffer {
  const frame = Buffer.alloc(frameHeaderBytes + 8 + eventSizeBytes);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  writeHeader(view, 0, FrameType.Events, topicRequestId(StreamKind.Account));
  view.setUint32(frameHeaderBytes, 1, true);
  const at = frameHeaderBytes + 8;
  view.setUint32(at + EventWord.sequence * 4, sequence, true);
  view.setUint8(at + EventWord.kindStatus * 4, EventKind.Transferred);
  view.setUint32(at + EventWord.account * 4, from, true);
  view.setUint32(at + EventWord.counterparty * 4, to, true);
  return frame;
}

test('a server that refuses the AccountInFrames flag is greeted again without it', async () => {
  const older = await olderServer(HelloFlag.CancelOnDisconnect);
  try {
    const client = await BourseClient.connect(older.url, { clientId: 7, connectWaitMs: 2_000 });
    const starts = HelloFlag.AccountInFrames | HelloFlag.AccountStarts;
    const asked = starts | HelloFlag.ResumeStarts;
    const hellos = [asked, starts, HelloFlag.AccountInFrames, 0];
    assert.deepEqual(older.hellos, hellos, 'newest flag first');
    const unsaid = { state: 'unknown', orders: 0, sequence: 0 };
    assert.deepEqual(client.connection.canceled, unsaid, 'a Welcome without the cancel report');
    const heard: number[] = [];
    client.subscribeAccount(4, (events) => heard.push(...events.map((e) => e.sequence)));
    older.sockets.at(-1)?.send(plainAccountFrame(9, 1, 4));
    await until('the frame naming no account', () => heard.length === 1);
    assert.deepEqual(heard, [9], 'read as such: to every account handler its events name');
    await client.close();
  } finally {
    older.close();
  }
});

test('a refusal of other Hello flags is not taken for that one', async () => {
  const none = await olderServer(0); // refuses every flag: cancel on disconnect too
  try {
    const opening = BourseClient.connect(none.url, {
      clientId: 7,
      cancelOnDisconnect: true,
      connectWaitMs: 2_000,
    });
    await assert.rejects(opening, (e: unknown) => e instanceof ClientError && e.code === 4002);
    assert.deepEqual(none.hellos, [15, 7, 3, 1], 'without the account flags, cancel asked');
  } finally {
    none.close();
  }
});

test('a server that does not say where account streams start: they go as before', async () => {
  const older = await olderServer(HelloFlag.CancelOnDisconnect | HelloFlag.AccountInFrames);
  try {
    const client = await BourseClient.connect(older.url, { clientId: 7, connectWaitMs: 2_000 });
    const asked = HelloFlag.AccountInFrames | HelloFlag.AccountStarts | HelloFlag.ResumeStarts;
    const hellos = [asked, asked & ~HelloFlag.ResumeStarts, HelloFlag.AccountInFrames];
    assert.deepEqual(older.hellos, hellos, 'without AccountStarts');
    const heard: number[] = [];
    client.subscribeAccount(4, (events) => heard.push(...events.map((e) => e.sequence)));
    older.sockets.at(-1)?.send(plainAccountFrame(9, 1, 4));
    await until('the frame, no start said', () => heard.length === 1);
    assert.deepEqual(heard, [9], 'handed over without waiting for a start never sent');
    await client.close();
  } finally {
    older.close();
  }
});

/**
 * `run` with a client of a server that knows the Hello flags `known`, and what a handler of
 * account 4 subscribed from sequence 5 heard; both closed after it, whatever it does.
 */
async function fromFive(
  known: number,
  run: (older: Awaited<ReturnType<typeof olderServer>>, heard: number[]) => Promise<void>,
): Promise<void> {
  const older = await olderServer(known);
  let client: BourseClient | null = null;
  try {
    client = await BourseClient.connect(older.url, { clientId: 7, connectWaitMs: 2_000 });
    const heard: number[] = [];
    client.subscribeAccount(4, (e) => heard.push(...e.map((x) => x.sequence)), undefined, 5);
    await until('the Subscribe', () => older.subscribes.length === 1);
    await run(older, heard);
  } finally {
    await client?.close();
    older.close();
  }
}

test('a server that does not say where a stream from a sequence starts: as before', () => {
  const starts = HelloFlag.AccountInFrames | HelloFlag.AccountStarts;
  return fromFive(HelloFlag.CancelOnDisconnect | starts, async (older, heard) => {
    assert.deepEqual(older.hellos, [starts | HelloFlag.ResumeStarts, starts], 'one retry');
    older.sockets.at(-1)?.send(plainAccountFrame(5, 1, 4));
    await until('the frame, no start said', () => heard.length === 1);
    assert.deepEqual(heard, [5], 'handed over without waiting for a start never sent');
  });
});

test('a server that says where a stream from a sequence starts: nothing before it', () =>
  fromFive(HelloFlag.All, async (older, heard) => {
    assert.deepEqual(older.hellos, [HelloFlag.All - HelloFlag.CancelOnDisconnect]);
    const socket = older.sockets.at(-1);
    socket?.send(plainAccountFrame(9, 1, 4)); // an ended stream's, on its way
    socket?.send(subscribedFrame(older.subscribes[0], 4, 4));
    for (const sequence of [5, 9]) socket?.send(plainAccountFrame(sequence, 1, 4));
    await until('the backlog and the live frame', () => heard.length >= 2);
    assert.deepEqual(heard, [5, 9], 'from 5, each once, in order');
  }));

/** Subscribed: the account stream asked for by `requestId` starts after `after`. */
function subscribedFrame(requestId: number, account: number, after: number): Buffer {
  const frame = Buffer.alloc(frameHeaderBytes + 24);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  writeHeader(view, 0, FrameType.Subscribed, requestId);
  view.setUint8(frameHeaderBytes, StreamKind.Account);
  view.setFloat64(frameHeaderBytes + 8, account, true);
  view.setFloat64(frameHeaderBytes + 16, after, true);
  return frame;
}
