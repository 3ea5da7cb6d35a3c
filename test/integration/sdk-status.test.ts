/**
 * BourseClient.submitStatus against a real node: each call's status, tag and sequence, agreeing
 * with the journal; calls that wait for room in flight; a dropped connection resent and each
 * command applied once, each handler told once; a frame refused as a whole and a closed client
 * told through the handler (a ClientError naming the client seq); bad input thrown at once,
 * nothing sent; a handler that throws is a warning, the others still told.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, ClientError, CommandFlag, type OnStatus } from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { EventKind } from '../../src/protocol/event-layout.js';
import { Status } from '../../src/protocol/status.js';
import { FrameError } from '../../src/protocol/frames.js';
import { createKey } from '../../src/gateway/api-keys.js';
import { journalEvents, keysFile, setUp, withNode } from '../harness/gateway-node.js';

interface Told {
  error: ClientError | null;
  status: number;
  tag: number;
  sequence: number;
}

/** A handler that keeps what it is told, and a promise of the first `count` tellings. */
function teller(count: number): { onStatus: OnStatus; told: Told[]; all: Promise<Told[]> } {
  const told: Told[] = [];
  let done = (_: Told[]): void => {};
  const all = new Promise<Told[]>((resolve) => (done = resolve));
  const onStatus: OnStatus = (error, status, tag, sequence) => {
    told.push({ error, status, tag, sequence });
    if (told.length === count) done(told);
  };
  return { onStatus, told, all };
}

test('submitStatus: each status, tag and sequence, as the journal has them', async () => {
  await withNode(async (_node, url) => {
    const client = await BourseClient.connect(url, { clientId: 301, inFlightMax: 1_000 });
    await setUp(client);
    const first = client.nextClientSeq;
    const { onStatus, all } = teller(300);
    // One object for every call: the SDK reads it during the call.
    const f = { account: 1, target: 2, ref: 1, quantity: 1 };
    for (let i = 0; i < 300; i++) {
      f.account = 1 + (i % 6);
      f.target = 1 + ((i + 1) % 6);
      f.quantity = i % 10 === 9 ? 10 ** 12 : 1 + (i % 3);
      client.submitStatus(CommandKind.Transfer, f, onStatus, 1_000 + i);
    }
    const told = await all;
    assert.equal(client.nextClientSeq, first + 300);
    const byTag = new Map(told.map((t) => [t.tag, t]));
    assert.equal(byTag.size, 300, 'each call told once, by its own tag');
    const heads = (await journalEvents(url, 1, Math.max(...told.map((t) => t.sequence)))).filter(
      (e) => e.clientId === 301 && e.clientSeq >= first,
    );
    assert.equal(heads.length, 300);
    for (const e of heads) {
      const i = e.clientSeq - first;
      const t = byTag.get(1_000 + i) as Told;
      assert.equal(t.error, null);
      const want = i % 10 === 9 ? Status.LedgerInsufficientFunds : Status.Ok;
      assert.equal(t.status, want, `call ${i}`);
      assert.equal(e.status, want);
      assert.equal(t.sequence, e.sequence, "its head event's sequence");
      if (want === Status.Ok) assert.equal(e.amount, 1 + (i % 3), 'its own fields sent');
    }
    await client.close();
  });
});

// A frame with a single call as well goes out with events, not results: the status calls are
// answered from their head events.
test('submitStatus: in one frame with single calls, each answered its own way', async () => {
  await withNode(async (_node, url) => {
    const client = await BourseClient.connect(url, { clientId: 308 });
    await setUp(client);
    const { onStatus, all } = teller(2);
    const f = { account: 1, target: 2, ref: 1, quantity: 1 };
    const bid = { account: 1, ref: 2, price: 10, quantity: 5 };
    client.submitStatus(CommandKind.PlaceOrder, bid, onStatus, 1);
    const single = client.transfer(f);
    client.submitStatus(CommandKind.Transfer, { ...f, quantity: 10 ** 12 }, onStatus, 2);
    const [told, [head]] = await Promise.all([all, single]);
    assert.equal(head.status, Status.Ok);
    assert.deepEqual(
      told.map((t) => [t.error, t.status, t.tag]),
      [
        [null, Status.Ok, 1],
        [null, Status.LedgerInsufficientFunds, 2],
      ],
    );
    assert.ok(told[0].sequence < head.sequence && head.sequence < told[1].sequence, 'in order');
    await client.close();
  });
});

test('submitStatus: calls past inFlightMax wait, in order, and are all answered', async () => {
  await withNode(async (_node, url) => {
    const client = await BourseClient.connect(url, { clientId: 302, inFlightMax: 10 });
    await setUp(client);
    const first = client.nextClientSeq;
    const { onStatus, all } = teller(100);
    const f = { account: 1, target: 2, ref: 1, quantity: 1 };
    for (let i = 0; i < 100; i++) {
      f.quantity = 1 + i; // changed after each call: a waiting call keeps its own copy
      client.submitStatus(CommandKind.Transfer, f, onStatus, i);
    }
    const told = await all;
    assert.deepEqual(
      told.map((t) => t.tag),
      told.map((_, i) => i),
      'answered in call order',
    );
    assert.ok(told.every((t) => t.error === null && t.status === Status.Ok));
    const last = told[99].sequence;
    const mine = (await journalEvents(url, 1, last)).filter(
      (e) => e.clientId === 302 && e.clientSeq >= first,
    );
    assert.deepEqual(
      mine.map((e) => e.amount),
      told.map((_, i) => 1 + i),
      'each call sent with the fields it was given',
    );
    await client.close();
  });
});

test('submitStatus: a dropped connection is resent, each applied and told once', async () => {
  await withNode(async (_node, url) => {
    // In flight: the server's idempotency window (16 in this configuration), the default.
    const client = await BourseClient.connect(url, { clientId: 303 });
    await setUp(client);
    const { onStatus, told, all } = teller(400);
    const f = { account: 1, target: 2, ref: 1, quantity: 1 };
    for (let i = 0; i < 400; i++) client.submitStatus(CommandKind.Transfer, f, onStatus, i);
    await new Promise((resolve) => setTimeout(resolve, 2)); // some of it is on its way
    client.dropConnection();
    await all;
    await new Promise((resolve) => setTimeout(resolve, 50)); // any second telling comes now
    assert.equal(client.reconnects, 1);
    assert.equal(told.length, 400, 'each handler told once');
    assert.equal(new Set(told.map((t) => t.tag)).size, 400);
    assert.ok(
      told.every((t) => t.error === null && t.status === Status.Ok),
      'original outcomes',
    );
    const last = Math.max(...told.map((t) => t.sequence));
    const applied = (await journalEvents(url, 1, last)).filter(
      (e) => e.clientId === 303 && e.kind === EventKind.Transferred,
    );
    assert.equal(applied.length, 400, 'each transfer applied once');
    assert.equal(new Set(applied.map((e) => e.clientSeq)).size, 400);
    await client.close();
  });
});

test('submitStatus: bad input throws at once, nothing sent', async () => {
  await withNode(async (_node, url) => {
    const client = await BourseClient.connect(url, { clientId: 304 });
    await setUp(client);
    const seq = client.nextClientSeq;
    const { onStatus, told } = teller(1);
    const ok = { account: 1, target: 2, ref: 1, quantity: 1 };
    const T = CommandKind.Transfer;
    const bad: [() => void, RegExp][] = [
      [() => client.submitStatus(T, { ...ok, quantity: 0.5 }, onStatus), /quantity must be/],
      [() => client.submitStatus(T, { ...ok, flag: 1 } as never, onStatus), /flag: not a/],
      [() => client.submitStatus(0, ok, onStatus), /kind: a CommandKind/],
      [() => client.submitStatus(T, ok, undefined as never), /onStatus: a function/],
      [() => client.submitStatus(T, ok, onStatus, NaN), /tag: a finite number/],
      [() => client.submitStatus(T, ok, onStatus, '1' as never), /tag: a finite number/],
    ];
    for (const [call, message] of bad) assert.throws(call, message);
    const linked = { ...ok, flags: CommandFlag.Linked };
    assert.throws(() => client.submitStatus(T, linked, onStatus), /submit or submitBatch/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(client.nextClientSeq, seq, 'no client seq taken');
    assert.equal(told.length, 0, 'no handler called');
    // The same names again after a misspelt one: still checked (the names are remembered).
    client.submitStatus(T, ok, onStatus, 7);
    assert.throws(() => client.submitStatus(T, { ...ok, flag: 1 } as never, onStatus), /flag/);
    await client.close();
  });
});

test('submitStatus: a refused frame and a closed client are told to the handler', async () => {
  const admin = createKey(306, true, []);
  const user = createKey(305, false, [1, 2]);
  const prepare = keysFile(admin, user);
  await withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 306, apiKey: admin.token });
    await setUp(root);
    await root.close();
    const client = await BourseClient.connect(url, { clientId: 305, apiKey: user.token });
    const ok = { account: 1, target: 2, ref: 1, quantity: 1 };
    const foreign = { account: 3, target: 1, ref: 1, quantity: 1 }; // not this key's
    const refused = teller(2);
    const seq = client.nextClientSeq;
    client.submitStatus(CommandKind.Transfer, ok, refused.onStatus, 1);
    client.submitStatus(CommandKind.Transfer, foreign, refused.onStatus, 2);
    for (const t of await refused.all) {
      assert.ok(t.error instanceof ClientError);
      assert.equal(t.error.code, FrameError.Forbidden);
      assert.match(t.error.message, /refused as a whole/);
      assert.equal(t.error.clientSeq, seq + t.tag - 1, 'its own client seq');
      assert.equal(t.status, -1);
    }
    const after = teller(1);
    client.submitStatus(CommandKind.Transfer, ok, after.onStatus, 3);
    assert.equal((await after.all)[0].status, Status.Ok, 'the session goes on');
    const cut = teller(2);
    client.submitStatus(CommandKind.Transfer, ok, cut.onStatus, 4);
    await client.close(); // staged, never sent
    client.submitStatus(CommandKind.Transfer, ok, cut.onStatus, 5); // after the close
    for (const t of await cut.all) {
      assert.ok(t.error instanceof ClientError, `tag ${t.tag}`);
      assert.match(t.error.message, /not sent, not applied/);
      assert.equal(t.error.mayHaveApplied, false);
      assert.equal(t.status, -1);
    }
  }, prepare);
});

test('submitStatus: a handler that throws is a warning; the others are told', async () => {
  await withNode(async (_node, url) => {
    const client = await BourseClient.connect(url, { clientId: 307 });
    await setUp(client);
    const warnings: Error[] = [];
    const warn = (w: Error): number => warnings.push(w);
    process.on('warning', warn);
    const { onStatus, all } = teller(3);
    const throws: OnStatus = (error, status, tag, sequence) => {
      onStatus(error, status, tag, sequence);
      if (tag === 2) throw new Error('a bug in the handler');
    };
    const f = { account: 1, target: 2, ref: 1, quantity: 1 };
    for (let tag = 1; tag <= 3; tag++) client.submitStatus(CommandKind.Transfer, f, throws, tag);
    const told = await all;
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on next tick
    process.off('warning', warn);
    assert.deepEqual(
      told.map((t) => t.status),
      [Status.Ok, Status.Ok, Status.Ok],
    );
    const ours = warnings.filter((w) => (w as { code?: string }).code === 'BOURSE_ONSTATUS_THREW');
    assert.equal(ours.length, 1);
    assert.match(ours[0].message, /a bug in the handler/);
    await client.close();
  });
});
