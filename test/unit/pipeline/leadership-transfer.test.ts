/**
 * A primary's clean stop that names no successor says why (src/pipeline/leadership-transfer.ts).
 * A recovering standby (it lost its disk) is never named, since it may not stand: when it was
 * the only one holding the whole journal, the line said "no standby holds its whole journal",
 * and an operator looked for a standby cut off or a quorum lost that were not there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transferLeadership } from '../../../src/pipeline/leadership-transfer.js';
import { PrimaryClaim } from '../../../src/pipeline/primary-claim.js';
import type { BourseNode } from '../../../src/pipeline/node.js';
import type { Consensus } from '../../../src/replication/consensus.js';
import { Role, type Status } from '../../../src/replication/messages.js';

const term = 3;
const lastIndex = 20;
const idle = { occupancy: () => 0 };
const node = { inputRing: idle, outputRing: idle } as unknown as BourseNode;

/** Why primary 1 of 3 stopped without naming a successor, after the statuses `said`. */
async function stoppedBecause(role: Role, said: [number, number, boolean][]): Promise<string> {
  const consensus = { id: 1, role, term, lastIndex, transferLeadership: () => -1 };
  const claim = new PrimaryClaim(1, [1, 2, 3]);
  for (const [from, match, recovering] of said) {
    const fields = { cluster: 0, members: 7, term, from, ok: true, nak: 0, durable: match };
    claim.status({ kind: 'status', ...fields, match, recovering, life: 0 } satisfies Status, 0);
  }
  const lines: string[] = [];
  await transferLeadership(node, consensus as unknown as Consensus, claim, (l) => lines.push(l));
  assert.equal(lines.length, 1);
  return lines[0];
}

test('a stop naming no successor says so when only a recovering standby holds it all', async () => {
  const recovering = await stoppedBecause(Role.Primary, [
    [2, lastIndex, true], // caught up, not yet recovered
    [3, lastIndex - 5, false],
  ]);
  assert.match(recovering, /^member 1: stopping as primary \(all it took in answered; /);
  assert.match(recovering, /only a recovering standby holds its whole journal/);
  const none = await stoppedBecause(Role.Primary, [
    [2, lastIndex - 1, true],
    [3, lastIndex - 5, false],
  ]);
  assert.match(none, /; no standby holds its whole journal\)$/);
  const deposed = await stoppedBecause(Role.Standby, [[2, lastIndex, true]]);
  assert.match(deposed, /; no longer primary\)$/);
});
