/**
 * Where a cluster member's account stream taken without From starts (Hello flag AccountStarts,
 * docs/PROTOCOL.md "Where an account stream starts"): the sequence its Subscribed frame names
 * is the one after which the stream's events come, no earlier one after the frame and none
 * later missed, on a standby and on the primary, while transfers keep coming.
 *
 * Both named their durable sequence. A standby's stream follows its journal a poll behind it
 * (topics-tail.ts) and a primary's publishes what a majority holds, behind its own disk: the
 * events between came after the frame (16 at a time, in 3 or 4 of 10 subscribes), as if they
 * were newer than the Subscribe, to a client that took the frame at its word.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameType, frameHeaderBytes, HelloFlag, readPath } from '../../src/protocol/frames.js';
import { StreamKind, topicRequestId } from '../../src/protocol/frames.js';
import { eventSizeBytes } from '../../src/constants.js';
import { TestCluster, TransferLoad } from '../harness/cluster-driver.js';
import { frame, rawSession } from '../harness/gateway-node.js';
import { until } from '../harness/wait.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';

/** Subscribes taken on each member, a little apart, while the load runs. */
const subscribesPerMember = 10;

interface Watch {
  messages: Buffer[];
  close: () => void;
}

/** A read session on `url` (AccountStarts) that subscribes to account 1's stream. */
async function watchAccount1(url: string, clientId: number): Promise<Watch> {
  const s = await rawSession(url + readPath.slice(1), clientId, HelloFlag.AccountStarts);
  assert.equal(s.welcome?.readUInt8(0), FrameType.Welcome);
  const body = Buffer.alloc(16);
  body.writeUInt8(StreamKind.Account, 0);
  body.writeDoubleLE(1, 8);
  s.ws.send(frame(FrameType.Subscribe, body, 1, 7));
  return { messages: s.messages, close: () => s.ws.close() };
}

/** The sequence its Subscribed named, and the sequences of the account's events after it. */
function heard(watch: Watch): { named: number; after: number[] } {
  let named = Number.NaN;
  const after: number[] = [];
  for (const m of watch.messages) {
    const type = m.readUInt8(0);
    if (type === FrameType.Subscribed) named = m.readDoubleLE(frameHeaderBytes + 16);
    if (type !== FrameType.Events || m.readUInt32LE(4) !== topicRequestId(StreamKind.Account)) {
      continue;
    }
    assert.ok(!Number.isNaN(named), 'Subscribed comes before any event of its stream');
    const count = m.readUInt32LE(frameHeaderBytes);
    const first = m.byteLength - count * eventSizeBytes;
    for (let i = 0; i < count; i++) {
      const at = first + i * eventSizeBytes;
      after.push(m.readUInt32LE(at) + m.readUInt32LE(at + 4) * 2 ** 32);
    }
  }
  return { named, after };
}

test('a member names the sequence its account stream starts after, no other', async () => {
  await TestCluster.with(3, async (cluster) => {
    const writer = await cluster.setUpClient(201, 5);
    const primary = await cluster.primary();
    const standby = cluster.nodes.find((n) => n !== null && n !== primary) as ClusterNode;
    const urls = cluster.urls();
    const load = new TransferLoad(writer);
    const watches: [string, Watch][] = [];
    try {
      await until('transfers under way', () => load.acked.length > 100, 20_000);
      for (let i = 0; i < subscribesPerMember; i++) {
        for (const [name, member] of [
          ['standby', standby],
          ['primary', primary],
        ] as const) {
          const clientId = 210 + watches.length;
          watches.push([name, await watchAccount1(urls[member.id - 1], clientId)]);
        }
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      await until('transfers after the last subscribe', () => load.acked.length > 2_000, 30_000);
      assert.equal(await load.stop(), null);
      const last = load.acked[load.acked.length - 1];
      for (const [name, watch] of watches) {
        await until(`${name}: the last transfer`, () => heard(watch).after.includes(last));
        const { named, after } = heard(watch);
        const early = after.filter((s) => s <= named);
        assert.deepEqual(early, [], `${name}: events at or before ${named} after its Subscribed`);
        const want = load.acked.filter((s) => s > named);
        assert.deepEqual(after, want, `${name}: every transfer after ${named}, once, in order`);
      }
    } finally {
      await load.stop();
      for (const [, watch] of watches) watch.close();
      await writer.close();
    }
  });
});
