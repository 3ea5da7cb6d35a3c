/**
 * BourseClient.submitBatch against a real node: each command's status and sequence in the
 * order given, agreeing with the journal; batches across many frames and mixed with single
 * commands; bounded in flight; a dropped connection resent and applied once; a frame refused
 * as a whole rejects its batch; bad input refused before anything is sent; frames sent with a
 * zero masking key.
 */
import { test } from 'node:test';
import { connect, createServer, type AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import {
  BatchCutOff,
  BourseClient,
  ClientError,
  ClientErrorCode,
  CommandKind as PackageKinds,
  type BatchResult,
  type EventRecord,
} from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { EventKind } from '../../src/protocol/event-layout.js';
import { Status } from '../../src/protocol/status.js';
import { FrameError } from '../../src/protocol/frames.js';
import { commandsPerFrameMax } from '../../src/constants.js';
import { createKey } from '../../src/gateway/api-keys.js';
import { journalEvents, keysFile, setUp, withNode } from '../harness/gateway-node.js';

type Transfer = { account: number; target: number; ref: number; quantity: number };

/** Transfers among accounts 1..6 (asset 1: 200,000 each after setUp), every `poor`-th too big. */
function transfers(count: number, poor: number): Transfer[] {
  return Array.from({ length: count }, (_, i) => ({
    account: 1 + (i % 6),
    target: 1 + ((i + 1) % 6),
    ref: 1,
    quantity: i % poor === poor - 1 ? 10 ** 12 : 1 + (i % 3),
  }));
}

test('submitBatch: statuses and sequences in order, as the journal has them', async () => {
  await withNode(async (_node, url) => {
    const client = await BourseClient.connect(url, { clientId: 201, inFlightMax: 1_000 });
    await setUp(client);
    const list = transfers(300, 10);
    const r = await client.transferBatch(list);
    assert.equal(r.count, 300);
    assert.equal(r.rejected, 30, 'every tenth overdraws');
    for (let i = 0; i < r.count; i++) {
      const want = i % 10 === 9 ? Status.LedgerInsufficientFunds : Status.Ok;
      assert.equal(r.status[i], want, `command ${i}`);
      if (i > 0) assert.ok(r.sequence[i] > r.sequence[i - 1], 'sequences follow the order');
    }
    const events = await journalEvents(
      url,
      r.sequence[0],
      r.sequence[r.count - 1] - r.sequence[0] + 1,
    );
    const heads = events.filter((e) => e.clientId === 201);
    assert.equal(heads.length, 300, 'one event per transfer, whether applied or rejected');
    heads.forEach((e, i) => {
      assert.equal(e.clientSeq, r.firstClientSeq + i);
      assert.equal(e.sequence, r.sequence[i]);
      assert.equal(e.status, r.status[i]);
      assert.equal(e.kind, r.status[i] === Status.Ok ? EventKind.Transferred : EventKind.Rejected);
    });
    await client.close();
  });
});

test('submitBatch: many frames, several batches and single commands at once', async () => {
  await withNode(async (_node, url) => {
    const client = await BourseClient.connect(url, { clientId: 202, inFlightMax: 12_000 });
    await setUp(client);
    const big = transfers(commandsPerFrameMax * 2 + 7, 1_000_000);
    const singles = [1, 2, 3].map(() =>
      client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 }),
    );
    const batches = [
      client.submitBatch(CommandKind.Transfer, big),
      client.submitBatch(CommandKind.Transfer, transfers(5, 1_000_000)),
      // Does not fit with the first in flight (12,000): waits for room, then goes.
      client.submitBatch(CommandKind.Transfer, transfers(4_000, 1_000_000)),
    ];
    const [a, b, c] = await Promise.all(batches);
    for (const [head] of await Promise.all(singles)) assert.equal(head.status, Status.Ok);
    for (const r of [a, b, c]) {
      assert.equal(r.rejected, 0);
      assert.ok(r.status.every((s) => s === Status.Ok));
    }
    assert.equal(a.count, big.length);
    assert.ok(c.firstClientSeq > b.firstClientSeq && b.firstClientSeq > a.firstClientSeq);
    assert.ok(c.sequence[0] > a.sequence[a.count - 1], 'the third waited for room');
    await client.close();
  });
});

test('submitBatch: a dropped connection is resent, each command applied once', async () => {
  await withNode(async (_node, url) => {
    // In flight: the server's idempotency window (16 in this configuration), the default.
    const client = await BourseClient.connect(url, { clientId: 203 });
    await setUp(client);
    const pending = Array.from({ length: 40 }, () =>
      client.submitBatch(CommandKind.Transfer, transfers(16, 1_000_000)),
    );
    await new Promise((resolve) => setTimeout(resolve, 2)); // some of it is on its way
    client.dropConnection();
    const results = await Promise.all(pending);
    assert.equal(client.reconnects, 1);
    for (const r of results)
      assert.ok(
        r.status.every((s) => s === Status.Ok),
        'original outcomes',
      );
    // A repeat is answered with its original outcome, by an event of its own: read it all.
    const last = Math.max(...results.map((r) => Math.max(...r.sequence)));
    const applied = (await journalEvents(url, 1, last)).filter(
      (e) => e.clientId === 203 && e.kind === EventKind.Transferred,
    );
    assert.equal(applied.length, 640, 'each transfer applied once');
    assert.equal(new Set(applied.map((e) => e.clientSeq)).size, 640);
    await client.close();
  });
});

// A bot cancels its batch's orders by their ids, `sequence`: a command the node had applied
// already (sent again after a drop, or by a restarted process from the same seq) is answered by
// a Duplicate event, whose sequence is no order's id, and nothing in the result said which.
test("submitBatch: each command's head kind tells an order's id from a repeat's", async () => {
  await withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 139 });
    await setUp(root);
    await root.close();
    const bids = [1, 2, 3].map((i) => ({ account: 1, ref: 2, price: 10 + i, quantity: 1 }));
    const kinds = (r: BatchResult): number[] => [...r.kind];
    const c = await BourseClient.connect(url, { clientId: 138 });
    const placed = await c.submitBatch(CommandKind.PlaceOrder, bids); // ResultsOnly: Results
    assert.deepEqual(
      kinds(placed),
      [1, 1, 1].map(() => EventKind.OrderAccepted),
    );
    // With a single command in its frame, the batch is answered by Events frames.
    const [mixed, single] = await Promise.all([
      c.submitBatch(CommandKind.PlaceOrder, bids.slice(0, 1)),
      c.placeOrder(bids[0]),
    ]);
    assert.deepEqual(kinds(mixed), [EventKind.OrderAccepted]);
    assert.equal(single[0].kind, EventKind.OrderAccepted);
    await c.close();
    // The same seqs again: every command a repeat, its sequence the Duplicate's.
    const again = await BourseClient.connect(url, {
      clientId: 138,
      firstClientSeq: placed.firstClientSeq,
    });
    const repeated = await again.submitBatch(CommandKind.PlaceOrder, bids);
    assert.deepEqual(
      kinds(repeated),
      [1, 2, 3].map(() => EventKind.Duplicate),
    );
    assert.deepEqual([...repeated.status], [Status.Ok, Status.Ok, Status.Ok]);
    await again.close();
    const last = await BourseClient.connect(url, { clientId: 138 }); // its next seq, past both
    for (let i = 0; i < 3; i++) {
      const isOrder = repeated.kind[i] !== EventKind.Duplicate;
      const id = isOrder ? repeated.sequence[i] : placed.sequence[i];
      const [canceled] = await last.cancel({ account: 1, target: id });
      assert.equal(canceled.kind, EventKind.OrderCanceled, `order ${i} by its id`);
    }
    await last.close();
  });
});

test('submitBatch: refusals (bad input, too large, a forbidden frame, a lost node)', async () => {
  const admin = createKey(205, true, []);
  const user = createKey(204, false, [1, 2]);
  const prepare = keysFile(admin, user);
  await withNode(async (node, url) => {
    const root = await BourseClient.connect(url, { clientId: 205, apiKey: admin.token });
    await setUp(root);
    await root.close();
    const client = await BourseClient.connect(url, {
      clientId: 204,
      apiKey: user.token,
      inFlightMax: 100,
      reconnectAttempts: 1,
    });
    const ok = { account: 1, target: 2, ref: 1, quantity: 1 };
    await assert.rejects(
      client.submitBatch(CommandKind.Transfer, [ok, { account: 1, quantity: 0.5 }]),
      /\[1\]\.quantity must be a safe integer/,
    );
    // A misspelt name on a later command (a Sell's `flag`): the batch is refused, none sent.
    const misspelt = { ...ok, flag: 1 };
    await assert.rejects(
      client.submitBatch(CommandKind.Transfer, [ok, ok, misspelt]),
      /\[2\]\.flag: not a command field/,
    );
    await assert.rejects(
      client.submitBatch(CommandKind.Transfer, [ok, { ...ok, ref: 2 ** 40 }]),
      /\[1\]\.ref: 0 to 4294967295/,
    );
    // Larger than inFlightMax (100): sent in parts, in order, with nothing between them.
    const big = client.submitBatch(CommandKind.Transfer, Array(250).fill(ok));
    const single = client.transfer(ok); // issued after the batch: answered after all of it
    const [whole, [head]] = await Promise.all([big, single]);
    assert.equal(whole.count, 250);
    assert.equal(whole.rejected, 0);
    assert.ok(whole.status.every((s) => s === Status.Ok));
    for (let i = 1; i < 250; i++) assert.ok(whole.sequence[i] > whole.sequence[i - 1], 'in order');
    assert.equal(head.clientSeq, whole.firstClientSeq + 250, 'its seqs are consecutive');
    assert.ok(head.sequence > whole.sequence[249]);
    assert.equal((await client.submitBatch(CommandKind.Transfer, [])).count, 0);
    // Account 3 is not this key's: the frame is refused as a whole, and the batch with it.
    const foreign = { account: 3, target: 1, ref: 1, quantity: 1 };
    await assert.rejects(
      client.submitBatch(CommandKind.Transfer, [ok, foreign]),
      (e: ClientError) => e.code === FrameError.Forbidden && /refused as a whole/.test(e.message),
    );
    // Calls made in one tick go in one frame: the allowed one is told why it failed with it.
    const [allowed, forbidden] = await Promise.allSettled([
      client.transfer(ok),
      client.transfer(foreign),
    ]);
    assert.equal(allowed.status, 'rejected');
    assert.match(String(allowed.reason), /its frame of 2 commands was refused as a whole/);
    assert.equal(forbidden.status, 'rejected');
    // Refused in its third part (a batch larger than inFlightMax goes in parts): the first two
    // were applied, and the error says so, with their results, rather than "refused".
    const late = Array(250).fill(ok);
    late[220] = foreign;
    const cut = await client.submitBatch(CommandKind.Transfer, late).then(
      () => assert.fail('a part was refused'),
      (e: BatchCutOff<BatchResult>) => e,
    );
    assert.ok(cut instanceof BatchCutOff, String(cut));
    assert.deepEqual([cut.code, cut.answered, cut.unanswered, cut.notApplied], [3, 200, 0, 50]);
    assert.equal(cut.mayHaveApplied, false);
    assert.equal(
      cut.results.reduce((n, r) => n + r.count, 0),
      200,
      'the answered parts',
    );
    assert.match(cut.message, /200 were answered .* 50 were not applied/);
    // The session goes on: a later batch is answered.
    const after = await client.submitBatch(CommandKind.Transfer, [ok, ok, ok]);
    assert.deepEqual([...after.status], [Status.Ok, Status.Ok, Status.Ok]);
    node.gateway?.close();
    await assert.rejects(
      client.submitBatch(CommandKind.Transfer, [ok]),
      ClientError,
      'a lost node fails the batch',
    );
  }, prepare);
});

/** Every journal event from sequence `from` to the durable end (GET /events, paged). */
async function eventsFrom(url: string, from: number): Promise<EventRecord[]> {
  const base = url.replace('ws://', 'http://').replace(/\/$/, '');
  const events: EventRecord[] = [];
  for (;;) {
    const at = events.length === 0 ? from : events[events.length - 1].sequence + 1;
    const page = (await (await fetch(`${base}/events?from=${at}&count=1000`)).json()) as [];
    if (page.length === 0) return events;
    events.push(...(page as EventRecord[]));
  }
}

/**
 * A batch larger than inFlightMax goes in parts; one refused (its frame) while later parts
 * waited for room rejected with no handler yet: an unhandledRejection, the end of a process
 * that runs with node's default (a read-only session refuses every frame, Error 5).
 */
test('submitBatch: a part refused while later ones wait: rejected, nothing unhandled', async () => {
  const unhandled: unknown[] = [];
  const record = (e: unknown): number => unhandled.push(e);
  process.on('unhandledRejection', record);
  try {
    await withNode(async (_node, url) => {
      const options = { clientId: 209, readOnly: true, inFlightMax: 8 };
      const client = await BourseClient.connect(url, options);
      const list = Array(40).fill({ account: 1, target: 2, ref: 1, quantity: 1 });
      await assert.rejects(
        client.submitBatch(CommandKind.Transfer, list), // parts of 2: four in flight, 16 wait
        (e: ClientError) => e.code === FrameError.ReadOnly,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      await client.close();
    });
  } finally {
    process.off('unhandledRejection', record);
  }
  assert.deepEqual(unhandled, [], 'no part of the batch rejects unhandled');
});

test('submitBatch: closed while its parts go out, it tells what was applied', async () => {
  const unhandled: unknown[] = [];
  const record = (e: unknown): number => unhandled.push(e);
  process.on('unhandledRejection', record);
  try {
    await withNode(async (_node, url) => {
      const client = await BourseClient.connect(url, { clientId: 206 });
      await setUp(client);
      const from = (await eventsFrom(url, 1)).length + 1;
      // 16 in flight (the window here): 200 parts, each answered before the next goes.
      const batch = client.submitBatch(CommandKind.Transfer, transfers(3_200, 1_000_000));
      const outcome = batch.then(
        () => null,
        (e: Error) => e,
      );
      for (let i = 0; i < 2_000; i++) {
        if ((await eventsFrom(url, from)).length >= 48) break;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await client.close();
      const cut = await outcome;
      assert.ok(cut instanceof BatchCutOff, `cut off part way: ${String(cut)}`);
      const { answered, unanswered, notApplied } = cut;
      assert.ok(answered >= 48 && notApplied > 0, `${answered} answered, ${notApplied} not`);
      assert.equal(answered + unanswered + notApplied, 3_200);
      assert.equal(
        cut.results.reduce((n, r) => n + r.count, 0),
        answered,
      );
      const applied = (await eventsFrom(url, from)).filter(
        (e) => e.clientId === 206 && (e.flags & 1) !== 0,
      ).length;
      assert.ok(applied >= answered && applied <= answered + unanswered, `${applied} applied`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
  } finally {
    process.off('unhandledRejection', record);
  }
  assert.deepEqual(unhandled, [], 'no part of the batch rejects unhandled');
});

/**
 * The SDK's queue is bounded (queueMax): a caller that never awaits its calls is refused at
 * once past it, with nothing sent, instead of filling its heap (a million unawaited transfers
 * held 742 MB). A batch is one submission however large. The refusal has the SDK's own code,
 * QueueFull: it was 1, the server's Busy, which the SDK retries itself, so a caller could not
 * tell "await your calls" from the server's backpressure.
 */
test('queueMax: past it a call is refused at once (QueueFull), nothing of it sent', async () => {
  await withNode(async (_node, url) => {
    const admin = await BourseClient.connect(url, { clientId: 207 });
    await setUp(admin); // many calls at once: under the default queueMax
    await admin.close();
    const client = await BourseClient.connect(url, { clientId: 206, inFlightMax: 2, queueMax: 3 });
    const ok = { account: 1, target: 2, ref: 1, quantity: 1 };
    const calls = Array.from({ length: 5 }, () => client.transfer(ok)); // 2 in flight, 3 wait
    const full = (e: unknown): boolean =>
      e instanceof ClientError && e.code === ClientErrorCode.QueueFull;
    const refused = await client.transfer(ok).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(refused instanceof ClientError, `refused: ${String(refused)}`);
    assert.equal(refused.code, ClientErrorCode.QueueFull, 'the SDK’s code, not the server’s Busy');
    assert.match((refused as Error).message, /3 submissions already wait .*\(queueMax 3\)/);
    await assert.rejects(client.transferBatch(Array(40).fill(ok)), full, 'a batch too');
    const heads = (await Promise.all(calls)).map(([head]) => head);
    assert.ok(heads.every((h) => h.status === Status.Ok));
    // Awaited, a batch 20 times the window goes, in parts, as one submission of the queue.
    const whole = await client.transferBatch(Array(40).fill(ok));
    assert.equal(whole.count, 40);
    assert.ok(whole.status.every((s) => s === Status.Ok));
    assert.equal(whole.firstClientSeq, heads[4].clientSeq + 1, 'no seq spent on a refusal');
    const events = await journalEvents(url, 1, whole.sequence[39]);
    const mine = events.filter((e) => e.clientId === 206 && e.kind === EventKind.Transferred);
    assert.equal(mine.length, 45, 'the five calls and the batch: nothing refused was sent');
    await client.close();
    // Closed, a client says so, whatever its queue: not QueueFull (queueMax 0 refuses any wait).
    const none = await BourseClient.connect(url, { clientId: 208, queueMax: 0 });
    await none.close();
    await assert.rejects(none.transfer(ok), /closed by the client: not sent, not applied/);
  });
});

test('the package exports command kinds as values, the same as the wire layout', () => {
  assert.equal(PackageKinds.Transfer, CommandKind.Transfer);
  assert.equal(PackageKinds.PlaceOrder, CommandKind.PlaceOrder);
  assert.equal(PackageKinds.Deposit, CommandKind.Deposit);
});

/** Splits the client's side of a WebSocket connection into frames: [mask bit, key, length]. */
function clientFrames(bytes: Buffer): { masked: boolean; key: Buffer; length: number }[] {
  let at = bytes.indexOf('\r\n\r\n') + 4; // past the HTTP upgrade request
  assert.ok(at > 4, 'an upgrade request first');
  const frames: { masked: boolean; key: Buffer; length: number }[] = [];
  while (at < bytes.length) {
    const masked = (bytes[at + 1] & 0x80) !== 0;
    let length = bytes[at + 1] & 0x7f;
    at += 2;
    if (length === 126) [length, at] = [bytes.readUInt16BE(at), at + 2];
    else if (length === 127) [length, at] = [Number(bytes.readBigUInt64BE(at)), at + 8];
    const key = bytes.subarray(at, at + 4);
    frames.push({ masked, key, length });
    at += 4 + length;
  }
  return frames;
}

test('the SDK sends its frames with a zero masking key, which the server reads', async () => {
  await withNode(async (_node, url) => {
    const sent: Buffer[] = [];
    const proxy = createServer((inbound) => {
      const outbound = connect(Number(new URL(url).port), '127.0.0.1');
      inbound.on('data', (chunk: Buffer) => sent.push(chunk));
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as AddressInfo).port;
    const client = await BourseClient.connect(`ws://127.0.0.1:${port}/`, {
      clientId: 209,
      inFlightMax: 1_000,
    });
    try {
      await setUp(client);
      const r = await client.transferBatch(transfers(600, 10));
      assert.equal(r.rejected, 60, 'every tenth overdraws: the server read what was sent');
    } finally {
      await client.close();
      await new Promise((resolve) => proxy.close(resolve));
    }
    const frames = clientFrames(Buffer.concat(sent));
    assert.ok(frames.length >= 3, 'hello, set-up and the batch');
    assert.ok(
      frames.some((f) => f.length >= 600 * 64),
      'the batch in one frame',
    );
    for (const f of frames) {
      assert.ok(f.masked, 'a client frame says it is masked (RFC 6455)');
      assert.deepEqual([...f.key], [0, 0, 0, 0]);
    }
  });
});
