/**
 * The SDK's bound on a node that keeps refusing its frames as Busy (client/busy-resend.ts,
 * busy-give-up.ts; gateway-session.ts refusedTurn). Before, it sent them again for ever, and a
 * caller's promise never settled. Now, past busyTimeoutMs, the calls fail BusyTimeout (5001),
 * not applied, and the next calls take their client seqs: the gateway, seeing the client go
 * back to its oldest refused seq, takes the frame (it refused every later frame for ever, for
 * a refused frame that never came again), and the engine applies each command once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BourseClient,
  ClientError,
  ClientErrorCode,
  EventKind,
  Status,
  type EventRecord,
} from '../../src/client/client.js';
import type { CommandSink } from '../../src/gateway/gateway.js';
import type { BourseNode } from '../../src/pipeline/node.js';
import { fullWhile, setUp, withNode } from '../harness/gateway-node.js';

/** The gateway finds its input ring full while `full()`: every Commands frame is Busy. */
function holdRing(node: BourseNode, full: () => boolean): void {
  const gateway = node.gateway as unknown as { sink: CommandSink };
  gateway.sink = fullWhile(gateway.sink, full);
}

/** The head events of `client`'s commands journaled from `from` to `to`. */
async function headsOf(url: string, from: number, to: number, client: number) {
  const base = url.replace('ws://', 'http://').replace(/\/$/, '');
  const out: EventRecord[] = [];
  for (let at = from; at <= to;) {
    const page = (await (await fetch(`${base}/events?from=${at}&count=1000`)).json()) as [];
    if (page.length === 0) break;
    for (const e of page as EventRecord[]) {
      if (e.clientId === client && e.sequence <= to && e.kind === EventKind.Transferred) {
        out.push(e);
      }
    }
    at = (page as EventRecord[]).at(-1)!.sequence + 1;
  }
  return out;
}

const transferOf = (i: number) => ({ account: 1 + (i % 6), target: 1 + ((i + 3) % 6), ref: 1 });

test(
  'calls kept Busy past busyTimeoutMs fail, not applied; made again, applied once',
  {
    timeout: 60_000,
  },
  async () => {
    await withNode(async (node, url) => {
      const root = await BourseClient.connect(url, { clientId: 340 });
      const from = (await setUp(root)) + 1;
      const client = await BourseClient.connect(url, { clientId: 341, busyTimeoutMs: 200 });
      let full = true;
      holdRing(node, () => full);
      const firstSeq = client.nextClientSeq;
      const single = client.transfer({ ...transferOf(0), quantity: 1 });
      await new Promise((resolve) => setImmediate(resolve)); // the batch goes in a later frame
      const batch = client.transferBatch([1, 2, 3].map((i) => ({ ...transferOf(i), quantity: 1 })));
      const settled = await Promise.allSettled([single, batch]);
      for (const s of settled) {
        assert.equal(s.status, 'rejected');
        const error = (s as PromiseRejectedResult).reason as ClientError;
        assert.ok(error instanceof ClientError);
        assert.equal(error.code, ClientErrorCode.BusyTimeout);
        assert.equal(error.mayHaveApplied, false);
        assert.match(error.message, /busy .* for \d+ ms.*not applied/);
      }
      assert.ok(client.busyRefusals >= 2, 'both frames were refused as Busy');
      assert.equal(client.nextClientSeq, firstSeq, 'their client seqs go to the next calls');

      full = false; // the node takes commands again: the same calls, made again
      const [head] = await client.transfer({ ...transferOf(0), quantity: 1 });
      assert.equal(head.status, Status.Ok, 'taken: the session is not refused for ever');
      assert.equal(head.clientSeq, firstSeq);
      const again = await client.transferBatch(
        [1, 2, 3].map((i) => ({ ...transferOf(i), quantity: 1 })),
      );
      assert.deepEqual([...again.status], [0, 0, 0]);
      const [last] = await client.transfer({ ...transferOf(4), quantity: 1 });
      assert.equal(last.clientSeq, firstSeq + 4);

      const heads = await headsOf(url, from, last.sequence, 341);
      const seqs = heads.map((e) => e.clientSeq);
      assert.deepEqual(
        seqs,
        [0, 1, 2, 3, 4].map((i) => firstSeq + i),
        'each applied once',
      );
      await client.close();
      await root.close();
    });
  },
);
