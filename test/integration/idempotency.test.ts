/**
 * A payments integrator's audit, against a real node: a client that lost its seq counter and
 * sent a different payment under a used seq was answered `Duplicate` with status Ok, and the
 * payment never happened. Over HTTP and through the SDK it is now refused with
 * IdempotencySeqReused, and a true resend still gets the original outcome.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readModelAt, setUp, withNode } from '../harness/gateway-node.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { setupCommands } from '../harness/generators.js';
import { BourseClient, EventKind, Status, statusName } from '../../src/client/client.js';

interface NamedEvent {
  kindName: string;
  statusName: string;
  id: number;
  sequence: number;
  quantity: number;
}

test('HTTP: a seq reused for another amount is refused; a true resend is a Duplicate', async () => {
  await withNode(async (_node, url) => {
    const base = url.replace('ws://', 'http://').replace(/\/$/, '');
    const post = async (body: unknown): Promise<NamedEvent> => {
      const r = await fetch(`${base}/commands`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(r.status, 200);
      return ((await r.json()) as { events: NamedEvent[] }).events[0];
    };
    let seq = 0;
    for (const f of setupCommands()) await post({ ...f, clientId: 2, clientSeq: ++seq });
    const payment = { kind: 'Transfer', clientId: 2, account: 1, target: 2, ref: 1 };
    const paid = await post({ ...payment, clientSeq: seq + 1, quantity: 100 });
    assert.deepEqual([paid.kindName, paid.statusName], ['Transferred', 'Ok']);
    const reused = await post({ ...payment, clientSeq: seq + 1, quantity: 5_000 });
    assert.deepEqual(
      [reused.kindName, reused.statusName, reused.quantity],
      ['Rejected', 'IdempotencySeqReused', 5_000],
      'not a success-looking Duplicate of the 100',
    );
    const resent = await post({ ...payment, clientSeq: seq + 1, quantity: 100 });
    assert.deepEqual(
      [resent.kindName, resent.statusName, resent.id],
      ['Duplicate', 'Ok', paid.sequence],
    );
    await readModelAt(url, paid.sequence);
    const page = await fetch(`${base}/balances?account=2`);
    const { balances } = (await page.json()) as {
      balances: { asset: number; available: number }[];
    };
    const before = 200_000; // setupCommands' deposit
    assert.equal(balances.find((b) => b.asset === 1)?.available, before + 100, 'moved once');
  });
});

test('SDK: a client that starts again at a used seq gets the refusal as a status', async () => {
  await withNode(async (_node, url) => {
    const first = await BourseClient.connect(url, { clientId: 31 });
    await setUp(first);
    const [paid] = await first.transfer({ account: 1, target: 2, ref: 1, quantity: 100 });
    assert.equal(paid.status, Status.Ok);
    await first.close();
    // A process that lost its counter and starts at a seq it used: another payment.
    const lost = await BourseClient.connect(url, {
      clientId: 31,
      firstClientSeq: paid.clientSeq,
    });
    const [head] = await lost.transfer({ account: 1, target: 2, ref: 1, quantity: 5_000 });
    assert.deepEqual(
      [head.kind, head.status, statusName(head.status)],
      [EventKind.Rejected, Status.IdempotencySeqReused, 'IdempotencySeqReused'],
    );
    await lost.close();
    const resend = await BourseClient.connect(url, {
      clientId: 31,
      firstClientSeq: paid.clientSeq,
    });
    const [same] = await resend.transfer({ account: 1, target: 2, ref: 1, quantity: 100 });
    assert.deepEqual([same.kind, same.status, same.id], [EventKind.Duplicate, Status.Ok, paid.id]);
    await resend.close();
  });
});

test('after a restart (state rebuilt from the journal) a reused seq is still refused', async () => {
  const dir = tempDataDir();
  const start = () =>
    BourseNode.start({
      dataDir: dir,
      config: smallConfig,
      gateway: { host: '127.0.0.1', port: 0 },
    });
  const urlOf = (node: BourseNode) => `ws://127.0.0.1:${node.gateway?.port}/`;
  try {
    let node = await start();
    const first = await BourseClient.connect(urlOf(node), { clientId: 41 });
    await setUp(first);
    const [paid] = await first.transfer({ account: 1, target: 2, ref: 1, quantity: 100 });
    await first.close();
    await node.stop();
    node = await start();
    try {
      const options = { clientId: 41, firstClientSeq: paid.clientSeq };
      const lost = await BourseClient.connect(urlOf(node), options);
      const [head] = await lost.transfer({ account: 1, target: 2, ref: 1, quantity: 5_000 });
      assert.equal(head.status, Status.IdempotencySeqReused, 'the fingerprint came back');
      await lost.close();
      const resend = await BourseClient.connect(urlOf(node), options);
      const [same] = await resend.transfer({ account: 1, target: 2, ref: 1, quantity: 100 });
      assert.deepEqual([same.kind, same.id], [EventKind.Duplicate, paid.id]);
      await resend.close();
    } finally {
      await node.stop();
    }
  } finally {
    removeDir(dir);
  }
});
