/**
 * Linked chains end to end: the SDK sends each chain whole, in one frame, and the engine
 * applies all of it or none of it. Before, the SDK admitted each call alone: a chain longer
 * than the room in flight waited for answers that could not come (the engine holds a chain's
 * results until it closes), a chain left open hung its calls, and a chain split over two frames
 * could be cut by another client's command, its head rejected and its last command applied
 * alone. The gateway now refuses a frame that ends inside a chain, and HTTP a linked command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { hello, setUp, withNode } from '../harness/gateway-node.js';
import { BourseClient, type EventRecord } from '../../src/client/client.js';
import { CommandBatchEncoder } from '../../src/protocol/command-batch.js';
import { CommandFlag, CommandKind } from '../../src/protocol/command-layout.js';
import { writeCommand } from '../../src/protocol/command-writer.js';
import { FrameError, FrameType, frameHeaderBytes } from '../../src/protocol/frames.js';
import { ProgressSlot } from '../../src/journal/journal-progress.js';
import { Status } from '../../src/protocol/status.js';

const pay = (from: number, to: number, amount: number, linked = false) => ({
  from,
  to,
  asset: 1,
  amount,
  linked,
});

/** Rejects instead of waiting for ever (the old SDK hung on these). */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const statuses = (answers: EventRecord[][]): number[] => answers.map((a) => a[0].status);

test('linked calls through the SDK: all or nothing, one frame, never left open', async () => {
  await withNode(async (node, url) => {
    const client = await BourseClient.connect(url, { clientId: 301 });
    await setUp(client);
    const good = await Promise.all([
      client.transfer(pay(1, 2, 5, true)),
      client.transfer(pay(2, 3, 5, true)),
      client.transfer(pay(3, 4, 5)),
    ]);
    assert.deepEqual(statuses(good), [Status.Ok, Status.Ok, Status.Ok]);
    const before = node.progress.get(ProgressSlot.sequenceDurable);
    const bad = await Promise.all([
      client.transfer(pay(1, 2, 5, true)),
      client.transfer(pay(2, 3, 5, true)),
      client.transfer(pay(3, 4, 1e12)), // more than account 3 holds: the chain fails whole
    ]);
    const failed = Status.LedgerLinkedEventFailed;
    assert.deepEqual(statuses(bad), [failed, failed, Status.LedgerInsufficientFunds]);
    // A call of the chain refused for a bad field: the whole chain is refused, nothing sent
    // (the others went out before, as a chain of two).
    const partial = [
      client.transfer(pay(1, 2, 5, true)),
      client.transfer({ ...pay(2, 3, 5, true), amount: 1.5 }),
      client.transfer(pay(3, 4, 5)),
    ];
    for (const call of partial) await assert.rejects(call, TypeError);
    // Left open: refused at the end of the tick, nothing sent (it hung before).
    const open = client.transfer(pay(1, 2, 5, true));
    await assert.rejects(within(2_000, open), /^TypeError: linked chain of 1 calls refused/);
    // Longer than the room in flight: refused at once (it waited for ever before).
    const narrow = await BourseClient.connect(url, { clientId: 302, inFlightMax: 2 });
    const long = [pay(1, 2, 1, true), pay(2, 3, 1, true), pay(3, 4, 1)].map((p) =>
      narrow.transfer(p),
    );
    for (const call of long) {
      await assert.rejects(within(2_000, call), /a linked chain of 3 calls; at most 2 \(inF/);
    }
    // The failed chain and the refused calls changed nothing: the next command is next.
    const [after] = await client.transfer(pay(1, 2, 1));
    assert.equal(after.sequence, before + 4, 'the failed chain took three sequences, no more');
    await Promise.all([client.close(), narrow.close()]);
  });
});

test('a chain that waits for room goes whole while another client sends', async () => {
  await withNode(async (_node, url) => {
    const client = await BourseClient.connect(url, { clientId: 303, inFlightMax: 3 });
    await setUp(client);
    const other = await BourseClient.connect(url, { clientId: 304 });
    const noise = Array.from({ length: 300 }, () => other.transfer(pay(5, 6, 1)));
    const runs: Promise<EventRecord[]>[][] = [];
    for (let r = 0; r < 20; r++) {
      // One command in flight first: the chain of three has room for two of its calls only.
      const lone = client.transfer(pay(1, 2, 1));
      runs.push([
        lone,
        client.transfer(pay(1, 2, 1, true)),
        client.transfer(pay(2, 3, 1, true)),
        client.transfer(pay(3, 4, 1)),
      ]);
    }
    for (const run of runs) {
      assert.deepEqual(statuses(await within(10_000, Promise.all(run))), Array(4).fill(Status.Ok));
    }
    await Promise.all(noise);
    await Promise.all([client.close(), other.close()]);
  });
});

test('linked batches: chains whole across parts; a batch may not end inside one', async () => {
  await withNode(async (_node, url) => {
    // Room for 4 in flight: a batch of four chains of three goes in parts, one chain each.
    const client = await BourseClient.connect(url, { clientId: 305, inFlightMax: 4 });
    await setUp(client);
    const chains = [0, 1, 2, 3].map((c) => [
      pay(1, 2, 1, true),
      pay(2, 3, 1, true),
      pay(3, 4, c === 2 ? 1e12 : 1), // the third chain fails
    ]);
    const r = await within(10_000, client.transferBatch(chains.flat()));
    const ok = [Status.Ok, Status.Ok, Status.Ok];
    const failed = Status.LedgerLinkedEventFailed;
    const third = [failed, failed, Status.LedgerInsufficientFunds];
    assert.deepEqual([...r.status], [...ok, ...ok, ...third, ...ok]);
    await assert.rejects(
      client.transferBatch([pay(1, 2, 1), pay(1, 2, 1, true)]),
      /^RangeError: \[1\]: the batch ends inside a linked chain \(its last command has linked/,
    );
    const five = [1, 2, 3, 4].map(() => pay(1, 2, 1, true)).concat([pay(1, 2, 1)]);
    await assert.rejects(
      client.transferBatch(five),
      /\[0\]: a linked chain of 5 commands; at most 4/,
    );
    await client.close();
  });
});

test('the gateway refuses a frame ending inside a chain, and linked HTTP commands', async () => {
  await withNode(async (node, url) => {
    const admin = await BourseClient.connect(url, { clientId: 306 });
    await setUp(admin);
    const before = node.progress.get(ProgressSlot.sequenceDurable);
    const staging = new Uint8Array(128);
    const u32 = new Uint32Array(staging.buffer);
    const command = { kind: CommandKind.Transfer, clientId: 307, account: 1, target: 2, ref: 1 };
    writeCommand(u32, 0, { ...command, clientSeq: 1, quantity: 1, flags: CommandFlag.Linked });
    writeCommand(u32, 16, { ...command, clientSeq: 2, quantity: 1, flags: CommandFlag.Linked });
    const ws = new WebSocket(url);
    const answer = new Promise<Buffer>((resolve) =>
      ws.on('message', (data: Buffer) => {
        if (data.readUInt8(0) === FrameType.Error) resolve(data);
      }),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(hello(307));
    ws.send(new CommandBatchEncoder(2).encode(staging, 2, 9));
    const error = await within(5_000, answer);
    assert.equal(error.readUInt16LE(frameHeaderBytes), FrameError.ChainOpen);
    assert.match(error.subarray(frameHeaderBytes + 4).toString(), /chain closes within its frame/);
    ws.close();
    const port = new URL(url).port;
    const response = await fetch(`http://127.0.0.1:${port}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'transfer',
        clientId: 308,
        clientSeq: 1,
        ...pay(1, 2, 1, true),
      }),
    });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: string }).error, /^linked: a chain/);
    assert.equal(node.progress.get(ProgressSlot.sequenceDurable), before, 'nothing applied');
    await admin.close();
  });
});
