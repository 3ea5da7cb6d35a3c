/**
 * Damaged datagrams on real members in one process: the primary's transport flips, in one
 * datagram in twenty, the bit of the term field that makes the current term a higher one
 * (term 2 reads as 3). Before datagrams carried a checksum, each such datagram that reached
 * a standby made it adopt the higher term and answer in it, which deposed the primary (an
 * audit through a corrupting proxy: 5 datagrams in 15 s, two failovers, term 2 to 7, ~1.3 s
 * without a primary each time). Now every damaged datagram is dropped, counted and repaired:
 * the term and the primary stay, and commands go on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, TransferLoad } from '../harness/cluster-driver.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';
import { Status } from '../../src/protocol/status.js';
import { CommandKind } from '../../src/protocol/command-layout.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Where a message's term (f64, little-endian) starts in a datagram: after both headers. */
const termBit0 = (16 + 8) * 8;

/** The bit of an f64 `term` whose flip makes it a higher term (a safe integer), if any. */
function raisingBit(term: number): number {
  const f = new Float64Array(1);
  const bytes = new Uint8Array(f.buffer);
  for (let bit = 0; bit < 64; bit++) {
    f[0] = term;
    bytes[bit >> 3] ^= 1 << (bit & 7);
    if (Number.isSafeInteger(f[0]) && f[0] > term) return bit;
  }
  return -1;
}

/** The checksum failures `member`'s transport counted. */
function checksumFailures(member: ClusterNode): number {
  return member['transport'].stats.checksumFailures;
}

test('cluster: flipped term bits in the primary datagrams depose no one', () =>
  TestCluster.with(3, async (cluster) => {
    const client = await cluster.setUpClient(5, 400);
    let primary = await cluster.primary();
    if (primary.consensus.term < 2) {
      // Term 1 (exponent 0x3ff) has no bit that raises it: a handover makes it 2.
      primary.partition();
      const next = await cluster.primary(primary);
      primary.heal();
      primary = next;
    }
    const term = primary.consensus.term;
    const bit = raisingBit(term);
    assert.ok(bit >= 0, `a bit raises term ${term}`);
    const plan = cluster.faultPlan(primary.id);
    plan.corruptBit = termBit0 + bit;
    plan.corrupt = 0.05;
    await sleep(4_000);
    plan.corrupt = 0;
    const standbys = cluster.nodes.filter((n) => n !== null && n !== primary) as ClusterNode[];
    const failures = standbys.reduce((sum, n) => sum + checksumFailures(n), 0);
    assert.ok(failures >= 5, `the standbys dropped ${failures} damaged datagrams`);
    for (const n of cluster.nodes) assert.equal(n?.consensus.term, term, 'the term stayed');
    const m = cluster.members[standbys[0].id - 1];
    const metrics = await (await fetch(`http://${m.host}:${m.port}/metrics`)).text();
    const shown = /^bourse_replication_checksum_failures_total (\d+)$/m.exec(metrics);
    assert.equal(Number(shown?.[1]), checksumFailures(standbys[0]), 'and /metrics shows them');
    assert.equal(await cluster.primary(), primary, 'and so did the primary');
    const deposit = { kind: CommandKind.Deposit, account: 1, ref: 1, quantity: 5 };
    const [done] = await client.submit(deposit.kind, deposit);
    assert.equal(done.status, Status.Ok);
    await client.close();
  }));

/**
 * The longest time (ms) any of `standbys` held no more entries durably while the primary's
 * log grew by 16 or more, sampled every 100 ms for `ms`.
 */
async function longestStallMs(
  primary: ClusterNode,
  standbys: readonly ClusterNode[],
  ms: number,
): Promise<number> {
  const since = standbys.map(() => ({ at: Date.now(), durable: -1, primaryLast: 0 }));
  let longest = 0;
  for (let t = 0; t < ms; t += 100) {
    await sleep(100);
    standbys.forEach((n, i) => {
      const s = since[i];
      const now = Date.now();
      if (n.consensus.durableIndex !== s.durable) {
        Object.assign(s, { at: now, durable: n.consensus.durableIndex });
        s.primaryLast = primary.consensus.lastIndex;
      } else if (primary.consensus.lastIndex - s.primaryLast >= 16) {
        longest = Math.max(longest, now - s.at);
      }
    });
  }
  return longest;
}

test('cluster: standbys keep up under load through a link that damages 10% of datagrams', () =>
  TestCluster.with(3, async (cluster) => {
    // The audit's 10% corruption for 9 s: a standby logged "catching up: 851 of 971 entries
    // durable (0 entries/s)" twice, 4 s apart. An append whose datagram was damaged decoded
    // to entries whose hash did not verify, and such an append is ignored whole (consensus:
    // "forged"), with no NAK: a window of entries, tens of datagrams, almost always had one.
    const client = await cluster.setUpClient(6, 400);
    const load = new TransferLoad(client);
    await sleep(300);
    const primary = await cluster.primary();
    const standbys = cluster.nodes.filter((n) => n !== null && n !== primary) as ClusterNode[];
    const plan = cluster.faultPlan(primary.id);
    plan.corrupt = 0.1;
    const stall = await longestStallMs(primary, standbys, 4_000);
    plan.corrupt = 0;
    assert.equal(await load.stop(), null, 'every transfer answered Ok');
    const failures = standbys.reduce((sum, n) => sum + checksumFailures(n), 0);
    assert.ok(failures > 20, `the standbys dropped ${failures} damaged datagrams`);
    assert.ok(stall < 1_000, `a standby stood still for ${stall} ms while the log grew`);
    assert.equal(await cluster.primary(), primary, 'the primary stayed');
    await cluster.assertOneHistory(client, load.acked);
    await client.close();
  }));
