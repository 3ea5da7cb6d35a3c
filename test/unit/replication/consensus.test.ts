/**
 * One consensus replica driven message by message, for rules the simulation
 * (test/simulation/cluster.test.ts) reaches only in rare seeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Consensus, type ConsensusIo } from '../../../src/replication/consensus.js';
import { genesisHashHex, membersMaskOf } from '../../../src/replication/hashes.js';
import { Role, type Entry, type Message, type Status } from '../../../src/replication/messages.js';
import {
  electionTimeoutTicksMin,
  heartbeatTicks,
  recoveryEntryTicks,
  termMax,
} from '../../../src/constants.js';

const members = [1, 2, 3];
const mask = membersMaskOf(members);

/** Entries start..start+n-1 of `term`, one event each, chained by made-up hashes. */
function entries(n: number, term: number, start = 1, prevHash = genesisHashHex): Entry[] {
  const out: Entry[] = [];
  for (let i = start; i < start + n; i++) {
    const hash = (term * 1000 + i).toString(16).padStart(64, 'a');
    out.push({ term, first: i, last: i, count: 1, prevHash, hash, payload: new Uint8Array(0) });
    prevHash = hash;
  }
  return out;
}

/**
 * A replica whose messages land in `sent`, and its log's cuts in `cuts` ([at, to, first, last]);
 * its disk takes everything and reports nothing.
 */
function replica(
  id: number,
  term = 1,
  recovering = false,
): {
  consensus: Consensus;
  sent: { to: number; m: Message }[];
  cuts: number[][];
  opened: number[];
} {
  const sent: { to: number; m: Message }[] = [];
  const cuts: number[][] = [];
  const opened: number[] = []; // the terms it was asked to write an entry of (openTerm)
  const io: ConsensusIo = {
    send: (to, m) => sent.push({ to, m }),
    write: () => {},
    stored: () => assert.fail('nothing is compacted here'),
    compacted: () => {},
    payload: () => new Uint8Array(0),
    verify: () => true,
    saveVote: () => {},
    committed: () => {},
    roleChanged: () => {},
    openTerm: (t) => opened.push(t),
    recovered: () => {},
    sealed: () => {},
    foreign: () => {},
    catchUpRoom: () => true,
    truncated: (at, to, first, last) => cuts.push([at, to, first, last]),
  };
  const options = { id, members, random: () => 0.5, recovering, term, votedFor: -1, life };
  return { consensus: new Consensus({ ...options, log: [] }, io), sent, cuts, opened };
}

/** Every replica's life here: appends name it (sent after a status of this life). */
const life = 7;

function append(from: number, term: number, prevIndex: number, prevHash: string, es: Entry[]) {
  const fields = { cluster: 0, members: mask, term, from, prevIndex, prevHash, commit: 0, life };
  return { kind: 'append' as const, ...fields, entries: es };
}

test('a standby that stood and lost claims to the winner only what the winner sent it', () => {
  const { consensus, sent } = replica(2);
  const log = entries(5, 1);
  consensus.receive(append(1, 1, 0, genesisHashHex, log)); // all 5 verified against member 1
  // Member 1 hands over to it (its clean stop): it stands in term 2 ...
  consensus.receive({ kind: 'timeout-now', cluster: 0, members: mask, term: 1, from: 1 });
  assert.equal(consensus.term, 2);
  // ... and loses to member 3, whose log ends at entry 3 (4 and 5 never reached it).
  sent.length = 0;
  consensus.receive(append(3, 2, 3, log[2].hash, []));
  assert.equal(consensus.primary, 3);
  const statuses = sent.filter((s) => s.to === 3 && s.m.kind === 'status');
  assert.ok(statuses.length > 0, 'it answers the new primary');
  for (const { m } of statuses) {
    // Before the fix: match 5, entries member 3 never had (counted toward its commits).
    assert.ok((m as Status).match <= 3, `match ${(m as Status).match} within member 3's log`);
  }
});

/** The tick at which `c` next asks for (pre-)votes, ticking it up to `limit` times. */
function nextRequestTick(c: Consensus, sent: { m: Message }[], limit: number): number {
  sent.length = 0;
  for (let t = 1; t <= limit; t++) {
    c.tick();
    if (sent.some((s) => s.m.kind === 'vote-request')) return t;
  }
  return -1;
}

test('two standbys that stood at once retry a split vote at different ticks', () => {
  // Member 1 followed member 3 and member 2 followed member 1 (each missed a change): by the
  // order that leaves out the suspected primary, both were first.
  const one = replica(1);
  const two = replica(2);
  one.consensus.receive(append(3, 1, 0, genesisHashHex, []));
  two.consensus.receive(append(1, 1, 0, genesisHashHex, []));
  for (const [r, primary] of [
    [one, 3],
    [two, 1],
  ] as const) {
    r.consensus.suspectPrimary();
    r.consensus.receive({ kind: 'timeout-now', cluster: 0, members: mask, term: 1, from: primary });
    assert.equal(r.consensus.term, 2, 'it stood');
  }
  // No votes reach them (a split vote): each asks again, member 1 first.
  const first = nextRequestTick(one.consensus, one.sent, 1_000);
  const second = nextRequestTick(two.consensus, two.sent, 1_000);
  assert.ok(first > 0 && second > 0, 'both ask again');
  assert.ok(second > first, `member 2 at tick ${second}, after member 1 at ${first}`);
});

function status(from: number, term: number, ok: boolean, match: number, nak: number): Status {
  const fields = { cluster: 0, members: mask, term, from, ok, match, durable: match, nak };
  return { kind: 'status', ...fields, recovering: false, life };
}

/** The first entry of each append `sent` to `to` (its prevIndex + 1), heartbeats left out. */
function appendsFrom(sent: { to: number; m: Message }[], to: number): number[] {
  const out: number[] = [];
  for (const s of sent) {
    if (s.to === to && s.m.kind === 'append' && s.m.entries.length > 0) {
      out.push(s.m.prevIndex + 1);
    }
  }
  return out;
}

test('a standby that lost its disk is sent its log from where it stands now', () => {
  const { consensus, sent } = replica(1);
  for (const e of entries(300, 1)) consensus.receive(append(2, 1, e.first - 1, e.prevHash, [e]));
  // Member 2 hands over to member 1, which member 3 elects in term 2.
  consensus.receive({ kind: 'timeout-now', cluster: 0, members: mask, term: 1, from: 2 });
  consensus.receive({
    kind: 'vote',
    cluster: 0,
    members: mask,
    term: 2,
    from: 3,
    granted: true,
    pre: false,
    to: 1,
    life,
  });
  assert.equal(consensus.primary, 1);
  consensus.receive(status(2, 2, true, 300, 0));
  assert.equal(consensus.durableAt(2), 300);
  // Member 2 comes back on an empty folder: its log ends at 0.
  sent.length = 0;
  consensus.receive(status(2, 2, false, 0, 0));
  // Before the fix: 300, entries it no longer holds, still counted toward commits.
  assert.equal(consensus.durableAt(2), 0, 'what it holds durably is what it says now');
  assert.deepEqual(appendsFrom(sent, 2), [1]);
  sent.length = 0;
  consensus.receive(status(2, 2, true, 64, 0));
  // Before the fix: nothing, or entry 301 (past the old match), which it NAKs again.
  assert.deepEqual(appendsFrom(sent, 2), [65], 'the next entries after what it holds now');
});

const vote = {
  kind: 'vote' as const,
  cluster: 0,
  members: mask,
  granted: true,
  pre: false,
  to: 1,
  life,
};

/**
 * A vote counts only for the candidate it names. A granted vote carried no name: sent again to
 * another candidate of the same term (a datagram replayed, MAC and all, on a network that lets
 * sources be forged), it counted there too, and two replicas could win one term.
 */
test('a vote for another candidate, or another life of it, counts for none; its own does', () => {
  const { consensus } = replica(1);
  for (const e of entries(10, 1)) consensus.receive(append(2, 1, e.first - 1, e.prevHash, [e]));
  consensus.receive({ kind: 'timeout-now', cluster: 0, members: mask, term: 1, from: 2 });
  assert.equal(consensus.role, Role.Candidate);
  consensus.receive({ ...vote, term: 2, from: 3, to: 2 }); // 3's vote for 2, replayed to 1
  assert.equal(consensus.role, Role.Candidate, 'not elected by a vote for another');
  assert.equal(consensus.stats.votesNotOurs, 1);
  // A vote for an earlier life of 1 (one that lost its disk), held by the network till now.
  consensus.receive({ ...vote, term: 2, from: 3, life: life + 1 });
  assert.equal(consensus.role, Role.Candidate, 'not elected by a vote for another life');
  assert.equal(consensus.stats.votesNotOurs, 2);
  consensus.receive({ ...vote, term: 2, from: 3 });
  assert.equal(consensus.role, Role.Primary);
});

test('a standby silent for an election timeout is sent heartbeats only, which probe it', () => {
  const { consensus, sent } = replica(1);
  const log = entries(300, 1);
  for (const e of log) consensus.receive(append(2, 1, e.first - 1, e.prevHash, [e]));
  consensus.receive({ kind: 'timeout-now', cluster: 0, members: mask, term: 1, from: 2 });
  consensus.receive({ ...vote, term: 2, from: 3 });
  for (const member of [2, 3]) consensus.receive(status(member, 2, true, 300, 0));
  // Member 3 stops answering; member 2 keeps up. One entry a tick for 300 ticks.
  const next = entries(300, 2, 301, log[299].hash);
  let late = 0; // entries sent to member 3 after it had been silent 100 ticks
  let heartbeats = 0;
  for (let t = 0; t < 300; t++) {
    sent.length = 0;
    consensus.propose(next[t]);
    consensus.tick();
    consensus.receive(status(2, 2, true, next[t].first, 0));
    if (t < 100) continue;
    for (const { to, m } of sent) {
      if (to !== 3 || m.kind !== 'append') continue;
      late += m.entries.length;
      heartbeats += m.entries.length === 0 ? 1 : 0;
    }
  }
  assert.equal(consensus.primary, 1, 'still primary (member 2 answers)');
  // Before: 1,376 (each new entry, and every 30 ticks all that was unacknowledged again).
  assert.equal(late, 0, 'no entries to a member silent for an election timeout');
  assert.ok(heartbeats >= 60, `${heartbeats} heartbeats in 200 ticks probe it`);
  // It answers (back, behind): entries go to it again at once.
  sent.length = 0;
  consensus.receive(status(3, 2, true, 300, 0));
  const resumed = sent.filter((x) => x.to === 3 && x.m.kind === 'append');
  assert.ok(resumed.some((x) => x.m.kind === 'append' && x.m.prevIndex === 300));
});

/**
 * A deposed primary's uncommitted tail, cut when the new primary's entries differ, is reported
 * (cluster-node.ts logs it at warn): before, only "following again" was logged, and an operator
 * could not tell that entries were dropped, nor which.
 */
test('a cut of the uncommitted tail is reported: entries and sequences', () => {
  const { consensus, cuts } = replica(2);
  const log = entries(5, 1);
  consensus.receive({ ...append(1, 1, 0, genesisHashHex, log), commit: 2 });
  assert.deepEqual(cuts, [], 'appending cuts nothing');
  consensus.receive(append(1, 1, 0, genesisHashHex, log.slice(0, 3))); // a duplicate
  assert.deepEqual(cuts, [], 'a duplicate cuts nothing');
  // Member 3, elected in term 2, holds entries 1-3 and one of its own at 4.
  const own = entries(1, 2, 4, log[2].hash);
  consensus.receive(append(3, 2, 3, log[2].hash, own));
  assert.deepEqual(cuts, [[3, 5, 4, 5]], 'entries 4-5, sequences 4-5, cut after entry 3');
  assert.equal(consensus.lastIndex, 4);
});

/**
 * A standby names its primary (in /health, and is ready for reads) only while it hears it:
 * cut off from it, it kept naming a dead primary for as long as its term lasted. A primary
 * slow for less than an election timeout (heartbeat jitter) is still named.
 */
test('a standby names its primary only while it hears it', () => {
  const { consensus } = replica(2);
  consensus.receive(append(1, 1, 0, genesisHashHex, entries(2, 1)));
  assert.equal(consensus.heardPrimaryId, 1);
  for (let t = 1; t < electionTimeoutTicksMin; t++) consensus.tick();
  assert.equal(consensus.heardPrimaryId, 1, 'silent for less than an election timeout');
  consensus.tick();
  assert.equal(consensus.primary, 1, 'still the primary of its term');
  assert.equal(consensus.heardPrimaryId, -1, 'silent for an election timeout: not named');
  consensus.receive(append(1, 1, 2, entries(2, 1)[1].hash, [])); // a heartbeat
  assert.equal(consensus.heardPrimaryId, 1, 'heard again');
  consensus.suspectPrimary(); // a probe found its port closed
  assert.equal(consensus.heardPrimaryId, -1, 'a probe says it is gone: not named');
});

// Terms had no bound: a replica stood in term + 1 whatever its term (past 2^53 - 1, not exact),
// or asked pre-votes the codec now refuses, never to stand. This test failed on that code.
test('a replica at termMax asserts rather than stand past it; one past it does not start', () => {
  const { consensus } = replica(2, termMax);
  consensus.receive(append(1, termMax, 0, genesisHashHex, []));
  assert.equal(consensus.primary, 1);
  const handOver = { kind: 'timeout-now' as const, cluster: 0, members: mask, from: 1 };
  assert.throws(() => consensus.receive({ ...handOver, term: termMax }), /within termMax/);
  const quiet = replica(3, termMax).consensus;
  assert.throws(() => {
    for (let t = 0; t <= electionTimeoutTicksMin * 4; t++) quiet.tick();
  }, /within termMax/);
  assert.throws(() => replica(1, termMax + 1), /within termMax/);
});

/**
 * Replica 1 as the primary of term 2 over `n` entries of term 1 (member 2's, which handed over),
 * member 3 holding them all; member 2 not heard in term 2 yet.
 */
function primaryOver(n: number) {
  const { consensus, sent, opened } = replica(1);
  const log = entries(n, 1);
  for (const e of log) consensus.receive(append(2, 1, e.first - 1, e.prevHash, [e]));
  consensus.receive({ kind: 'timeout-now', cluster: 0, members: mask, term: 1, from: 2 });
  consensus.receive({ ...vote, term: 2, from: 3 });
  assert.equal(consensus.role, Role.Primary);
  consensus.receive(status(3, 2, true, n, 0));
  return { consensus, sent, log, opened };
}

/**
 * A standby's first status in a new term can name less than the primary's log, and be ok: a
 * write that became durable after it entered the term (onDurable) sends one with match 0, as
 * does an append meant for another standby and replayed to it (simulation seed 10021616,
 * misdeliver mix). The peer was then known with its next still at the primary's log's end, so
 * what it sent went from there; the standby NAKed at its own end, and that NAK, below the
 * highest sent and soon after progress, was taken for entries in flight and ignored. Every
 * resendTicks the primary sent from its old next again: that standby never caught up.
 */
test("a standby's NAK below where the primary began sending is heeded (not in flight)", () => {
  const { consensus, sent, log } = primaryOver(100);
  consensus.receive(status(2, 2, true, 0, 0)); // ok, match 0
  const next = entries(5, 2, 101, log[99].hash);
  for (const e of next) consensus.propose(e); // sent to member 2 from 101
  sent.length = 0;
  consensus.receive(status(2, 2, false, 0, 50)); // its log ends at 50
  for (let t = 0; t < 100; t++) consensus.tick();
  const firsts = appendsFrom(sent, 2);
  // Before the fix: [101]: the NAK ignored, and the resend went from 101.
  assert.ok(firsts.length > 0, 'entries go to member 2');
  assert.ok(
    firsts.every((first) => first <= 51),
    `sent from ${firsts.join(', ')}`,
  );
});

/**
 * A standby's first status in a new primary's term can be an ok naming match 0: a write of the
 * last term made durable (a stalled disk) after it heard the new primary, before it verified
 * anything. Taken as the answer to the primary's probe, it made the heartbeats name entry 0,
 * which the standby always matched, and entries go only from the primary's log end, past the
 * standby's window: it never caught up (simulation seed 10019041, disks mix).
 */
test('an ok status below where the primary probes does not end the probe', () => {
  const { consensus, sent } = primaryOver(300);
  consensus.receive(status(2, 2, true, 0, 0)); // its durable write's status
  // Member 2 holds 290 entries of the 300: it answers heartbeats as a standby would.
  let firstSent = -1;
  for (let t = 0; t < 50 && firstSent < 0; t++) {
    sent.length = 0;
    consensus.tick();
    for (const { to, m } of sent) {
      if (to !== 2 || m.kind !== 'append') continue;
      if (m.entries.length > 0) firstSent = m.prevIndex + 1;
      else if (m.prevIndex <= 290) consensus.receive(status(2, 2, true, m.prevIndex, 0));
      else consensus.receive(status(2, 2, false, 0, 290));
    }
  }
  // Before the fix: -1, heartbeats naming entry 0 (matched) and no entries at all.
  assert.equal(firstSent, 291, 'entries go from where member 2 stands');
});

/** The statuses `sent` to member `to`. */
function statusesTo(sent: { to: number; m: Message }[], to: number): Status[] {
  return sent.flatMap((s) => (s.to === to && s.m.kind === 'status' ? [s.m] : []));
}

/**
 * A replica that lost its disk may follow a primary that was deposed without knowing it (one
 * that stood still through an election): its acknowledgements must not make that primary's
 * commits (soak seed 10000283, primary-pauses mix: two entries committed at one index).
 */
test('a recovering standby reports nothing durable past its commit, and says it recovers', () => {
  const { consensus, sent } = replica(2, 0, true);
  const log = entries(5, 1);
  consensus.receive({ ...append(1, 1, 0, genesisHashHex, log), commit: 2 });
  sent.length = 0;
  consensus.onDurable(5, log[4].hash);
  const [durable] = statusesTo(sent, 1);
  assert.equal(durable.match, 5);
  // Before the fix: durable 5, counted toward the primary's commit of entries 3 to 5.
  assert.equal(durable.durable, 2, 'no more than its commit');
  assert.equal(durable.recovering, true);
});

/**
 * A recovering replica votes again only at a commit of its primary's term made after it came:
 * past the first commit index that primary announced to it. Before, the first commit it held
 * of the primary's term was enough, and a stale primary's (made before the replica lost its
 * disk, with its acknowledgements) let it vote again at once (recovery-point.ts).
 */
test('a recovering standby votes again only at a commit past the first it was told of', () => {
  const { consensus, sent } = replica(2, 0, true);
  const log = entries(14, 2);
  consensus.receive({ ...append(3, 2, 0, genesisHashHex, log.slice(0, 12)), commit: 12 });
  consensus.onDurable(12, log[11].hash);
  // Before the fix: false, it held a commit of term 2, its primary's.
  assert.equal(consensus.recovering, true, 'commit 12 may predate it');
  consensus.receive({ ...append(3, 2, 12, log[11].hash, log.slice(12)), commit: 13 });
  assert.equal(consensus.recovering, true, 'commit 13 is not on its disk yet');
  consensus.onDurable(14, log[13].hash);
  assert.equal(consensus.recovering, false, 'commit 13 was made after it came');
  sent.length = 0;
  consensus.onDurable(14, log[13].hash);
  consensus.receive({ ...append(3, 2, 14, log[13].hash, []), commit: 13 });
  const [after] = statusesTo(sent, 3);
  assert.deepEqual([after.durable, after.recovering], [14, false], 'it counts again');
});

/**
 * A primary that stood still reads, once it runs again, what the replica acknowledged before it
 * lost its disk, and that can make a commit; its first heartbeat may go before. The line is
 * the commit of the first append that chains onto the replica's new log: sent after the
 * primary read its status from there, so after those acknowledgements on the same link.
 */
test('a recovering standby counts from the first append that chains onto its new log', () => {
  const { consensus } = replica(2, 0, true);
  const log = entries(16, 2);
  // Member 3, primary of term 2, resumes: a heartbeat at what member 2 matched before (12) ...
  consensus.receive({ ...append(3, 2, 12, log[11].hash, []), commit: 12 });
  // ... then member 2's acknowledgements from before its loss commit 14, and its NAK is
  // answered from entry 1.
  consensus.receive({ ...append(3, 2, 0, genesisHashHex, log.slice(0, 14)), commit: 14 });
  consensus.onDurable(14, log[13].hash);
  // Before: false, commit 14 was past 12, the first it heard.
  assert.equal(consensus.recovering, true, 'commit 14 may count its acknowledgements');
  consensus.receive({ ...append(3, 2, 14, log[13].hash, log.slice(14)), commit: 15 });
  consensus.onDurable(16, log[15].hash);
  assert.equal(consensus.recovering, false, 'commit 15, past 14');
});

/**
 * An empty log is chained onto by any append naming no entry (prevIndex 0), also one sent to an
 * earlier life that was empty too (as its cluster formed, or after an earlier loss) and held by
 * the network past this loss: its commit may predate commits made with this replica's
 * acknowledgements. Only an append naming this life was sent after a status of it.
 */
test('a recovering standby takes its line only from an append naming its life', () => {
  const { consensus } = replica(2, 0, true);
  const log = entries(16, 2);
  // Sent before member 3 heard any status of member 2 (life 0), then to an earlier life (5).
  consensus.receive({ ...append(3, 2, 0, genesisHashHex, log.slice(0, 2)), commit: 0, life: 0 });
  consensus.receive({ ...append(3, 2, 2, log[1].hash, log.slice(2, 4)), commit: 2, life: 5 });
  consensus.receive({ ...append(3, 2, 4, log[3].hash, log.slice(4, 14)), commit: 14 });
  consensus.onDurable(14, log[13].hash);
  // Before: false, commit 14 was past 0, the first that chained on.
  assert.equal(consensus.recovering, true, 'commit 14 may count its acknowledgements');
  consensus.receive({ ...append(3, 2, 14, log[13].hash, log.slice(14)), commit: 15 });
  consensus.onDurable(16, log[15].hash);
  assert.equal(consensus.recovering, false, 'commit 15, past 14');
});

/**
 * A primary names, in what it sends a recovering standby, the life of that one's last status,
 * once every other standby matched an entry written after it heard that life: each was in this
 * term after it came back (peer.ts othersPast). To the others, none (their appends stay alike:
 * one encoding serves them all).
 */
test('a primary names to a recovering standby the life of its last status', () => {
  const { consensus, sent } = replica(1);
  const log = entries(20, 1);
  for (const e of log) consensus.receive(append(2, 1, e.first - 1, e.prevHash, [e]));
  consensus.receive({ kind: 'timeout-now', cluster: 0, members: mask, term: 1, from: 2 });
  consensus.receive({ ...vote, term: 2, from: 3 });
  assert.equal(consensus.role, Role.Primary);
  const lives = (to: number): number[] => {
    const out = sent.filter((s) => s.to === to && s.m.kind === 'append');
    return out.map((s) => (s.m.kind === 'append' ? s.m.life : -1));
  };
  assert.deepEqual(new Set([...lives(2), ...lives(3)]), new Set([0]), 'none heard yet');
  sent.length = 0;
  // Each NAKs at 10; member 2 lost its disk.
  consensus.receive({ ...status(2, 2, false, 0, 10), durable: 0, recovering: true, life: 41 });
  consensus.receive({ ...status(3, 2, false, 0, 10), life: 42 });
  assert.ok(lives(2).length > 0 && lives(3).length > 0, 'each is sent entries');
  // Before: 41 at once, though member 3 may have moved on to a later term before member 2 came.
  assert.deepEqual(new Set(lives(2)), new Set([0]), 'member 2: not yet, 3 not seen since');
  assert.deepEqual(new Set(lives(3)), new Set([0]), 'member 3: none, it does not recover');
  consensus.receive({ ...status(3, 2, true, 20, 0), life: 42 }); // where the log stood: no proof
  const own = entries(1, 2, 21, log[19].hash);
  consensus.propose(own[0]);
  consensus.onDurable(21, own[0].hash);
  assert.deepEqual(new Set(lives(2)), new Set([0]), 'member 2: still none');
  sent.length = 0;
  consensus.receive({ ...status(3, 2, true, 21, 0), life: 42 }); // an entry written since
  for (let t = 0; t < heartbeatTicks; t++) consensus.tick();
  assert.ok(lives(2).length > 0, 'member 2 is sent a heartbeat');
  assert.deepEqual(new Set(lives(2)), new Set([41]), 'member 2: its own');
  assert.deepEqual(new Set(lives(3)), new Set([0]), 'member 3: none still');
});

test('a new primary starts the line again: its first announced commit', () => {
  const { consensus } = replica(2, 0, true);
  const log = entries(12, 2);
  consensus.receive({ ...append(3, 2, 0, genesisHashHex, log.slice(0, 10)), commit: 5 });
  consensus.onDurable(10, log[9].hash);
  // Member 1 is primary of term 3 (its commit: 10, of term 2's entries it holds)...
  consensus.receive({ ...append(1, 3, 10, log[9].hash, []), commit: 10 });
  assert.equal(consensus.recovering, true, 'a commit of term 2: not of its primary');
  const next = entries(2, 3, 11, log[9].hash);
  // ... whose commit 10, announced first, may predate the replica; 12 (of term 3) does not.
  consensus.receive({ ...append(1, 3, 10, log[9].hash, next), commit: 12 });
  consensus.onDurable(12, next[1].hash);
  assert.equal(consensus.recovering, false, 'commit 12, of term 3, past 10');
});

/**
 * An idle primary makes no commit for a recovering standby to recover at: it writes an entry
 * of its term (openTerm) when a standby says it is recovering and nothing is left to commit,
 * at most once per recoveryEntryTicks; and what that standby held before counts no more.
 */
test('a primary writes an entry for a recovering standby, once per interval, when idle', () => {
  const { consensus, log, opened } = primaryOver(10);
  assert.deepEqual(opened, [2], 'its term opened');
  opened.length = 0;
  const own = entries(1, 2, 11, log[9].hash);
  consensus.propose(own[0]);
  consensus.onDurable(11, own[0].hash);
  consensus.receive(status(3, 2, true, 11, 0));
  assert.equal(consensus.commit, 11, 'nothing left to commit');
  consensus.receive(status(2, 2, true, 11, 0));
  assert.equal(consensus.durableAt(2), 11);
  const recovering = { ...status(2, 2, true, 11, 0), durable: 0, recovering: true };
  consensus.receive(recovering);
  assert.equal(consensus.durableAt(2), 0, 'what it said before it lost its disk');
  assert.deepEqual(opened, [2], 'an entry of term 2 for it');
  for (let t = 0; t < recoveryEntryTicks - 1; t++) {
    consensus.tick();
    consensus.receive(status(3, 2, true, 11, 0));
    consensus.receive(recovering);
  }
  assert.deepEqual(opened, [2], 'one an interval, not one a status');
  consensus.tick();
  consensus.receive(recovering);
  assert.deepEqual(opened, [2, 2], 'the next interval');
  const more = entries(1, 2, 12, own[0].hash);
  consensus.propose(more[0]); // uncommitted: its commit will do
  for (let t = 0; t < recoveryEntryTicks; t++) consensus.tick();
  consensus.receive(status(3, 2, true, 11, 0));
  consensus.receive(recovering);
  assert.deepEqual(opened, [2, 2], 'none while an entry waits for its commit');
});

/**
 * A clean stop hands over to a standby that holds the whole log, never to a recovering one: it
 * ignores a timeout-now (it may not stand), and the primary waited transferVoteWaitMs, logged
 * it as named, and left the others to find it gone as after a crash, though member 3 could
 * have stood at once. A recovering standby's durable (its commit) equals the log's end once
 * the primary is idle, and it was heard last.
 */
test('a clean stop hands over to a standby that may stand, not a recovering one', () => {
  const { consensus, log } = primaryOver(10);
  const own = entries(1, 2, 11, log[9].hash);
  consensus.propose(own[0]);
  consensus.onDurable(11, own[0].hash);
  consensus.receive(status(3, 2, true, 11, 0));
  assert.equal(consensus.commit, 11);
  consensus.tick();
  consensus.receive({ ...status(2, 2, true, 11, 0), recovering: true });
  assert.equal(consensus.durableAt(2), 11, 'it holds the whole log');
  // Before the fix: 2, which ignores the timeout-now.
  assert.equal(consensus.transferLeadership(), 3);
  consensus.receive({ ...status(3, 2, true, 11, 0), recovering: true });
  assert.equal(consensus.transferLeadership(), -1, 'none that may stand holds it all');
  consensus.receive(status(2, 2, true, 11, 0)); // member 2 caught up: it votes again
  assert.equal(consensus.transferLeadership(), 2);
});

/**
 * What a standby acknowledged before it lost its disk can come after its first status from its
 * new log (a link that held the datagram past its restart). It was true when sent, and counted
 * it made a commit the wiped standby took for one made without it (simulation, cluster.test:
 * two entries committed at one index). Once the primary hears it recovering, a claim naming no
 * more than the primary's log then counts only up to the commit; past it, it counts again.
 */
test('an acknowledgement from before a lost disk, read after, counts only up to the commit', () => {
  const { consensus, log, opened } = primaryOver(10);
  opened.length = 0;
  const own = entries(2, 2, 11, log[9].hash);
  consensus.propose(own[0]);
  consensus.onDurable(11, own[0].hash);
  assert.equal(consensus.commit, 0, 'member 3 is cut off; member 2 has not answered');
  const wiped = { ...status(2, 2, false, 0, 0), recovering: true };
  consensus.receive(wiped); // member 2, from its new log
  consensus.receive(status(2, 2, true, 11, 0)); // ... then from before its loss
  // Before the fix: 11, counted with what member 2 no longer holds.
  assert.equal(consensus.commit, 0, 'it counts no more');
  assert.deepEqual(opened, [2], 'an entry past what it may have said before is written');
  consensus.propose(own[1]);
  consensus.onDurable(12, own[1].hash);
  consensus.receive(status(2, 2, true, 12, 0)); // recovered, it holds entry 12
  assert.equal(consensus.commit, 12, 'past the line it counts again');
});

/**
 * A primary names a recovering standby's life (which sets its recovery line, recovery-point.ts)
 * only once a majority without it was in the primary's term after the loss: an ok status of
 * another standby naming an entry written after the primary heard the loss. One naming less
 * may have been sent before the loss (true then, delivered late, by a member that has since
 * voted in a later term): a stale primary's commit made with it was taken for the line, the
 * wiped standby voted again, and two entries were committed at one index (simulation,
 * cluster.test: bench/soak/sim-stale.ts othersHeld).
 */
test('a recovering standby is named its life once another was in the term after its loss', () => {
  const { consensus, sent, log, opened } = primaryOver(10);
  const own = entries(2, 2, 11, log[9].hash);
  consensus.propose(own[0]);
  consensus.onDurable(11, own[0].hash);
  consensus.receive(status(3, 2, true, 11, 0));
  assert.equal(consensus.commit, 11);
  opened.length = 0;
  const lives = (): number[] => {
    const out = sent.filter((s) => s.to === 2 && s.m.kind === 'append');
    return out.map((s) => (s.m.kind === 'append' ? s.m.life : -1));
  };
  sent.length = 0;
  consensus.receive({ ...status(2, 2, false, 0, 0), durable: 0, recovering: true, life: 41 });
  assert.deepEqual(opened, [2], 'an entry past what the others may have said before');
  consensus.receive(status(3, 2, true, 11, 0)); // read now, maybe sent before the loss
  for (let t = 0; t < heartbeatTicks; t++) consensus.tick();
  assert.ok(lives().length > 0, 'member 2 is sent its log');
  // Before the fix: 41 at once, and its first append's commit, 11, was its line.
  assert.deepEqual(new Set(lives()), new Set([0]), 'not yet: member 3 may be in a later term');
  consensus.propose(own[1]); // the entry asked for (openTerm)
  consensus.onDurable(12, own[1].hash);
  consensus.receive(status(3, 2, true, 12, 0)); // it holds entry 12: in term 2 after the loss
  sent.length = 0;
  for (let t = 0; t < heartbeatTicks; t++) consensus.tick();
  assert.ok(lives().length > 0, 'a heartbeat');
  assert.deepEqual(new Set(lives()), new Set([41]), 'its own life, now');
});
