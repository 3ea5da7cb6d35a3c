/**
 * A command cut off by a close ("it may have been applied") says its client seq, and a new
 * connection of the client id says, by its `nextClientSeq` (the server's Welcome), whether the
 * engine took it: below it, decided (its outcome in the journal); at or above it, never
 * reached the engine, and sent again it is applied once. Before, the error said neither, and a
 * trading client that retried what "may have been applied" could apply it twice, or had to
 * search the journal for a command it could not name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BourseClient,
  ClientError,
  CommandKind,
  type EventRecord,
} from '../../src/client/client.js';
import { readModelAt, setUp, withNode } from '../harness/gateway-node.js';

const httpOf = (url: string): string => url.replace('ws://', 'http://').replace(/\/$/, '');

/** Account 2's available balance of asset 1 (setupCommands'), at the read model's sequence. */
async function credited(url: string): Promise<number> {
  const body = (await (await fetch(`${httpOf(url)}/balances?account=2`)).json()) as {
    balances: { asset: number; available: number }[];
  };
  return body.balances.find((b) => b.asset === 1)?.available ?? 0;
}

const pay = (c: BourseClient): Promise<EventRecord[]> =>
  c.transfer({ from: 1, to: 2, asset: 1, amount: 1 });

test('a cut-off command names its seq; the next Welcome says if the engine took it', async () => {
  await withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 330 });
    const start = await setUp(root);
    await readModelAt(url, start);
    const before = await credited(url);
    const c = await BourseClient.connect(url, { clientId: 331 });
    const sent = Array.from({ length: 50 }, () => pay(c));
    await new Promise((resolve) => setImmediate(resolve)); // their frame goes out
    const staged = Array.from({ length: 30 }, () => pay(c)); // this tick's: never sent
    await c.close();
    const outcomes = await Promise.allSettled([...sent, ...staged]);
    const cut = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as ClientError] : []));
    const answered = outcomes.length - cut.length;
    assert.ok(cut.length >= staged.length, 'the staged ones at least are cut off');
    for (const e of cut) assert.ok(e instanceof ClientError, `${e}`);
    // Seq 0: it waited in the SDK for room in flight (the window), never given a seq or sent.
    const seqs = cut.filter((e) => e.clientSeq > 0).map((e) => e.clientSeq);
    assert.ok(seqs.length > 0, 'cut off in flight with their seqs');
    assert.equal(new Set(seqs).size, seqs.length, 'each its own seq');
    for (const e of cut) assert.ok(e.clientSeq > 0 || !e.mayHaveApplied, 'no seq: not sent');

    const again = await BourseClient.connect(url, { clientId: 331 });
    const next = again.nextClientSeq;
    const unsent = cut.slice(-staged.length);
    assert.ok(
      unsent.every((e) => !e.mayHaveApplied && (e.clientSeq === 0 || e.clientSeq >= next)),
      'never sent: at or above the next seq',
    );
    // Those the engine never took are sent again, once each: every payment applied once.
    const lost = cut.filter((e) => e.clientSeq === 0 || e.clientSeq >= next);
    const retried = await Promise.all(lost.map(() => pay(again)));
    const last = Math.max(0, ...retried.map((events) => events[0].sequence));
    await readModelAt(url, last);
    assert.equal((await credited(url)) - before, outcomes.length, `${answered} answered`);
    await again.close();
    await root.close();
  });
});

test('a cut-off batch names its first seq: those past it, sent again, apply once', async () => {
  await withNode(async (_node, url) => {
    const root = await BourseClient.connect(url, { clientId: 340 });
    const start = await setUp(root);
    await readModelAt(url, start);
    const before = await credited(url);
    const c = await BourseClient.connect(url, { clientId: 341 });
    const count = 600; // in parts, past the window: some answered, some not, when it closes
    const transfer = { account: 1, target: 2, ref: 1, quantity: 1 };
    const batch = c.submitBatch(
      CommandKind.Transfer,
      Array.from({ length: count }, () => transfer),
    );
    await new Promise((resolve) => setImmediate(resolve));
    await c.close();
    const error = await batch.then(
      () => null,
      (e: unknown) => e as ClientError,
    );
    const again = await BourseClient.connect(url, { clientId: 341 });
    let resend = 0;
    if (error !== null) {
      assert.ok(error instanceof ClientError && error.clientSeq > 0, `${error}`);
      const next = again.nextClientSeq;
      // Command i's seq is clientSeq + i: those at or past next never reached the engine.
      resend = Math.min(count, Math.max(0, error.clientSeq + count - next));
    }
    const list = Array.from({ length: resend }, () => transfer);
    const r = await again.submitBatch(CommandKind.Transfer, list);
    const last = Math.max(start, ...Array.from(r.sequence));
    await readModelAt(url, last);
    assert.equal((await credited(url)) - before, count, `${resend} sent again`);
    await again.close();
    await root.close();
  });
});
