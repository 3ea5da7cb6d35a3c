/**
 * ResultsOnly Commands frames against a real node: each command answered by one 24-byte
 * CommandResult (status and head sequence, as the journal has them) once durable, and none of
 * its events; frames without the flag still get Events; unknown flag bits are closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { BourseClient } from '../../src/client/client.js';
import { CommandFlag, CommandKind } from '../../src/protocol/command-layout.js';
import { EventKind } from '../../src/protocol/event-layout.js';
import { Status } from '../../src/protocol/status.js';
import { CloseCode, CommandsFlag, FrameType, frameHeaderBytes } from '../../src/protocol/frames.js';
import { CommandBatchEncoder } from '../../src/protocol/command-batch.js';
import { writeCommand, type CommandFields } from '../../src/protocol/command-writer.js';
import { resultSizeBytes } from '../../src/protocol/result-layout.js';
import { hello, journalEvents, setUp, withNode } from '../harness/gateway-node.js';
import { until } from '../harness/wait.js';

interface Result {
  clientSeq: number;
  sequence: number;
  status: number;
  kind: number;
}

/** A raw session: its frames by type, results decoded. */
class RawSession {
  readonly results: Result[] = [];
  readonly events: number[] = []; // client seqs of the events received
  readonly frameTypes: number[] = [];
  private readonly encoder = new CommandBatchEncoder(16);

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.onFrame(data));
  }

  static async open(url: string, clientId: number): Promise<RawSession> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const welcome = new Promise((resolve) => ws.once('message', resolve));
    ws.send(hello(clientId));
    await welcome;
    return new RawSession(ws);
  }

  send(commands: CommandFields[], flags: number, requestId: number): void {
    const staging = new Uint8Array(commands.length * 64);
    const u32 = new Uint32Array(staging.buffer);
    commands.forEach((c, i) => writeCommand(u32, i * 16, c));
    this.ws.send(Buffer.from(this.encoder.encode(staging, commands.length, requestId, flags)));
  }

  private onFrame(data: Buffer): void {
    const type = data.readUInt8(0);
    this.frameTypes.push(type);
    const count = data.readUInt32LE(frameHeaderBytes);
    const body = frameHeaderBytes + 8;
    if (type === FrameType.Results) {
      assert.equal(data.byteLength, body + count * resultSizeBytes, 'whole 24-byte records');
      for (let i = 0; i < count; i++) {
        const at = body + i * resultSizeBytes;
        this.results.push({
          clientSeq: data.readUInt32LE(at) + data.readUInt32LE(at + 4) * 2 ** 32,
          sequence: data.readUInt32LE(at + 8) + data.readUInt32LE(at + 12) * 2 ** 32,
          status: data.readUInt16LE(at + 16),
          kind: data.readUInt8(at + 18),
        });
        assert.equal(data.readUInt8(at + 19) + data.readUInt32LE(at + 20), 0, 'reserved zero');
      }
    } else if (type === FrameType.Events) {
      for (let i = 0; i < count; i++) this.events.push(data.readUInt32LE(body + i * 128 + 16));
    }
  }
}

test('ResultsOnly: one result per command once durable, none of its events', async () => {
  await withNode(async (_node, url) => {
    const admin = await BourseClient.connect(url, { clientId: 301 });
    await setUp(admin);
    const [resting] = await admin.placeOrder({
      account: 1,
      ref: 2,
      price: 100,
      quantity: 5,
      flags: CommandFlag.Sell,
    });
    assert.equal(resting.status, Status.Ok);
    const raw = await RawSession.open(url, 302);
    const head = { clientId: 302, ref: 1 };
    raw.send(
      [
        { ...head, kind: CommandKind.Transfer, clientSeq: 1, account: 2, target: 3, quantity: 7 },
        {
          ...head,
          kind: CommandKind.Transfer,
          clientSeq: 2,
          account: 2,
          target: 3,
          quantity: 1e12,
        },
        // Crosses the resting sell: OrderAccepted, then a Trade (not sent to this session).
        {
          ...head,
          kind: CommandKind.PlaceOrder,
          clientSeq: 3,
          account: 2,
          ref: 2,
          price: 100,
          quantity: 5,
        },
      ],
      CommandsFlag.ResultsOnly,
      1,
    );
    await until('three results', () => raw.results.length === 3);
    raw.send(
      [{ ...head, kind: CommandKind.Transfer, clientSeq: 4, account: 2, target: 3, quantity: 1 }],
      0,
      2,
    );
    await until('events for the frame without the flag', () => raw.events.length > 0);
    assert.deepEqual(raw.events, [4], 'Events only for the command sent without the flag');
    assert.deepEqual(raw.frameTypes, [FrameType.Results, FrameType.Events]);
    const [ok, poor, order] = raw.results;
    assert.deepEqual(
      raw.results.map((r) => [r.clientSeq, r.status, r.kind]),
      [
        [1, Status.Ok, EventKind.Transferred],
        [2, Status.LedgerInsufficientFunds, EventKind.Rejected],
        [3, Status.Ok, EventKind.OrderAccepted],
      ],
    );
    // A command's events all carry its sequence; its head comes first.
    const events = await journalEvents(url, ok.sequence, 4); // ok, poor, the order, its fill
    for (const r of [ok, poor, order]) {
      const e = events.find((x) => x.sequence === r.sequence);
      assert.ok(e !== undefined, `the journal holds ${r.sequence}`);
      const got = [e.clientId, e.clientSeq, e.status, e.kind];
      assert.deepEqual(got, [302, r.clientSeq, r.status, r.kind]);
    }
    const fill = events.filter((e) => e.sequence === order.sequence && e.kind === EventKind.Trade);
    assert.equal(fill.length, 1, 'the fill is journaled, not sent to the session');
    raw.ws.close();
    await admin.close();
  });
});

test('ResultsOnly: a frame with an unknown flag bit is closed as malformed', async () => {
  await withNode(async (_node, url) => {
    const raw = await RawSession.open(url, 303);
    const closed = new Promise<number>((resolve) => raw.ws.once('close', resolve));
    const transfer = { clientId: 303, clientSeq: 1, kind: CommandKind.Transfer, account: 1 };
    raw.send([transfer], CommandsFlag.ResultsOnly | 0x80, 1);
    assert.equal(await closed, CloseCode.Malformed);
    assert.equal(raw.results.length + raw.events.length, 0, 'nothing answered');
  });
});
