/**
 * Pending transfers expire on a node nobody sends commands to: the node that takes commands
 * sends a Tick of its own (client id 4294967294) when a hold is due, and a backlog larger than
 * expiriesPerCommandMax (4 in smallConfig) clears Tick by Tick. Before, expiry ran only ahead
 * of a client's command: idle, an expired hold stayed held for ever, and a payer's transfer
 * after a burst of due holds was refused (only 4 released), its retry accepted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, EventKind, Status, type EventRecord } from '../../src/client/client.js';
import { timerClientId } from '../../src/protocol/command-writer.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { readModelAt, setUp, withNode } from '../harness/gateway-node.js';
import { until } from '../harness/wait.js';

interface Balance {
  asset: number;
  available: number;
  held: number;
}

async function balance(base: string, account: number, asset: number): Promise<Balance> {
  const r = await fetch(`${base}/balances?account=${account}`);
  assert.equal(r.status, 200);
  const body = (await r.json()) as { balances: Balance[] };
  return body.balances.find((b) => b.asset === asset) ?? { asset, available: 0, held: 0 };
}

/** A node set up (generators.ts), and a client of it; `base` is its HTTP address. */
function withClient(run: (client: BourseClient, base: string) => Promise<void>): Promise<void> {
  return withNode(async (_node, url) => {
    const base = url.replace('ws://', 'http://').replace(/\/$/, '');
    const client = await BourseClient.connect(url, { clientId: 41 });
    try {
      await readModelAt(url, await setUp(client)); // balances read from here on show it
      await run(client, base);
    } finally {
      await client.close();
    }
  });
}

test('an idle node expires a due hold by itself, with a PendingExpired event', async () => {
  await withClient(async (client, base) => {
    const streamed: EventRecord[] = [];
    client.subscribeAccount(4, (events) => streamed.push(...events));
    const before = await balance(base, 4, 1);
    const hold = { from: 4, to: 3, asset: 1, amount: 25, timeoutUs: 200_000 };
    const [created] = await client.transferPending(hold);
    assert.equal(created.status, Status.Ok);
    // No command is sent from here on: the node alone must release the hold.
    const expiredSeen = (): boolean => streamed.some((e) => e.kind === EventKind.PendingExpired);
    await until('a PendingExpired event on the account stream', expiredSeen, 5_000);
    const expired = streamed.find((e) => e.kind === EventKind.PendingExpired);
    assert.equal(expired?.id, created.id);
    assert.equal(expired?.release, 25);
    const journal = (await (await fetch(`${base}/events?from=1&count=1000`)).json()) as [];
    const ticks = (journal as EventRecord[]).filter((e) => e.clientId === timerClientId);
    assert.ok(ticks.length >= 1, 'the Tick is journaled under the timer client id');
    assert.ok(ticks.every((e) => e.commandKind === CommandKind.Tick));
    await until('nothing held', async () => (await balance(base, 4, 1)).held === 0, 5_000);
    assert.deepEqual(await balance(base, 4, 1), before, 'the hold is back in available');
  });
});

test('a backlog of due holds larger than one command expires is released in full', async () => {
  await withClient(async (client, base) => {
    assert.equal((await client.createAccount({ account: 7 }))[0].status, Status.Ok);
    assert.equal((await client.deposit({ account: 7, asset: 1, amount: 10 }))[0].status, 0);
    // 10 holds, more than twice smallConfig's expiriesPerCommandMax (4).
    const hold = { from: 7, to: 3, asset: 1, amount: 1, timeoutUs: 200_000 };
    const created = await Promise.all(
      Array.from({ length: 10 }, () => client.transferPending(hold)),
    );
    for (const [e] of created) assert.equal(e.status, Status.Ok);
    await until('nothing held', async () => (await balance(base, 7, 1)).held === 0, 5_000);
    const [paid] = await client.transfer({ from: 7, to: 3, asset: 1, amount: 10 });
    assert.equal(paid.status, Status.Ok, 'every hold was released before the transfer');
  });
});
