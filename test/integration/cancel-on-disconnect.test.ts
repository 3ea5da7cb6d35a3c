/**
 * Cancel on disconnect on a real node: a session that asked for it in Hello has the resting
 * orders its client id placed canceled when its connection is lost (a drop, or the server
 * closing it), in as many CancelClientOrders rounds as it takes, journaled under the node's
 * disconnectClientId; its clean close, and a session that did not ask, cancel nothing; other
 * sessions' orders stay, on the same accounts too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, EventKind, Status, type EventRecord } from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { CommandBatchEncoder } from '../../src/protocol/command-batch.js';
import { writeCommand } from '../../src/protocol/command-writer.js';
import { FrameType, HelloFlag, readPath } from '../../src/protocol/frames.js';
import { disconnectEvents, rawSession, setUp, withNode } from '../harness/gateway-node.js';
import { smallConfig } from '../harness/engine-driver.js';
import { until } from '../harness/wait.js';
import { seriesValue } from '../harness/metrics-text.js';
import { restingOrderIds } from '../harness/read-model.js';

/** Instrument 2 of setupCommands: tick 1, lot 1, no fees. */
const book2 = 2;

/**
 * Waits (30 s at most) until `done`. A reconnect, then rounds journaled and read back over
 * HTTP, on a node whose engine, journal and gateway share two cores with other tests: 5 s was
 * not always enough at a load average of 16.
 */
function waitUntil(what: string, done: () => boolean | Promise<boolean>): Promise<void> {
  return until(what, done, 30_000);
}

const httpOf = (url: string): string => url.replace('ws://', 'http://').replace(/\/$/, '');

async function restingIds(url: string, account: number): Promise<number[]> {
  return (await restingOrderIds(httpOf(url), account)).ids;
}

async function metric(url: string, name: string): Promise<number> {
  return seriesValue(await (await fetch(`${httpOf(url)}/metrics`)).text(), name);
}

/** Places `n` buys of 1 on book 2 for `account`; their order ids. */
async function quote(c: BourseClient, account: number, n: number): Promise<number[]> {
  const placed = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      c.placeOrder({ account, instrument: book2, side: 'buy', price: 10 + (i % 20), quantity: 1 }),
    ),
  );
  for (const [head] of placed) assert.equal(head.status, Status.Ok);
  return placed.map(([head]) => head.id);
}

const ofKind = (events: EventRecord[], kind: EventKind): EventRecord[] =>
  events.filter((e) => e.kind === kind);

test('a lost session has its orders canceled; a clean close and others keep theirs', async () => {
  await withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 170 });
    await setUp(root);
    const maker = await BourseClient.connect(url, { clientId: 171, cancelOnDisconnect: true });
    const plain = await BourseClient.connect(url, { clientId: 172 });
    const ones = await quote(maker, 1, 3);
    const twos = await quote(maker, 2, 2);
    const [amended] = await maker.amend({
      account: 2,
      order: twos[0],
      price: 10,
      quantity: 2,
    });
    assert.equal(amended.status, Status.Ok);
    const threes = await quote(plain, 3, 1);
    const fours = await quote(root, 4, 1);
    // Another session's order on the maker's account 1 (the admin's, or a second trader's).
    const shared = await quote(plain, 1, 1);
    const from = ones[0];

    plain.dropConnection(); // no flag: nothing canceled
    maker.dropConnection();
    await waitUntil('both reconnected', () => maker.reconnects === 1 && plain.reconnects === 1);
    await waitUntil("the maker's orders canceled", async () => {
      const left = [...(await restingIds(url, 1)), ...(await restingIds(url, 2))];
      return left.join() === shared.join();
    });
    assert.deepEqual(await restingIds(url, 3), threes, 'a session without the flag keeps its');
    assert.deepEqual(await restingIds(url, 4), fours, "another session's orders stay");
    const events = await disconnectEvents(url, from);
    const heads = ofKind(events, EventKind.AllCanceled);
    assert.deepEqual(
      heads.map((h) => [h.ref, h.account, h.quantity, h.otherId, h.status]),
      [[171, 0, 5, 0, Status.Ok]],
      "one round for the client's orders, journaled under the system client id",
    );
    assert.equal(heads[0].commandKind, CommandKind.CancelClientOrders);
    const canceled = ofKind(events, EventKind.OrderCanceled).map((e) => e.id);
    assert.deepEqual(
      canceled.sort((a, b) => a - b),
      [...ones, ...twos].sort((a, b) => a - b),
    );
    assert.equal(await metric(url, 'bourse_cancel_on_disconnect_orders_total'), 5);
    assert.equal(await metric(url, 'bourse_cancel_on_disconnect_rounds_total'), 1);
    assert.equal(await metric(url, 'bourse_cancel_on_disconnect_sessions_total'), 1);

    // The SDK asked again when it reconnected: a re-quote is canceled at the next loss.
    const requote = await quote(maker, 1, 1);
    const both = [...shared, ...requote];
    assert.deepEqual(await restingIds(url, 1), both, 'a re-quote after the loss stays');
    maker.dropConnection();
    await waitUntil('the re-quote canceled', async () => {
      return (await restingIds(url, 1)).join() === shared.join();
    });
    await waitUntil('reconnected again', () => maker.reconnects === 2);

    // The client's own close (1000) is no loss.
    const kept = await quote(maker, 2, 2);
    await maker.close();
    // Not a sleep (too short on a loaded machine, it let a wrong cancel pass): the gateway has
    // handled the close once its session is gone, and a loss would have begun a chain then.
    await waitUntil('the close handled', async () => {
      return (await metric(url, 'bourse_gateway_sessions')) === 2; // root's and plain's
    });
    assert.equal(await metric(url, 'bourse_cancel_on_disconnect_sessions_total'), 2);
    assert.deepEqual(await restingIds(url, 2), kept, 'close() cancels nothing');
    await plain.close();
    await root.close();
  });
});

test('more orders than one CancelAll takes are canceled over several rounds', async () => {
  const perCommand = smallConfig.fillsPerCommandMax;
  await withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 180 });
    await setUp(root);
    const maker = await BourseClient.connect(url, { clientId: 181, cancelOnDisconnect: true });
    const ids = await quote(maker, 1, 2 * perCommand + 22);
    const from = ids[0];
    maker.dropConnection();
    await waitUntil('every order canceled', async () => (await restingIds(url, 1)).length === 0);
    const events = await disconnectEvents(url, from);
    const heads = ofKind(events, EventKind.AllCanceled);
    assert.deepEqual(
      heads.map((h) => [h.quantity, h.otherId === 0]),
      [
        [perCommand, false],
        [perCommand, false],
        [22, true],
      ],
      'three rounds, each going on from the last one',
    );
    assert.deepEqual(
      heads.slice(1).map((h) => h.clientSeq > heads[0].clientSeq),
      [true, true],
    );
    assert.deepEqual(
      ofKind(events, EventKind.OrderCanceled).map((e) => e.id),
      ids,
    );
    await waitUntil('reconnected', () => maker.reconnects === 1);
    await maker.close();
    await root.close();
  });
});

/** A Commands frame of PlaceOrders (account each), client seqs from `seq`. */
function orders(accounts: number[], seq: number): Uint8Array {
  const u32 = new Uint32Array(accounts.length * 16);
  accounts.forEach((account, i) => {
    const fields = { account, ref: book2, price: 10, quantity: 1 };
    writeCommand(u32, i * 16, {
      kind: CommandKind.PlaceOrder,
      clientId: 0,
      clientSeq: seq + i,
      ...fields,
    });
  });
  return new CommandBatchEncoder(accounts.length).encode(
    new Uint8Array(u32.buffer),
    accounts.length,
    9,
  );
}

test('Hello flags: said in Welcome, unknown bits refused; a server close is a loss', async () => {
  await withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 190 });
    await setUp(root);
    const unknown = await rawSession(url, 191, 16); // 1, 2, 4 and 8 are taken (ResumeStarts: 8)
    assert.equal(await unknown.closed, 4002, 'an unknown Hello flag closes as Malformed');
    const reader = await rawSession(url + readPath.slice(1), 192, HelloFlag.CancelOnDisconnect);
    assert.equal(reader.welcome?.readUInt16LE(2), 0, 'a read-only session does not take it');
    reader.ws.close();
    const without = await rawSession(url, 193, 0);
    assert.equal(without.welcome?.readUInt16LE(2), 0);
    without.ws.close();

    const s = await rawSession(url, 194, HelloFlag.CancelOnDisconnect);
    assert.equal(s.welcome?.readUInt16LE(2), HelloFlag.CancelOnDisconnect, 'Welcome says so');
    // Orders on any number of accounts: nothing is noted per account (it was 64 at most).
    const many = Array.from({ length: 65 }, (_, i) => 100 + i);
    s.ws.send(orders(many, 1));
    await waitUntil('an answer', () => s.messages.length > 1);
    assert.equal(s.messages[1].readUInt8(0), FrameType.Events, s.messages[1].toString('utf8', 12));
    s.ws.send(orders([5, 5], 66));
    await waitUntil('the orders answered', () => s.messages.length > 2);
    assert.equal(s.messages[2].readUInt8(0), FrameType.Events, s.messages[2].toString('utf8', 12));
    assert.equal((await restingIds(url, 5)).length, 2);
    s.ws.send('a text frame'); // a protocol violation: the server closes, a loss
    assert.equal(await s.closed, 4004);
    await waitUntil('account 5 emptied', async () => (await restingIds(url, 5)).length === 0);

    await assert.rejects(
      BourseClient.connect(url, { clientId: 195, cancelOnDisconnect: 1 as unknown as boolean }),
      /cancelOnDisconnect: true or false, not 1/,
    );
    await assert.rejects(
      BourseClient.connect(url, { clientId: 195, readOnly: true, cancelOnDisconnect: true }),
      /cancelOnDisconnect: a read-only session places no orders/,
    );
    await root.close();
  });
});
