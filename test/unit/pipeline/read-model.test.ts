/**
 * The read model serves queries a budget at a time, and the replica's loop runs between: served
 * as they came, back-to-back queries held the replica off the output ring until the ring
 * filled and the processor stopped answering commands (a soak audit: 30-40 s of nothing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadModel } from '../../../src/pipeline/read-model.js';
import type { Replica } from '../../../src/pipeline/replay.js';
import { readModelQueryBudgetMs } from '../../../src/constants.js';

test('queries are served a budget at a time, and the replica applies in between', async () => {
  // A replica whose client table makes each 'clients' query a few ms of work.
  const clients = 1_000_000;
  const replica = {
    sequence: 7,
    engine: {
      clients: {
        count: clients,
        ids: new Float64Array(clients),
        highWaterMark: new Float64Array(clients),
      },
    },
  } as unknown as Replica;
  const log: string[] = [];
  const reads = new ReadModel(replica, (message) => log.push(`answer ${message.type}`));
  const queries = 40;
  for (let id = 1; id <= queries; id++) reads.onMessage({ type: 'query', id, what: 'clients' });
  assert.equal(log.length, 0, 'none answered in the turn they came');
  let turns = 0;
  const started = performance.now();
  const answers = (): number => log.filter((line) => line.startsWith('answer')).length;
  while (answers() < queries && performance.now() - started < 20_000) {
    await new Promise((resolve) => setImmediate(resolve)); // the replica's loop yielding
    log.push('replica');
    turns++;
  }
  assert.equal(answers(), queries);
  // Between two of the replica's turns no more than a budget's worth of queries ran.
  let run = 0;
  let longest = 0;
  for (const line of log) {
    run = line === 'replica' ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  assert.ok(longest < queries, `the replica got turns among the queries (longest run ${longest})`);
  assert.ok(turns > 2, `turns: ${turns} (budget ${readModelQueryBudgetMs} ms)`);
  assert.equal(reads.queued, 0);
});
