/**
 * The gateway and SDK against a real node: results only once durable, and hostile input closed
 * with its documented code while other clients go on.
 */
import { test } from 'node:test';
import {
  frame,
  hello,
  keysFile,
  setUp,
  upgradeOutcome,
  withNode,
} from '../harness/gateway-node.js';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { BourseClient, ClientError, type EventRecord } from '../../src/client/client.js';
import { setupCommands } from '../harness/generators.js';
import { CommandFlag, CommandKind } from '../../src/protocol/command-layout.js';
import { EventKind } from '../../src/protocol/event-layout.js';
import { Status } from '../../src/protocol/status.js';
import { ProgressSlot } from '../../src/journal/journal-progress.js';
import {
  CloseCode,
  FrameError,
  FrameType,
  frameHeaderBytes,
  LoginMethod,
  StreamKind,
  writeHeader,
} from '../../src/protocol/frames.js';
import { clientKey, loginProof, splitApiKey } from '../../src/protocol/login.js';
import { CommandBatchEncoder } from '../../src/protocol/command-batch.js';
import { writeCommand } from '../../src/protocol/command-writer.js';
import { createKey, readKeyFile, writeKeyFile } from '../../src/gateway/api-keys.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BourseNode } from '../../src/pipeline/node.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { until } from '../harness/wait.js';
import { freePort } from '../../src/cli/ports.js';
import { metricsAt, seriesValue } from '../harness/metrics-text.js';

/** POST /commands takes JSON only (415 otherwise). */
const jsonType = { 'content-type': 'application/json' };

test('the SDK gets each command back once durable, with its status and events', async () => {
  await withNode(async (node, url) => {
    const client = await BourseClient.connect(url, { clientId: 11 });
    await setUp(client);
    const [ok] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 150 });
    assert.equal(ok.kind, EventKind.Transferred);
    assert.equal(ok.status, Status.Ok);
    assert.ok(node.progress.get(ProgressSlot.sequenceDurable) >= ok.sequence, 'durable first');
    const [poor] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 10 ** 12 });
    assert.notEqual(poor.status, Status.Ok, 'no overdraft');
    await assert.rejects(
      client.transfer({ account: 1, target: 2, ref: 1, quantity: 1.5 }),
      /quantity must be a safe integer/,
    );
    // A value past its field's bytes would spill into the next field: flags 0x102 is a sell
    // that would also have become IOC. Refused before anything is sent.
    const order = { account: 1, target: 1, price: 100, quantity: 1 };
    await assert.rejects(client.placeOrder({ ...order, flags: 0x102 }), /flags: 0 to 255/);
    await assert.rejects(client.placeOrder({ ...order, tif: 257 }), /tif: 0 to 255/);
    await assert.rejects(client.transfer({ ...order, ref: 2 ** 32 }), /ref: 0 to 4294967295/);
    await assert.rejects(client.placeOrder({ ...order, stp: -1 }), RangeError);
    // Named fields are refused by their own names, not the wire's.
    await assert.rejects(
      client.addAsset({ asset: 2 ** 33, scale: 2 }),
      /^RangeError: addAsset: 'asset': 0 to 4294967295, not 8589934592$/,
    );
    // A field the protocol does not have is refused, not dropped: this would have been a buy.
    const sell = { ...order, side: 'sell' } as unknown as typeof order;
    await assert.rejects(client.placeOrder(sell), /'target' .* named and protocol fields mixed/);
    await assert.rejects(client.transfer({ ...order, sell: 1 } as never), /sell: not a command/);
    const misnamed = [{ ...order, instrument: 1 }] as unknown as (typeof order)[];
    await assert.rejects(client.submitBatch(CommandKind.PlaceOrder, misnamed), /\[0\]\.instrument/);
    // Options the wire cannot carry are refused before a socket opens: id 1.5 was written as 1.
    for (const [options, why] of [
      [{ clientId: 1.5 }, /clientId: a whole number from 1 to 4294967292, not 1\.5/],
      [{ clientId: 2 ** 32 - 1 }, /clientId: .* not 4294967295/],
      [{ clientId: 2 ** 33 }, /clientId: .* not 8589934592/],
      [{ clientId: '7' as unknown as number }, /clientId: .* not "7"/],
      [{ clientId: 12, inFlightMax: 0 }, /inFlightMax: a whole number from 1, not 0/],
      [{ clientId: 12, firstClientSeq: -3 }, /firstClientSeq: a whole number from 1/],
      [{ clientId: 12, reconnectAttempts: NaN }, /reconnectAttempts: a whole number from 0/],
      // These threw later, from the socket's open event, and ended the process.
      [{ clientId: 12, apiKey: 123 as unknown as string }, /apiKey: a key .* not 123/],
      [{ clientId: 12, members: url as unknown as string[] }, /members: a list of ws:/],
      [{ clientId: 12, login: 'pw' as 'key' }, /login: 'key' or 'challenge', not "pw"/],
      // A misspelt option was ignored, and the default taken.
      [{ clientId: 12, inflightMax: 5 } as { clientId: number }, /inflightMax: not an option/],
    ] as const) {
      await assert.rejects(BourseClient.connect(url, options), why);
    }
    // An address without ws:// met the socket library's bare 'Invalid URL'.
    const port = new URL(url).port;
    for (const [address, why] of [
      [`127.0.0.1:${port}`, /url: a node's address as ws:\/\/host:port, not "127.0.0.1:\d+"/],
      [`http://127.0.0.1:${port}/`, /url: a node's address as ws:\/\/host:port, not "http:/],
      [42 as unknown as string, /url: a node's address as ws:\/\/host:port, not 42/],
    ] as const) {
      await assert.rejects(BourseClient.connect(address, { clientId: 12 }), why);
    }
    const members = [url, 'localhost:1'];
    await assert.rejects(
      BourseClient.connect(url, { clientId: 12, members }),
      /members\[1\]: a node's address as ws:\/\/host:port, not "localhost:1"/,
    );
    const many = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        client.transfer({ account: 1 + (i % 6), target: 1 + ((i + 1) % 6), ref: 1, quantity: 1 }),
      ),
    );
    assert.equal(many.length, 500);
    for (const [head] of many) assert.equal(head.status, Status.Ok);
    const sequences = many.map(([head]) => head.sequence);
    assert.deepEqual(
      sequences,
      [...sequences].sort((a, b) => a - b),
      'in order',
    );
    await client.close();
  });
});

/** Opens a raw socket, runs `send`, and resolves with the close code the server chose. */
function closeCodeFor(url: string, send: (ws: WebSocket) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('error', reject);
    ws.once('open', () => send(ws));
    ws.once('close', (code) => resolve(code));
  });
}

test('hostile input is closed with its code and never reaches the engine', async () => {
  await withNode(async (node, url) => {
    const good = await BourseClient.connect(url, { clientId: 21 });
    await setUp(good);
    const before = node.progress.get(ProgressSlot.sequenceDurable);
    const cases: [string, (ws: WebSocket) => void, number][] = [
      ['text frame', (ws) => ws.send('hello'), CloseCode.TextFrame],
      ['short frame', (ws) => ws.send(Buffer.from([1, 1, 0])), CloseCode.Malformed],
      [
        'wrong version',
        (ws) => ws.send(frame(FrameType.Hello, Buffer.alloc(4), 9)),
        CloseCode.VersionUnsupported,
      ],
      [
        'commands before hello',
        (ws) => ws.send(frame(FrameType.Commands, Buffer.alloc(64))),
        CloseCode.HelloRequired,
      ],
      ['client id 0', (ws) => ws.send(hello(0)), CloseCode.BadClientId],
      // The cluster's own id (its term-opening Ticks): a client under it would share their seqs.
      ['the reserved client id', (ws) => ws.send(hello(2 ** 32 - 1)), CloseCode.BadClientId],
      ['client id in use', (ws) => ws.send(hello(21)), CloseCode.ClientIdInUse],
      [
        'unknown type',
        (ws) => {
          ws.send(hello(31));
          ws.send(frame(0x7f, Buffer.alloc(8)));
        },
        CloseCode.UnknownType,
      ],
      // Out of place, as a second Hello is: it was 4003, "unknown frame type 4".
      [
        'Answer with no challenge pending',
        (ws) => {
          ws.send(hello(34));
          ws.send(frame(FrameType.Answer, Buffer.alloc(32)));
        },
        CloseCode.Malformed,
      ],
      [
        'Answer to a challenge Hello that development mode welcomed at once',
        (ws) => {
          const body = Buffer.alloc(8);
          body.writeUInt32LE(35);
          body.writeUInt16LE(LoginMethod.Challenge, 6);
          ws.send(frame(FrameType.Hello, body));
          ws.send(frame(FrameType.Answer, Buffer.alloc(32)));
        },
        CloseCode.Malformed,
      ],
      [
        'Answer before Hello',
        (ws) => ws.send(frame(FrameType.Answer, Buffer.alloc(32))),
        CloseCode.HelloRequired,
      ],
      [
        'short Unsubscribe',
        (ws) => {
          ws.send(hello(32));
          ws.send(frame(FrameType.Unsubscribe, Buffer.alloc(4)));
        },
        CloseCode.Malformed,
      ],
      [
        'garbage batch',
        (ws) => {
          ws.send(hello(32));
          ws.send(frame(FrameType.Commands, Buffer.alloc(40, 0xff)));
        },
        CloseCode.Malformed,
      ],
      [
        'empty batch',
        (ws) => {
          ws.send(hello(33));
          ws.send(frame(FrameType.Commands, Buffer.alloc(16)));
        },
        CloseCode.Malformed,
      ],
    ];
    for (const [what, send, code] of cases) {
      assert.equal(await closeCodeFor(url, send), code, what);
    }
    assert.equal(node.progress.get(ProgressSlot.sequenceDurable), before, 'nothing reached it');
    const [still] = await good.transfer({ account: 1, target: 2, ref: 1, quantity: 5 });
    assert.equal(still.status, Status.Ok, 'other clients go on');
    await good.close();
  });
});

test('a session speaks only for its own client id', async () => {
  await withNode(async (_node, url) => {
    const admin = await BourseClient.connect(url, { clientId: 41 });
    await setUp(admin);
    const seen: number[] = [];
    const ws = new WebSocket(url);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(hello(42));
    const staging = new Uint8Array(64);
    writeCommand(new Uint32Array(staging.buffer), 0, {
      kind: CommandKind.Transfer,
      clientId: 41, // pretends to be the admin
      clientSeq: 1,
      account: 1,
      target: 2,
      ref: 1,
      quantity: 1,
    });
    const amounts: number[] = [];
    ws.on('message', (data: Buffer) => {
      if (data.readUInt8(0) !== FrameType.Events) return;
      const event = frameHeaderBytes + 8;
      seen.push(data.readUInt32LE(event + 24));
      if (data.readUInt32LE(event + 28) >>> 16 === Status.Ok)
        amounts.push(data.readUInt32LE(event + 88));
    });
    ws.send(new CommandBatchEncoder(1).encode(staging, 1, 7));
    const deadline = Date.now() + 5_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen, [42], 'answered as client 42, not 41');
    // The same through a batch whose command vector starts at an odd offset (legal FlatBuffers;
    // the gateway copies those byte-wise): the command arrives whole, as client 42.
    writeCommand(new Uint32Array(staging.buffer), 0, {
      kind: CommandKind.Transfer,
      clientId: 41,
      clientSeq: 2,
      account: 1,
      target: 2,
      ref: 1,
      quantity: 3,
    });
    ws.send(frame(FrameType.Commands, oddBatch(staging)));
    while (seen.length === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen, [42, 42], 'the odd batch answered as client 42');
    assert.deepEqual(amounts, [1, 3], 'both transfers applied, whole');
    ws.close();
    await admin.close();
  });
});

/** A CommandBatch of one command whose vector starts 1 byte past a 4-byte boundary. */
function oddBatch(command: Uint8Array): Uint8Array {
  const body = new Uint8Array(25 + command.byteLength);
  const view = new DataView(body.buffer);
  view.setUint32(0, 12, true); // root: the table at 12
  view.setUint16(4, 6, true); // vtable at 4: 6 bytes, a table of 8, field 0 at +4
  view.setUint16(6, 8, true);
  view.setUint16(8, 4, true);
  view.setInt32(12, 12 - 4, true); // table -> vtable
  view.setUint32(16, 5, true); // field at 16 -> vector at 21
  view.setUint32(21, 1, true); // one command, at 25 (frame offset 33)
  body.set(command, 25);
  return body;
}

test('a closed connection rejects what it had not answered', async () => {
  await withNode(async (node, url) => {
    const client = await BourseClient.connect(url, { clientId: 51, reconnectAttempts: 2 });
    node.gateway?.close();
    await assert.rejects(
      client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 }),
      ClientError,
    );
  });
});

test('API keys: a wrong key is closed; a key acts only for its client and accounts', async () => {
  const admin = createKey(61, true, []);
  const user = createKey(62, false, [1, 2]);
  const prepare = keysFile(admin, user);
  await withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 61, apiKey: admin.token });
    await setUp(root);
    for (const [what, clientId, apiKey] of [
      ['no key', 62, undefined],
      ['wrong secret', 62, user.token.slice(0, -2) + 'xx'],
      ['unknown key', 62, 'bk_00000000_abc'],
      ["another client's key", 63, user.token],
    ] as const) {
      await assert.rejects(
        BourseClient.connect(url, { clientId, apiKey }),
        (e: ClientError) => e.code === CloseCode.Unauthorized,
        what,
      );
    }
    const client = await BourseClient.connect(url, { clientId: 62, apiKey: user.token });
    const [own] = await client.transfer({ account: 1, target: 3, ref: 1, quantity: 5 });
    assert.equal(own.status, Status.Ok, 'its own account');
    await assert.rejects(
      client.transfer({ account: 3, target: 1, ref: 1, quantity: 5 }),
      /not allowed/,
    );
    await assert.rejects(
      client.submit(CommandKind.Deposit, { account: 1, ref: 1, quantity: 5 }),
      /not allowed/,
    );
    await client.close();
    await root.close();
  }, prepare);
});

test('HTTP: health, a JSON command answered once durable, events, metrics', async () => {
  await withNode(async (node, url) => {
    const base = url.replace('ws://', 'http://').replace(/\/$/, '');
    const post = (body: unknown): Promise<Response> =>
      fetch(`${base}/commands`, { method: 'POST', headers: jsonType, body: JSON.stringify(body) });
    const health = (await (await fetch(`${base}/health`)).json()) as {
      status: string;
      role: string;
    };
    assert.deepEqual([health.status, health.role], ['ok', 'primary']);
    let seq = 0;
    for (const f of setupCommands()) {
      const r = await post({ ...f, clientId: 71, clientSeq: ++seq });
      assert.equal(r.status, 200);
    }
    const transferFields = { kind: 'Transfer', account: 1, target: 2, ref: 1, quantity: 3 };
    const r = await post({ ...transferFields, clientId: 71, clientSeq: ++seq });
    const answer = (await r.json()) as {
      events: { statusName: string; sequence: number; timestamp: number }[];
    };
    assert.equal(answer.events[0].statusName, 'Ok');
    assert.ok(node.progress.get(ProgressSlot.sequenceDurable) >= answer.events[0].sequence);
    assert.equal((await post('nonsense')).status, 400);
    const posted = (body: string): Promise<Response> =>
      fetch(`${base}/commands`, { method: 'POST', headers: jsonType, body });
    assert.equal((await posted('{')).status, 400);
    assert.equal(
      (await post({ kind: 'Transfer', clientId: 71, clientSeq: ++seq, quantity: 1.5 })).status,
      400,
    );
    assert.equal((await post({ kind: 99, clientId: 71, clientSeq: ++seq })).status, 400);
    assert.equal((await posted('x'.repeat(10_000))).status, 413);
    // A client id with a binary session open: its seqs are the session's (409, not applied).
    const session = await BourseClient.connect(url, { clientId: 72 });
    const clash = await post({ ...transferFields, clientId: 72, clientSeq: 1 });
    assert.equal(clash.status, 409);
    assert.match(((await clash.json()) as { error: string }).error, /client id 72 has a session/);
    const [own] = await session.transfer(transferFields);
    assert.equal(own.clientSeq, 1, "the session's seq 1 was not taken");
    assert.equal(own.status, Status.Ok);
    await session.close();
    await new Promise((resolve) => setTimeout(resolve, 100)); // the server sees the close
    assert.equal((await post({ ...transferFields, clientId: 72, clientSeq: 2 })).status, 200);
    const bySeq = (await (await fetch(`${base}/events?from=3&count=2`)).json()) as {
      sequence: number;
    }[];
    assert.deepEqual(
      bySeq.map((e) => e.sequence),
      [3, 4],
    );
    const at = answer.events[0].timestamp;
    const byTime = (await (await fetch(`${base}/events?from-time=${at}&count=1`)).json()) as {
      sequence: number;
    }[];
    assert.ok(byTime.length === 1 && byTime[0].sequence <= answer.events[0].sequence);
    assert.equal((await fetch(`${base}/events`)).status, 400);
    // A known endpoint asked with another method: 405 and the method it takes (it was 404).
    const wrong = await fetch(`${base}/health`, { method: 'POST' });
    assert.deepEqual([wrong.status, wrong.headers.get('allow')], [405, 'GET, HEAD']);
    const get = await fetch(`${base}/commands`);
    assert.deepEqual([get.status, get.headers.get('allow')], [405, 'POST']);
    assert.equal((await fetch(`${base}/nothing-here`, { method: 'POST' })).status, 404);
    assert.equal((await fetch(`${base}/events?from=1e1`)).status, 400, 'digits only');
    assert.equal((await fetch(`${base}/events?from=1&count=0x10`)).status, 400);
    // A larger count than 1,000 is taken as 1,000, as documented, however many digits (20 were
    // refused 400, "count: 1 to 1000", while 1001 was taken); 0 or no digits is 400.
    for (const count of ['1001', '99999999999999999999', '0005']) {
      const page = await fetch(`${base}/events?from=1&count=${count}`);
      assert.equal(page.status, 200, `count=${count}`);
      assert.ok(((await page.json()) as unknown[]).length > 0, `count=${count}`);
    }
    for (const count of ['0', '-1', '1.5', '1e9', '']) {
      const page = await fetch(`${base}/events?from=1&count=${count}`);
      assert.equal(page.status, 400, `count=${count}`);
      const error = ((await page.json()) as { error: string }).error;
      assert.equal(
        error,
        'count: a whole number from 1, in digits (more than 1000 is taken as 1000)',
      );
    }
    const poor = { kind: 'Transfer', clientId: 71, account: 1, target: 2, ref: 1 };
    const rejected = await post({ ...poor, clientSeq: ++seq, quantity: 10 ** 12 });
    const refusal = (
      (await rejected.json()) as { events: { kindName: string; statusName: string }[] }
    ).events[0];
    assert.equal(refusal.kindName, 'Rejected');
    await metricsAfter(base, url, setupCommands().length + 2, refusal.statusName);
    assert.equal((await fetch(`${base}/nothing`)).status, 404);
  });
});

/** The value of one series (name and labels, as written) in Prometheus text. */
function series(text: string, name: string): number {
  const value = seriesValue(text, name);
  assert.ok(!Number.isNaN(value), `${name} on /metrics`);
  return value;
}

/**
 * /metrics after `commands` commands, one of them rejected with `rejection`, while a session is
 * open: every metric of docs/PROTOCOL.md ("Metrics") with a plausible value; and /ready.
 */
async function metricsAfter(base: string, url: string, commands: number, rejection: string) {
  const client = await BourseClient.connect(url, { clientId: 72 });
  const text = await (await fetch(`${base}/metrics`)).text();
  await client.close();
  assert.match(text, /^bourse_journal_durable_sequence \d+$/m);
  assert.ok(series(text, 'bourse_commands_total') >= commands, 'commands counted');
  assert.ok(series(text, 'bourse_events_total') >= commands, 'events counted');
  assert.equal(series(text, 'bourse_journal_events_total'), series(text, 'bourse_events_total'));
  assert.ok(series(text, `bourse_rejections_total{code="${rejection}"}`) >= 1, 'by its code');
  assert.equal(series(text, 'bourse_rejections_total{code="MatchingFeeInvalid"}'), 0);
  assert.ok(series(text, 'bourse_ring_capacity_slots{ring="input"}') > 0);
  assert.ok(series(text, 'bourse_ring_capacity_slots{ring="output"}') > 0);
  assert.ok(series(text, 'bourse_ring_occupancy_slots{ring="input"}') >= 0);
  assert.ok(series(text, 'bourse_ring_occupancy_slots{ring="output"}') >= 0);
  const flushes = series(text, 'bourse_journal_flush_seconds_count');
  assert.ok(flushes > 0, 'journal flushes counted');
  assert.equal(series(text, 'bourse_journal_flush_seconds_bucket{le="+Inf"}'), flushes);
  assert.ok(series(text, 'bourse_journal_flush_seconds_sum') > 0);
  assert.ok(series(text, 'bourse_journal_commit_seconds_max') > 0);
  assert.ok(series(text, 'bourse_gateway_connections{kind="session"}') >= 1, 'its session');
  assert.ok(series(text, 'bourse_gateway_sessions') >= 1);
  assert.ok(series(text, 'bourse_processor_gc_pauses_total') >= 0);
  assert.ok(series(text, 'bourse_processor_gc_pause_seconds_max') >= 0);
  // Counts the stages kept before but did not show: every answered command was published.
  assert.ok(series(text, 'bourse_events_published_total') >= commands, 'events published');
  assert.ok(series(text, 'bourse_expiry_ticks_total') >= 0);
  assert.equal(series(text, 'bourse_cancel_reports_dropped_total'), 0);
  // The gateway's closes by code, Busy answers and refused frames: none so far.
  assert.equal(series(text, 'bourse_gateway_closes_total{code="4008"}'), 0);
  assert.equal(series(text, 'bourse_gateway_busy_answers_total'), 0);
  assert.equal(series(text, 'bourse_gateway_refused_frames_total'), 0);
  assert.ok(series(text, 'bourse_journal_log_handed_over_total') >= 0);
  assert.ok(series(text, 'bourse_journal_log_file_reads_total') >= 0);
  assert.equal(series(text, 'bourse_cluster_role{role="primary"}'), 1, 'a single node: primary');
  assert.match(text, /^nodejs_eventloop_lag_seconds [\d.e-]+$/m);
  assert.match(text, /^# TYPE bourse_commands_total counter$/m);
  assert.match(text, /^# TYPE bourse_journal_flush_seconds histogram$/m);
  const ready = await fetch(`${base}/ready`);
  assert.equal(ready.status, 200, 'a serving single node is ready');
  const body = (await ready.json()) as { ready: boolean; role: string };
  assert.deepEqual([body.ready, body.role], [true, 'primary']);
  assert.equal((await fetch(`${base}/ready?for=reads`)).status, 200);
  assert.equal((await fetch(`${base}/ready?for=nothing`)).status, 400);
}

test('HTTP commands need the key of their client id when keys exist', async () => {
  const user = createKey(81, false, [1]);
  await withNode(async (_node, url) => {
    const base = url.replace('ws://', 'http://').replace(/\/$/, '');
    const post = (body: unknown, key?: string): Promise<Response> =>
      fetch(`${base}/commands`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: key === undefined ? jsonType : { ...jsonType, authorization: `Bearer ${key}` },
      });
    const transfer = {
      kind: 'Transfer',
      clientId: 81,
      clientSeq: 1,
      account: 1,
      target: 2,
      ref: 1,
      quantity: 1,
    };
    const keyless = await post(transfer);
    assert.equal(keyless.status, 401, 'no key');
    assert.equal(keyless.headers.get('www-authenticate'), 'Bearer');
    // The key is asked for before the body is read: no field checks for a caller without one.
    assert.equal((await post({ kind: 'Transfer', clientSeq: 0 })).status, 401, 'no key, bad body');
    assert.equal((await post('x'.repeat(70_000))).status, 401, 'no key, body too large');
    assert.equal((await post(transfer, 'bk_00000000_x')).status, 403, 'an unknown key');
    assert.equal(
      (await post({ ...transfer, clientId: 82 }, user.token)).status,
      403,
      'other client',
    );
    assert.equal(
      (await post({ ...transfer, account: 2 }, user.token)).status,
      403,
      'other account',
    );
    assert.equal(
      (
        await post(
          { kind: 'Deposit', clientId: 81, clientSeq: 2, account: 1, ref: 1, quantity: 1 },
          user.token,
        )
      ).status,
      403,
      'admin kind',
    );
  }, keysFile(user));
});

test('a flood into a full ring is held back, not dropped: each command applied once', async (t) => {
  await withNode(
    async (_node, url) => {
      const client = await BourseClient.connect(url, { clientId: 91, inFlightMax: 100_000 });
      await setUp(client);
      const total = 40_000; // ten full frames into a ring of 4,096 slots
      const results = await Promise.all(
        Array.from({ length: total }, (_, i) =>
          client.transfer({ account: 1 + (i % 6), target: 1 + ((i + 3) % 6), ref: 1, quantity: 1 }),
        ),
      );
      const sequences = results.map(([head]) => head.sequence);
      assert.equal(new Set(sequences).size, total, 'each command decided once');
      const refused = results.filter(([head]) => head.status !== Status.Ok);
      const first = refused.slice(0, 3).map(([h]) => ({ seq: h.clientSeq, status: h.status }));
      assert.deepEqual(first, [], 'every command Ok (none refused as out of order)');
      assert.deepEqual(
        sequences,
        [...sequences].sort((a, b) => a - b),
        'in the order sent',
      );
      // How often the ring was full depends on timing; the checks above hold either way.
      t.diagnostic(`frames refused as Busy and sent again: ${client.busyRefusals}`);
      await client.close();
    },
    () => {},
    4096,
  );
});

test(
  'Busy refusals of frames sent long ago are sent again: no stall',
  { timeout: 60_000 },
  async (t) => {
    await withNode(
      async (_node, url) => {
        const client = await BourseClient.connect(url, { clientId: 92, inFlightMax: 100_000 });
        await setUp(client);
        // 4,000 frames of 8 commands, all sent before the first answer: a refusal then names a
        // frame sent thousands of frames ago (the SDK kept only the last 1,024 and ignored the
        // rest; the server, which takes a client's refused frames back in order only, then
        // refused everything after it, and the client waited for ever).
        const results: Promise<EventRecord[]>[] = [];
        for (let f = 0; f < 4_000; f++) {
          for (let i = 0; i < 8; i++) {
            const n = f * 8 + i;
            const fields = { account: 1 + (n % 6), target: 1 + ((n + 3) % 6), ref: 1, quantity: 1 };
            results.push(client.transfer(fields));
          }
          await Promise.resolve(); // the SDK sends what this tick queued as one frame
        }
        const all = await Promise.all(results);
        assert.equal(all.length, 32_000);
        assert.ok(
          all.every(([head]) => head.status === Status.Ok),
          'every command Ok',
        );
        assert.ok(client.busyRefusals > 0, 'the ring was full: some frames were refused as Busy');
        t.diagnostic(`frames refused as Busy and sent again: ${client.busyRefusals}`);
        // The only session that sent commands: each Busy it heard counted, none closed.
        const text = await metricsAt(url);
        assert.equal(series(text, 'bourse_gateway_busy_answers_total'), client.busyRefusals);
        assert.equal(series(text, 'bourse_gateway_refused_frames_total'), client.busyRefusals);
        assert.equal(series(text, 'bourse_gateway_closes_total{code="4008"}'), 0);
        await client.close();
      },
      () => {},
      4096,
    );
  },
);

test('after a dropped connection the SDK reconnects, resends, applies each once', async () => {
  await withNode(async (_node, url) => {
    const client = await BourseClient.connect(url, { clientId: 101 });
    await setUp(client);
    const sent = Array.from({ length: 300 }, (_, i) =>
      client.transfer({ account: 1 + (i % 6), target: 1 + ((i + 2) % 6), ref: 1, quantity: 1 }),
    );
    await new Promise((resolve) => setTimeout(resolve, 2)); // some of it is on its way
    client.dropConnection();
    const results = await Promise.all(sent);
    assert.equal(client.reconnects, 1);
    for (const [head] of results) assert.equal(head.status, Status.Ok, 'original outcome');
    const base = url.replace('ws://', 'http://').replace(/\/$/, '');
    const events = (await (await fetch(`${base}/events?from=1&count=1000`)).json()) as {
      clientId: number;
      kind: number;
      clientSeq: number;
    }[];
    const applied = events.filter((e) => e.clientId === 101 && e.kind === EventKind.Transferred);
    assert.equal(applied.length, 300, 'each transfer applied once');
    assert.equal(new Set(applied.map((e) => e.clientSeq)).size, 300);
    await client.close();
  });
});

test('a client id used again (a restarted process) goes on after its last seq', async () => {
  await withNode(async (_node, url) => {
    const first = await BourseClient.connect(url, { clientId: 161 });
    await setUp(first);
    const one = () => first.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    const used = (await Promise.all(Array.from({ length: 50 }, one))).at(-1)![0].clientSeq;
    // Then a burst it closes on while it is under way: the next session starts after it too.
    let answered = 0;
    const burst = Array.from({ length: 300 }, () =>
      one()
        .then(() => answered++)
        .catch(() => null),
    );
    const deadline = Date.now() + 5_000;
    while (answered === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    await first.close();
    await Promise.all(burst);
    const again = await BourseClient.connect(url, { clientId: 161 });
    const [next] = await again.transfer({ account: 1, target: 2, ref: 1, quantity: 7 });
    assert.equal(next.kind, EventKind.Transferred, 'applied, not answered as an old repeat');
    assert.equal(next.status, Status.Ok);
    const base = url.replace('ws://', 'http://').replace(/\/$/, '');
    const page = await fetch(`${base}/events?from=1&count=1000`);
    const before = ((await page.json()) as EventRecord[]).filter(
      (e) => e.clientId === 161 && e.sequence < next.sequence,
    );
    const highest = Math.max(...before.map((e) => e.clientSeq));
    assert.ok(highest > used, 'the burst reached the engine');
    assert.equal(next.clientSeq, highest + 1, 'the next seq after every one decided');
    await again.close();
    // A seq used before, on purpose, for the same command is still a repeat: the engine
    // answers the old outcome (the burst's transfers moved 1 each).
    const replay = await BourseClient.connect(url, { clientId: 161, firstClientSeq: highest });
    const [repeat] = await replay.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    assert.equal(repeat.kind, EventKind.Duplicate, 'a seq used before is a repeat');
    await replay.close();
  });
});

/**
 * After a restart a client id goes on after its seqs; and /health, /metrics and Welcome name
 * the journal's durable sequence at once (they said 0 until the first new batch, so a load
 * balancer or a dashboard saw an empty node).
 */
test('after the node restarts, a client id goes on after the seqs in its journal', async () => {
  const dir = tempDataDir();
  const start = () =>
    BourseNode.start({
      dataDir: dir,
      config: smallConfig,
      gateway: { host: '127.0.0.1', port: 0 },
    });
  try {
    let node = await start();
    const first = await BourseClient.connect(`ws://127.0.0.1:${node.gateway?.port}/`, {
      clientId: 171,
    });
    await setUp(first);
    const [last] = await first.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    await first.close();
    await node.stop();
    node = await start(); // the table comes from the replayed state, before the port opens
    try {
      const base = `http://127.0.0.1:${node.gateway?.port}`;
      const health = (await (await fetch(`${base}/health`)).json()) as { durableSequence: number };
      assert.equal(health.durableSequence, last.sequence);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, new RegExp(`^bourse_journal_durable_sequence ${last.sequence}$`, 'm'));
      const url = `ws://127.0.0.1:${node.gateway?.port}/`;
      const again = await BourseClient.connect(url, { clientId: 171 });
      assert.equal(again.durableSequence, last.sequence, 'Welcome');
      const [next] = await again.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
      assert.equal(next.kind, EventKind.Transferred, 'applied, not a repeat');
      assert.equal(next.clientSeq, last.clientSeq + 1);
      // A new client id starts at 1.
      const fresh = await BourseClient.connect(url, { clientId: 172 });
      const [own] = await fresh.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
      assert.equal(own.clientSeq, 1);
      await Promise.all([again.close(), fresh.close()]);
    } finally {
      await node.stop();
    }
  } finally {
    removeDir(dir);
  }
});

test('journal stream: catches up from an offset, then goes live; no gap, no repeat', async () => {
  await withNode(async (_node, url) => {
    const writer = await BourseClient.connect(url, { clientId: 111, inFlightMax: 10_000 });
    await setUp(writer);
    const before = Array.from({ length: 3_000 }, (_, i) =>
      writer.transfer({ account: 1 + (i % 6), target: 1 + ((i + 1) % 6), ref: 1, quantity: 1 }),
    );
    const last = (await Promise.all(before)).at(-1)?.[0].sequence ?? 0;
    const reader = await BourseClient.connect(url, { clientId: 112 });
    const seen: number[] = [];
    reader.subscribeJournal(10, (events) => {
      for (const e of events) seen.push(e.sequence);
    });
    const after = await Promise.all(
      Array.from({ length: 2_000 }, (_, i) =>
        writer.transfer({ account: 1 + (i % 6), target: 1 + ((i + 4) % 6), ref: 1, quantity: 1 }),
      ),
    );
    const end = after.at(-1)?.[0].sequence ?? 0;
    const deadline = Date.now() + 10_000;
    while ((seen.at(-1) ?? 0) < end && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(last > 10 && end > last);
    assert.equal(seen[0], 10, 'from the offset');
    assert.equal(seen.at(-1), end, 'up to the newest durable event');
    // One event per command here (transfers and set-up): every sequence once, in order.
    assert.deepEqual(
      seen,
      Array.from({ length: end - 9 }, (_, i) => 10 + i),
    );
    // A bad start is refused (the SDK refuses it before sending; a raw client is answered), and
    // so is a request id in use or reserved for the shared streams (their frames carry it).
    const journalFrom = (start: number, requestId: number): Buffer => {
      const body = Buffer.alloc(16);
      body.writeUInt8(StreamKind.Journal, 0);
      body.writeDoubleLE(start, 8);
      return frame(FrameType.Subscribe, body, 1, requestId);
    };
    const asked = [journalFrom(-5, 1), journalFrom(1, 5), journalFrom(1, 5)];
    asked.push(journalFrom(1, 0xffff0002));
    const errors = await new Promise<Buffer[]>((resolve, reject) => {
      const found: Buffer[] = [];
      const ws = new WebSocket(url);
      ws.once('error', reject);
      ws.once('open', () => ws.send(hello(113)));
      setTimeout(() => resolve(found), 5_000).unref(); // fewer than three: the check says so
      ws.on('message', (data: Buffer) => {
        if (data.readUInt8(0) === FrameType.Welcome) for (const f of asked) ws.send(f);
        if (data.readUInt8(0) !== FrameType.Error || found.push(data) < 3) return;
        resolve(found);
        ws.close();
      });
    });
    assert.deepEqual(
      errors.map((e) => [e.readUInt32LE(4), e.readUInt16LE(frameHeaderBytes)]),
      [1, 5, 0xffff0002].map((id) => [id, FrameError.BadSubscription]),
    );
    await Promise.all([writer.close(), reader.close()]);
  });
});

/** Waits until `list` has an event of `kind` (5 s at most) and returns it. */
async function heard(list: EventRecord[], kind: number): Promise<EventRecord | undefined> {
  const deadline = Date.now() + 5_000;
  while (!list.some((e) => e.kind === kind) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return list.find((e) => e.kind === kind);
}

/** The fields of a Trade that name its taker, and those that name its maker. */
const takerSide = (e: EventRecord) => [e.clientId, e.clientSeq, e.account, e.id, e.fee];
const makerSide = (e: EventRecord) => [
  e.counterparty,
  e.otherId,
  e.counterpartyFee,
  e.release,
  e.aux,
];

test('trades: the public stream names neither side, each party only its own', async () => {
  await withNode(async (_node, url) => {
    const trader = await BourseClient.connect(url, { clientId: 121 });
    await setUp(trader);
    const watcher = await BourseClient.connect(url, { clientId: 122 });
    const trades: EventRecord[] = [];
    const ofTaker: EventRecord[] = [];
    const ofMaker: EventRecord[] = [];
    watcher.subscribeTrades(2, (events) => trades.push(...events));
    watcher.subscribeAccount(2, (events) => ofTaker.push(...events));
    watcher.subscribeAccount(1, (events) => ofMaker.push(...events));
    await new Promise((resolve) => setTimeout(resolve, 20)); // the subscriptions are in
    const sell = { account: 1, ref: 2, price: 100, quantity: 5, flags: CommandFlag.Sell };
    const [rest] = await trader.placeOrder(sell);
    const [, fill] = await trader.placeOrder({ account: 2, ref: 2, price: 100, quantity: 5 });
    assert.equal(fill.kind, EventKind.Trade);
    const zeros = [0, 0, 0, 0, 0];
    // The taker's answer: its side, not the maker's.
    assert.equal(fill.account, 2);
    assert.ok(fill.id !== 0 && fill.clientId === 121, 'the taker sees its own order');
    assert.deepEqual(makerSide(fill), zeros, "the taker's answer hides the maker");
    // The public stream: what traded, no side.
    const trade = await heard(trades, EventKind.Trade);
    assert.ok(trade !== undefined, 'the trade is published');
    assert.deepEqual(
      [trade.sequence, trade.ref, trade.price, trade.quantity, trade.amount],
      [fill.sequence, 2, 100, 5, fill.amount],
    );
    assert.deepEqual([...takerSide(trade), ...makerSide(trade)], [...zeros, ...zeros]);
    assert.deepEqual([trade.tif, trade.stp], [0, 0]);
    // Each account's stream: its own side only.
    const taker = await heard(ofTaker, EventKind.Trade);
    assert.deepEqual(taker && [taker.account, ...makerSide(taker)], [2, ...zeros], 'taker');
    assert.ok(ofTaker.some((e) => e.kind === EventKind.OrderAccepted && e.account === 2));
    const maker = await heard(ofMaker, EventKind.Trade);
    assert.ok(maker !== undefined, "the maker's stream hears the trade");
    assert.equal(maker.counterparty, 1);
    assert.equal(maker.otherId, rest.id, "the maker's own order");
    assert.deepEqual(takerSide(maker), zeros, "the maker's stream hides the taker");
    // The journal (admin) keeps the whole record.
    const base = url.replace('ws://', 'http://').replace(/\/$/, '');
    const page = await fetch(`${base}/events?from=${fill.sequence}&count=10`);
    const whole = ((await page.json()) as EventRecord[]).find((e) => e.kind === EventKind.Trade);
    assert.deepEqual(whole && [whole.account, whole.counterparty, whole.otherId], [2, 1, rest.id]);
    // An HTTP command's answer hides the maker too.
    await trader.placeOrder(sell);
    const buy = { kind: 'PlaceOrder', clientId: 123, clientSeq: 1, account: 2, ref: 2 };
    const posted = await fetch(`${base}/commands`, {
      method: 'POST',
      headers: jsonType,
      body: JSON.stringify({ ...buy, price: 100, quantity: 5 }),
    });
    const answer = ((await posted.json()) as { events: EventRecord[] }).events;
    const httpFill = answer.find((e) => e.kind === EventKind.Trade);
    assert.deepEqual(httpFill && [httpFill.account, ...makerSide(httpFill)], [2, ...zeros]);
    await Promise.all([trader.close(), watcher.close()]);
  });
});

/** Opens a raw socket and sends a challenge Hello; resolves with the socket and the nonce. */
function challengeHello(
  url: string,
  clientId: number,
  keyName: string,
): Promise<{ ws: WebSocket; nonce: Buffer }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('error', reject);
    ws.once('open', () => {
      const name = Buffer.from(keyName, 'latin1');
      const hello = Buffer.alloc(frameHeaderBytes + 8 + name.byteLength);
      writeHeader(new DataView(hello.buffer), 0, FrameType.Hello, 1);
      hello.writeUInt32LE(clientId, frameHeaderBytes);
      hello.writeUInt16LE(name.byteLength, frameHeaderBytes + 4);
      hello.writeUInt16LE(LoginMethod.Challenge, frameHeaderBytes + 6);
      name.copy(hello, frameHeaderBytes + 8);
      ws.send(hello);
      ws.once('message', (data: Buffer) => {
        assert.equal(data.readUInt8(0), FrameType.Challenge);
        resolve({ ws, nonce: Buffer.from(data.subarray(frameHeaderBytes)) });
      });
    });
  });
}

/** Sends an Answer; resolves with the reply's frame type, or the close code. */
function answer(ws: WebSocket, proof: Buffer): Promise<{ type?: number; code?: number }> {
  return new Promise((resolve) => {
    const frame = Buffer.alloc(frameHeaderBytes + proof.byteLength);
    writeHeader(new DataView(frame.buffer), 0, FrameType.Answer, 2);
    proof.copy(frame, frameHeaderBytes);
    ws.once('message', (data: Buffer) => resolve({ type: data.readUInt8(0) }));
    ws.once('close', (code: number) => resolve({ code }));
    ws.send(frame);
  });
}

test('challenge login: a fresh nonce signed; wrong or replayed proofs closed', async () => {
  const user = createKey(91, false, [1]);
  const prepare = keysFile(user);
  await withNode(async (node, url) => {
    const client = await BourseClient.connect(url, {
      clientId: 91,
      apiKey: user.token,
      login: 'challenge',
    });
    await client.close();
    const { id, secret } = splitApiKey(user.token)!;
    const first = await challengeHello(url, 91, `bk_${id}`);
    const proof = loginProof(clientKey(secret), first.nonce, 91);
    assert.deepEqual(await answer(first.ws, proof), { type: FrameType.Welcome }, 'right proof');
    first.ws.close();
    await new Promise((resolve) => first.ws.once('close', resolve));

    const again = await challengeHello(url, 91, `bk_${id}`);
    assert.notDeepEqual(again.nonce, first.nonce, 'a fresh nonce each time');
    assert.deepEqual(await answer(again.ws, proof), { code: CloseCode.Unauthorized }, 'replayed');
    const wrong = await challengeHello(url, 91, `bk_${id}`);
    const forged = loginProof(clientKey('not-the-secret'), wrong.nonce, 91);
    assert.deepEqual(await answer(wrong.ws, forged), { code: CloseCode.Unauthorized }, 'forged');
    const other = await challengeHello(url, 92, `bk_${id}`);
    const theirs = loginProof(clientKey(secret), other.nonce, 92);
    assert.deepEqual(await answer(other.ws, theirs), { code: CloseCode.Unauthorized }, 'client');
    const unknown = await challengeHello(url, 91, 'bk_00000000');
    const guess = loginProof(clientKey(secret), unknown.nonce, 91);
    assert.deepEqual(await answer(unknown.ws, guess), { code: CloseCode.Unauthorized }, 'no key');
    // keys.json stolen: what it holds of the key signs no proof that logs in.
    const stored = Buffer.from(readKeyFile(node.dataDir)!.keys[0].stored, 'hex');
    const thief = await challengeHello(url, 91, `bk_${id}`);
    const stolen = loginProof(stored, thief.nonce, 91);
    assert.deepEqual(await answer(thief.ws, stolen), { code: CloseCode.Unauthorized }, 'thief');
    await assert.rejects(
      BourseClient.connect(url, {
        clientId: 91,
        apiKey: user.token.slice(0, -2) + 'xx',
        login: 'challenge',
      }),
      (e: ClientError) => e.code === CloseCode.Unauthorized,
    );
  }, prepare);
});

test('closing the SDK with commands unanswered says of each whether it was sent', async () => {
  await withNode(async (node, url) => {
    const transfer = { account: 1, target: 2, ref: 1, quantity: 1 };
    const staged = await BourseClient.connect(url, { clientId: 41 });
    await setUp(staged);
    const durable = node.progress.get(ProgressSlot.sequenceDurable);
    const never = Array.from({ length: 50 }, () => staged.transfer(transfer));
    await staged.close(); // in the same tick: the frame never left
    for (const r of await Promise.allSettled(never)) {
      assert.equal(r.status, 'rejected');
      assert.match(String(r.reason), /closed by the client: not sent, not applied/);
    }
    await assert.rejects(staged.transfer(transfer), /closed by the client: not sent/);

    const sent = await BourseClient.connect(url, { clientId: 42 });
    // Within the window (16 here, inFlightMax by default): every one of them is sent.
    const maybe = Array.from({ length: 10 }, () => sent.transfer(transfer));
    const batch = sent.submitBatch(CommandKind.Transfer, [transfer, transfer]);
    await new Promise((resolve) => setImmediate(resolve)); // the frame is on the wire
    await sent.close();
    const outcomes = await Promise.allSettled([...maybe, batch]);
    for (const r of outcomes) {
      if (r.status === 'rejected') assert.match(String(r.reason), /it may have been applied/);
    }
    assert.ok(
      outcomes.some((r) => r.status === 'rejected'),
      'closed before some answers',
    );
    // Nothing of the first client's reached the journal.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const journaled = (await (
      await fetch(url.replace('ws', 'http') + 'events?from=1&count=1000')
    ).json()) as { clientId: number; sequence: number }[];
    assert.ok(journaled.length > 0 && journaled.some((e) => e.sequence <= durable));
    assert.equal(journaled.filter((e) => e.clientId === 41 && e.sequence > durable).length, 0);
  });
});

test('subscriptions go on after a dropped connection; a refused one reaches onError', async () => {
  const admin = createKey(121, true, []);
  const reading = createKey(123, true, []);
  const user = createKey(122, false, [1, 2]);
  await withNode(
    async (_node, url) => {
      const writer = await BourseClient.connect(url, { clientId: 121, apiKey: admin.token });
      await setUp(writer);
      const reader = await BourseClient.connect(url, { clientId: 123, apiKey: reading.token });
      const journal: number[] = [];
      const ofAccount: EventRecord[] = [];
      reader.subscribeJournal(1, (events) => journal.push(...events.map((e) => e.sequence)));
      reader.subscribeAccount(1, (events) => ofAccount.push(...events));
      const send = async (n: number): Promise<number> => {
        const all = Array.from({ length: n }, () =>
          writer.transfer({ account: 1, target: 2, ref: 1, quantity: 1 }),
        );
        return (await Promise.all(all)).at(-1)?.[0].sequence ?? 0;
      };
      const until = async (done: () => boolean): Promise<void> => {
        const deadline = Date.now() + 10_000;
        while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      };
      const first = await send(100);
      await until(() => journal.at(-1) === first && ofAccount.length === 100);
      reader.dropConnection();
      await until(() => reader.reconnects === 1);
      assert.equal(reader.reconnects, 1);
      const end = await send(100);
      await until(() => journal.at(-1) === end && ofAccount.length === 200);
      // One event per command here: every sequence once, in order, across the reconnect.
      assert.deepEqual(
        journal,
        Array.from({ length: end }, (_, i) => 1 + i),
      );
      assert.equal(ofAccount.length, 200, 'the account stream came back by itself');

      const limited = await BourseClient.connect(url, { clientId: 122, apiKey: user.token });
      const refusals: string[] = [];
      limited.subscribeAccount(
        3,
        () => {},
        (e) => refusals.push(e.message),
      );
      limited.subscribeBook(9_999, () => {}, { onError: (e) => refusals.push(e.message) });
      await until(() => refusals.length === 2);
      assert.deepEqual(refusals.sort(), [
        'no such book',
        'not allowed for this API key: it does not grant account 3',
      ]);
      // Without onError a refusal is a process warning, not silence.
      const warnings: string[] = [];
      const onWarning = (w: Error & { code?: string }): number => warnings.push(`${w.code}`);
      process.on('warning', onWarning);
      limited.subscribeBook(9_998, () => {});
      await until(() => warnings.length === 1);
      process.off('warning', onWarning);
      assert.deepEqual(warnings, ['BOURSE_SUBSCRIPTION_REFUSED']);
      await Promise.all([writer.close(), reader.close(), limited.close()]);
    },
    keysFile(admin, reading, user),
  );
});

/** Sends `fields` every 50 ms until the session is closed with 4010 and `why` (at most 5 s). */
async function cutOff(
  client: BourseClient,
  fields: { account: number; target: number; ref: number; quantity: number },
  why: RegExp,
): Promise<void> {
  const deadline = Date.now() + 5_000;
  let cut: unknown = null;
  while (cut === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client.transfer(fields).catch((error: unknown) => (cut = error));
  }
  assert.ok(cut instanceof ClientError && cut.code === 4010, String(cut));
  assert.match(String(cut), why);
}

test('sessions open on / (commands) and /read only: a mistyped path is 404', async () => {
  await withNode(async (_node, url) => {
    const outcome = (path: string): Promise<string | number> => upgradeOutcome(url + path);
    assert.equal(await outcome(''), 'open');
    assert.equal(await outcome('read'), 'open');
    assert.equal(await outcome('read/'), 'open');
    // '/' after the url's own: '//' opened a command session, as '/' with a trailing slash.
    for (const path of ['raed', 'read/x', 'commands', 'health', '/', 'read//']) {
      assert.equal(await outcome(path), 404, path);
    }
  });
});

test('the SDK says why a connection did not open, with the address', async () => {
  await withNode(async (_node, url) => {
    // It said "Unexpected server response: 404" and "connect ECONNREFUSED 127.0.0.1:N".
    await assert.rejects(
      BourseClient.connect(`${url}ws`, { clientId: 151 }),
      /\/ws: no bourse endpoint at this path \(HTTP 404\): \/ takes commands, \/read reads/,
    );
    const closed = `ws://127.0.0.1:${await freePort('tcp')}/`;
    const nothing = /nothing listens there \(ECONNREFUSED\): is the node up\?/;
    await assert.rejects(BourseClient.connect(closed, { clientId: 151 }), nothing);
    // With members, every refusal is named, and the one that answers is taken.
    await assert.rejects(
      BourseClient.connect(closed, { clientId: 151, members: [closed, `${url}x`] }),
      /^Error: no member took the session: ws:.* nothing listens .*; ws:.*\/x: no bourse endpoint/,
    );
    const found = await BourseClient.connect(closed, { clientId: 151, members: [closed, url] });
    await found.close();
    // A BigInt amount is named as one (it showed as "not 100").
    const client = await BourseClient.connect(url, { clientId: 152 });
    await assert.rejects(
      client.transfer({ from: 1, to: 2, asset: 1, amount: 100n as unknown as number }),
      /'amount' must be a safe integer, not 100n \(a BigInt; numbers are plain numbers\)/,
    );
    await client.close();
  });
});

/**
 * Calls the SDK cannot send are refused at the call, each naming the call and what is wrong,
 * and nothing of them is sent. Before: a kind past 255 went out as its low byte (259 as a
 * Deposit, which the engine applied), fields that were no object threw a raw "Cannot use 'in'
 * operator" synchronously from promise-returning calls, and a subscription's missing handler
 * threw later, from the socket's message event, ending the process.
 */
test('the SDK refuses what it cannot send, naming the call, and sends nothing', async () => {
  await withNode(async (node, url) => {
    const client = await BourseClient.connect(url, { clientId: 153 });
    await setUp(client);
    const before = node.progress.get(ProgressSlot.sequenceDurable);
    const deposit = { account: 1, target: 1, quantity: 5 };
    const refused: [() => Promise<unknown>, RegExp][] = [
      [
        () => client.submit(259 as CommandKind, deposit),
        /^RangeError: kind: a CommandKind from 1 to 17, not 259/,
      ],
      [() => client.submit(0 as CommandKind, deposit), /kind: a CommandKind from 1 to 17, not 0/],
      [
        () => client.submit(CommandKind.SetCancelOnDisconnect, deposit),
        /kind: a CommandKind from 1 to 17, not 18 \(SetCancelOnDisconnect: the node's own\)/,
      ],
      [() => client.submit(CommandKind.Deposit, null as never), /fields: an object .*, not null/],
      [() => client.submitBatch(CommandKind.Deposit, null as never), /list: an array, not null/],
      [() => client.submitBatch(CommandKind.Deposit, [deposit, 7 as never]), /\[1\]\.fields:/],
      [() => client.submitBatch(259 as CommandKind, [deposit]), /kind: a CommandKind/],
      [() => client.transfer(null as never), /^TypeError: transfer: give its fields in an obj/],
      [() => client.transferBatch([null as never]), /\[0\] transfer: give its fields/],
      [() => client.cancel(undefined as never), /cancel: give its fields/],
      [() => client.amend(5 as never), /amend: give its fields .*, not 5/],
      [() => client.placeOrder(null as never), /placeOrder: give its fields/],
      // An array is no object of fields: these went out as commands of zeros.
      [() => client.placeOrder([] as never), /placeOrder: give its fields .*, not \[\]/],
      [() => client.placeOrder({} as never), /^TypeError: placeOrder: 'account' is missing/],
      [() => client.submit(CommandKind.Deposit, [] as never), /fields: an object .*, not \[\]/],
      [() => client.submitBatch(CommandKind.Deposit, [[] as never]), /\[0\]\.fields: an obj/],
      // Read as the protocol's fields before: "to: not a command field", and {} sent as zeros.
      [() => client.transfer({ to: 2, asset: 1, amount: 1 } as never), /'from' is missing/],
      [() => client.transfer({} as never), /^TypeError: transfer: 'from' is missing/],
      [() => client.cancel({ account: 1 } as never), /cancel: 'order' is missing/],
      [() => BourseClient.connect(url, undefined as never), /^TypeError: options: an object/],
    ];
    for (const [call, why] of refused) {
      let result: Promise<unknown> | undefined;
      assert.doesNotThrow(() => (result = call()), 'refused through the promise, not thrown');
      await assert.rejects(result as Promise<unknown>, why);
    }
    const book = (): void => {};
    assert.throws(() => client.subscribeBook('1' as never, book), /'instrument' must be a whole/);
    assert.throws(() => client.subscribeTrades(-1, book), /subscribeTrades: 'instrument'/);
    assert.throws(() => client.subscribeAccount(1, undefined as never), /handler must be a func/);
    assert.throws(() => client.subscribeJournal(0.5, book), /'fromSequence' must be a whole/);
    // Nothing went out: the next command takes the next seq, and is the next in the journal.
    const [head] = await client.transfer({ from: 1, to: 2, asset: 1, amount: 1 });
    assert.equal(head.status, Status.Ok);
    assert.equal(head.sequence, before + 1);
    const closing = client.close();
    // A call or a subscription after close is refused; a subscription heard nothing before.
    await assert.rejects(
      client.submit(CommandKind.Deposit, deposit),
      /closed by the client: not sent/,
    );
    assert.throws(() => client.subscribeTrades(1, book), /subscribeTrades: the session is closed/);
    await closing;
    assert.throws(() => client.subscribeBook(1, book), /subscribeBook: the session is closed/);
    assert.throws(() => client.subscribeJournal(1, book), /subscribeJournal: the session is clo/);
  });
});

test('the first keys end development mode at once: keyless sessions closed', async () => {
  await withNode(async (node, url) => {
    const open = await BourseClient.connect(url, { clientId: 141, reconnectAttempts: 0 });
    await setUp(open);
    const transfer = { account: 1, target: 2, ref: 1, quantity: 1 };
    assert.equal((await open.transfer(transfer))[0].status, Status.Ok, 'development mode');
    const admin = createKey(142, true, []);
    writeKeyFile(node.dataDir, { version: 2, keys: [admin.record] }); // `bourse keys create`
    await cutOff(open, transfer, /API keys now required/);
    await assert.rejects(BourseClient.connect(url, { clientId: 141 }), /API key refused/);
    const base = url.replace('ws://', 'http://');
    assert.equal((await fetch(`${base}events?from=1&count=1`)).status, 401, 'journal closed');
    const keyed = await BourseClient.connect(url, { clientId: 142, apiKey: admin.token });
    assert.equal((await keyed.transfer(transfer))[0].status, Status.Ok, 'no restart needed');
    await keyed.close();
  });
});

test('a damaged first keys.json shuts the door until it is mended (never left open)', async () => {
  await withNode(async (node, url) => {
    const open = await BourseClient.connect(url, { clientId: 151, reconnectAttempts: 0 });
    await setUp(open);
    writeFileSync(join(node.dataDir, 'keys.json'), '{ "version": 1, "keys": [ {');
    await cutOff(open, { account: 1, target: 2, ref: 1, quantity: 1 }, /API keys now required/);
    await assert.rejects(BourseClient.connect(url, { clientId: 151 }), /API key refused/);
    const admin = createKey(152, true, []);
    writeKeyFile(node.dataDir, { version: 2, keys: [admin.record] });
    await until('the mended file is read', async () => {
      const c = await BourseClient.connect(url, { clientId: 152, apiKey: admin.token }).catch(
        () => null,
      );
      await c?.close();
      return c !== null;
    });
  });
});

test('keys.json changes apply while the node runs: revoked keys cut off, new ones in', async () => {
  const admin = createKey(131, true, []);
  const user = createKey(132, false, [1]);
  let dataDir = '';
  await withNode(
    async (_node, url) => {
      const root = await BourseClient.connect(url, { clientId: 131, apiKey: admin.token });
      await setUp(root);
      const session = await BourseClient.connect(url, {
        clientId: 132,
        apiKey: user.token,
        reconnectAttempts: 0,
      });
      const transfer = { account: 1, target: 2, ref: 1, quantity: 1 };
      assert.equal((await session.transfer(transfer))[0].status, Status.Ok);
      const later = createKey(133, false, [2]);
      // `bourse keys revoke` and `create` rewrite the file (atomically) as this does.
      writeKeyFile(dataDir, { version: 2, keys: [admin.record, later.record] });
      await cutOff(session, transfer, /API key revoked/);
      await assert.rejects(
        BourseClient.connect(url, { clientId: 132, apiKey: user.token }),
        /API key refused/,
      );
      const fresh = await BourseClient.connect(url, { clientId: 133, apiKey: later.token });
      const other = { account: 2, target: 1, ref: 1, quantity: 1 };
      assert.equal((await fresh.transfer(other))[0].status, Status.Ok, 'no restart needed');
      // A file that cannot be read leaves the keys as they were (never open to everyone).
      writeFileSync(join(dataDir, 'keys.json'), '{ not json');
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      assert.equal((await fresh.transfer(other))[0].status, Status.Ok, 'still logged in');
      await assert.rejects(BourseClient.connect(url, { clientId: 134 }), /API key refused/);
      await Promise.all([root.close(), fresh.close()]);
    },
    (dir) => {
      dataDir = dir;
      keysFile(admin, user)(dir);
    },
  );
});

test('a subscription ends when asked; another on the same stream goes on', async () => {
  await withNode(async (_node, url) => {
    const writer = await BourseClient.connect(url, { clientId: 141 });
    await setUp(writer);
    const reader = await BourseClient.connect(url, { clientId: 142 });
    const counts = { journal: 0, first: 0, second: 0, book: 0 };
    const endJournal = reader.subscribeJournal(1, (e) => (counts.journal += e.length));
    const endFirst = reader.subscribeAccount(1, (e) => (counts.first += e.length));
    reader.subscribeAccount(1, (e) => (counts.second += e.length));
    const endBook = reader.subscribeBook(1, () => counts.book++);
    const send = async (n: number): Promise<void> => {
      const transfer = { account: 1, target: 2, ref: 1, quantity: 1 };
      await Promise.all(Array.from({ length: n }, () => writer.transfer(transfer)));
    };
    const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 300));
    await send(20);
    await settle();
    assert.equal(counts.first, 20);
    assert.equal(counts.second, 20);
    const journalBefore = counts.journal;
    assert.ok(journalBefore >= 20);
    endJournal();
    endFirst();
    endBook();
    endFirst(); // twice: nothing more happens
    await settle(); // frames already on their way have come
    const snapshot = { ...counts };
    await send(20);
    await settle();
    assert.equal(counts.journal, snapshot.journal, 'the journal stream ended');
    assert.equal(counts.first, snapshot.first, 'the first account handler ended');
    assert.equal(counts.second, snapshot.second + 20, 'the second one on the same account goes on');
    // A journal stream ended at once still sends what it had read: other clients' events, with
    // their own client seqs. They must not settle this client's commands (seqs 1, 2, ... too).
    const quick = await BourseClient.connect(url, { clientId: 143 });
    quick.subscribeJournal(1, () => {})(); // subscribed and ended in one go
    const mine = await Promise.all(
      Array.from({ length: 20 }, () =>
        quick.transfer({ account: 1, target: 2, ref: 1, quantity: 1 }),
      ),
    );
    for (const [head] of mine) assert.equal(head.clientId, 143, "this client's own answer");
    await quick.close();
    await Promise.all([writer.close(), reader.close()]);
  });
});
