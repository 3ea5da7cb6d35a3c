/**
 * The dashboard's members table, from the role's description and, on a primary, each
 * standby's replication lag (src/pipeline/cluster-metrics.ts: replicationLags).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { membersOf } from '../../../src/gateway/dashboard/members.js';

const primaryLags = new Map([
  [2, 0],
  [3, 1234],
]);
const none = new Map<number, number>();
const selfHeard = { state: 'up', heardMsAgo: null } as const;
const unheard = { state: 'unknown', heardMsAgo: null } as const;

test('a single node is one member, the primary, with no lag', () => {
  assert.deepEqual(membersOf({ role: 'primary' }, none), [
    { id: null, role: 'primary', self: true, lagEvents: 0, ...selfHeard },
  ]);
});

test("a cluster's primary lists each standby with its replication lag", () => {
  assert.deepEqual(membersOf({ role: 'primary', member: 1, term: 4, primary: 1 }, primaryLags), [
    { id: 1, role: 'primary', self: true, lagEvents: 0, ...selfHeard },
    { id: 2, role: 'standby', self: false, lagEvents: 0, ...unheard },
    { id: 3, role: 'standby', self: false, lagEvents: 1234, ...unheard },
  ]);
});

test('a standby knows its primary but not its own lag', () => {
  const describe = { role: 'standby', member: 2, term: 4, primary: 1 };
  assert.deepEqual(membersOf(describe, none), [
    { id: 2, role: 'standby', self: true, lagEvents: null, ...selfHeard },
    { id: 1, role: 'primary', self: false, lagEvents: 0, ...unheard },
  ]);
  const leaderless = { role: 'candidate', member: 2, term: 5, primary: -1 };
  assert.deepEqual(membersOf(leaderless, none), [
    { id: 2, role: 'candidate', self: true, lagEvents: null, ...selfHeard },
  ]);
});

test("a standby lists the cluster's other members, whose lag only the primary knows", () => {
  const describe = { role: 'standby', member: 2, term: 4, primary: 1, members: [1, 2, 3] };
  assert.deepEqual(membersOf(describe, none), [
    { id: 2, role: 'standby', self: true, lagEvents: null, ...selfHeard },
    { id: 1, role: 'primary', self: false, lagEvents: 0, ...unheard },
    { id: 3, role: 'standby', self: false, lagEvents: null, ...unheard },
  ]);
  const leaderless = { role: 'candidate', member: 2, term: 5, primary: -1, members: [1, 2, 3] };
  assert.deepEqual(
    membersOf(leaderless, none).map((m) => [m.id, m.role]),
    [
      [2, 'candidate'],
      [1, 'member'],
      [3, 'member'],
    ],
  );
  const primary = { role: 'primary', member: 1, primary: 1, members: [1, 2, 3] };
  assert.equal(membersOf(primary, primaryLags).length, 3, 'the lags name the same members');
});

// /health's peers (members-heard.ts) were not on the page: a stopped standby looked alive.
test("each member's state and when it was last heard come from /health's peers", () => {
  const peers = [
    { member: 2, state: 'up', heardMsAgo: 40, lagEvents: 0, recovering: false },
    { member: 3, state: 'down', heardMsAgo: 4_100, lagEvents: 1234, recovering: false },
  ];
  const describe = { role: 'primary', member: 1, primary: 1, members: [1, 2, 3], peers };
  assert.deepEqual(membersOf(describe, primaryLags), [
    { id: 1, role: 'primary', self: true, lagEvents: 0, ...selfHeard },
    { id: 2, role: 'standby', self: false, lagEvents: 0, state: 'up', heardMsAgo: 40 },
    { id: 3, role: 'standby', self: false, lagEvents: 1234, state: 'down', heardMsAgo: 4_100 },
  ]);
  // A standby the primary's peers say is recovering (lost its disk) is named so (before:
  // 'standby', like one that may vote).
  peers[1] = { ...peers[1], recovering: true };
  assert.equal(membersOf(describe, primaryLags)[2].role, 'recovering');
  assert.equal(membersOf(describe, primaryLags)[1].role, 'standby');
  const garbled = { role: 'standby', member: 2, primary: 1, peers: [null, { member: 1 }, 7] };
  assert.deepEqual(membersOf(garbled, none)[1], {
    id: 1,
    role: 'primary',
    self: false,
    lagEvents: 0,
    ...unheard,
  });
});
