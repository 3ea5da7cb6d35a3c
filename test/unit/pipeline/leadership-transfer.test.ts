/**
 * A primary's clean stop that names no successor says why (src/pipeline/leadership-transfer.ts).
 * A recovering standby (it lost its disk) is never named, since it may not stand: when it was
 * the only one holding the whole journal, the line said "no standby holds its whole journal",
 * and an operator looked for a standby cut off or a quorum lost that were not there. What the
 * standbys hold is read from the primary's consensus (writtenAt, recoveringAt), here a real one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transferLeadership } from '../../../src/pipeline/leadership-transfer.js';
import type { BourseNode } from '../../../src/pipeline/node.js';
import type { Consensus } from '../../../src/replication/consensus.js';
import { primaryOver, statusOf } from '../../harness/primary-consensus.js';

const lastIndex = 20;
const idle = { occupancy: () => 0 };
const node = { inputRing: idle, outputRing: idle } as unknown as BourseNode;

/**
 * Primary 1 of 3 over `lastIndex` entries, told the statuses `said` ([from, match, recovering]:
 * a recovering standby's durable stops at the commit, 0 here).
 */
function primaryAfter(said: [number, number, boolean][]): Consensus {
  const consensus = primaryOver(lastIndex, 1);
  for (const [from, match, recovering] of said) {
    const durable = recovering ? 0 : match;
    consensus.receive(statusOf(from, consensus.term, { match, durable, recovering }));
  }
  return consensus;
}

/** The line of `consensus`'s clean stop, which names no successor. */
async function stoppedBecause(consensus: Consensus): Promise<string> {
  const lines: string[] = [];
  await transferLeadership(node, consensus, (l) => lines.push(l));
  assert.equal(lines.length, 1);
  return lines[0];
}

test('a stop naming no successor says so when only a recovering standby holds it all', async () => {
  const recovering = await stoppedBecause(
    primaryAfter([
      [2, lastIndex, true], // caught up, not yet recovered
      [3, lastIndex - 5, false],
    ]),
  );
  assert.match(recovering, /^member 1: stopping as primary \(all it took in answered; /);
  assert.match(recovering, /only a recovering standby holds its whole journal/);
  const none = await stoppedBecause(
    primaryAfter([
      [2, lastIndex - 1, true],
      [3, lastIndex - 5, false],
    ]),
  );
  assert.match(none, /; no standby holds its whole journal\)$/);
  const deposed = primaryAfter([[2, lastIndex, true]]);
  deposed.receive(statusOf(3, deposed.term + 1, { match: 0, ok: false })); // a newer term
  assert.match(await stoppedBecause(deposed), /; no longer primary\)$/);
});

/**
 * Member 2's status naming entry 15, sent before the one naming 20, read after it (datagrams
 * overtake each other on a lossy link): it still holds the whole journal. Before, the stop read
 * a copy of each standby's last status read (primary-claim.ts) and said "no standby holds its
 * whole journal"; consensus keeps the most any status in order said.
 */
test('a stop reads what a recovering standby holds, not its last status read late', async () => {
  const late = await stoppedBecause(
    primaryAfter([
      [2, lastIndex, true],
      [2, lastIndex - 5, true], // sent before: read late
      [3, lastIndex - 5, false],
    ]),
  );
  assert.match(late, /only a recovering standby holds its whole journal/);
});
