/**
 * Every load bench says what a result waited for (its `mode`): one node's disk, or a majority
 * of a cluster's. bench:e2e and bench:pipeline said nothing, and bench:remote could not tell a
 * single node from a cluster; it asks the node's GET /health now.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../../src/cli/ports.js';
import {
  healthUrl,
  modeOfHealth,
  modeOfMembers,
  modeTitle,
  quorumMode,
  singleNodeMode,
} from '../../../bench/lib/modes.js';

test('the mode of a /health body: a cluster member names its members, a single node not', () => {
  const member = { status: 'ok', role: 'standby', member: 2, members: [1, 2, 3] };
  assert.equal(modeOfHealth(member), 'quorum: durable on 2 of 3 members before each result');
  assert.equal(modeOfHealth({ members: [1, 2, 3, 4, 5] }), quorumMode(5));
  assert.match(quorumMode(5), /^quorum: durable on 3 of 5 members/);
  for (const single of [{ status: 'ok', role: 'primary', durableSequence: 9 }, null, []]) {
    assert.equal(modeOfHealth(single), singleNodeMode);
  }
  assert.equal(modeTitle(quorumMode(3)), 'quorum');
  assert.equal(modeTitle(singleNodeMode), 'single node, no replication');
  assert.equal(modeTitle('unknown (GET /health: …)'), 'mode unknown');
});

test('a member address gives its /health address', () => {
  assert.equal(healthUrl('ws://127.0.0.1:9001/'), 'http://127.0.0.1:9001/health');
  assert.equal(healthUrl('wss://bourse-1:9001/x?y=1'), 'https://bourse-1:9001/health');
  assert.equal(healthUrl('http://127.0.0.1:9001/'), null);
  assert.equal(healthUrl('nonsense'), null);
});

test('modeOfMembers asks each member in turn, and says why when none answers', async () => {
  const closed = `ws://127.0.0.1:${await freePort('tcp')}/`;
  const server = createServer((req, res) => {
    assert.equal(req.url, '/health');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ status: 'ok', role: 'primary', members: [1, 2, 3] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const open = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    assert.deepEqual(await modeOfMembers([closed, open]), { mode: quorumMode(3) });
    assert.deepEqual(await modeOfMembers([closed]), { unreachable: `${closed}: ECONNREFUSED` });
  } finally {
    server.close();
  }
});
