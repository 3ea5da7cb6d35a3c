/**
 * A rolling upgrade across dfd8391 (a vote request names the candidate's life and a vote echoes
 * it; a vote naming another life counts for none). Both builds speak replication version 9:
 * a member built before sends requests and votes that decode with life 0, and never looks at a
 * vote's life. So a candidate of this build counts only this build's votes (and pre-votes),
 * while one built before counts everyone's. What that costs is availability, never safety: a
 * vote not counted is a vote the network lost, and no rule of who may grant one changed.
 *
 * The simulation runs one build; a member "built before" is modelled by what the others read
 * of its messages (life 0) and what it reads of theirs (a vote's life: its own, as it ignores
 * it). The sim throws on two primaries in one term.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { electionTimeoutTicksMax, electionTimeoutTicksMin } from '../../src/constants.js';
import { Role, type Message } from '../../src/replication/messages.js';
import { noFaults, Rng, SimCluster, type Replica } from '../../bench/soak/sim-cluster.js';
import { resendTicks } from '../../bench/soak/sim-scenario.js';

/** The members of `before` run the build before lives in votes (see above). */
function builtBefore(sim: SimCluster, before: readonly Replica[]): void {
  const ids = new Set(before.map((m) => m.id));
  sim.translate = (from: number, to: number, message: Message): Message => {
    if (message.kind !== 'vote' && message.kind !== 'vote-request') return message;
    let read = message;
    if (ids.has(from)) read = { ...read, life: 0 };
    if (ids.has(to) && read.kind === 'vote') {
      read = { ...read, life: sim.replicas[to - 1].consensus.life };
    }
    return read;
  };
}

/** Steps until a primary (up) of a term above `term`; returns it and the ticks it took. */
function electedAbove(sim: SimCluster, term: number, limit: number): [Replica | undefined, number] {
  for (let t = 1; t <= limit; t++) {
    sim.step(resendTicks);
    const p = sim.primary();
    if (p !== undefined && p.consensus.term > term) return [p, t];
  }
  return [undefined, limit];
}

/** A cluster of `size` with a primary, its term's entry on every member. */
function settled(seed: number, size: number): [SimCluster, Replica] {
  const sim = new SimCluster(new Rng(seed), size, noFaults);
  const [p] = electedAbove(sim, 0, 500);
  assert.ok(p !== undefined, 'a primary is elected');
  for (let t = 0; t < 100; t++) sim.step(resendTicks);
  assert.equal(sim.primary(), p, 'the same primary');
  return [sim, p];
}

/** The primary stops for its upgrade, and hands over to `to` first (its timeout-now). */
function handOverAndStop(sim: SimCluster, p: Replica, to: Replica): number {
  const { clusterId: cluster, membersMask: members, term } = p.consensus;
  to.consensus.receive({ kind: 'timeout-now', cluster, members, term, from: p.id });
  sim.crash(p, false);
  return term;
}

test('rolling upgrade: a handover to this build while it is a minority costs one election', () => {
  for (const mixed of [false, true]) {
    const [sim, p] = settled(41, 5);
    const [n1, n2] = sim.replicas.filter((m) => m !== p); // upgraded first
    if (mixed)
      builtBefore(
        sim,
        sim.replicas.filter((m) => m !== n1 && m !== n2),
      );
    const term = handOverAndStop(sim, p, n1);
    const [q, ticks] = electedAbove(sim, term, 20 * electionTimeoutTicksMax);
    assert.ok(q !== undefined, `mixed ${mixed}: a primary after the handover`);
    assert.equal(n1.consensus.stats.elections >= 1, true, 'the successor stood');
    if (!mixed) {
      assert.equal(q, n1, 'one build: the successor wins');
      assert.equal(q.consensus.term, term + 1);
      assert.ok(ticks < electionTimeoutTicksMin, `one build: elected in ${ticks} ticks`);
      continue;
    }
    // The successor stood in term + 1 and the others granted it, but it counted only n2's
    // vote: no one won term + 1. The others' timers ran out (their votes reset them), and one
    // built before won a later term with everyone's votes.
    assert.ok(q !== n1 && q !== n2, 'a member built before wins');
    assert.ok(q.consensus.term >= term + 2, 'in a later term');
    assert.ok(ticks >= electionTimeoutTicksMin, `an election timeout lost (${ticks} ticks)`);
    assert.ok(ticks <= 3 * electionTimeoutTicksMax, `within about one (${ticks} ticks)`);
    for (const m of [n1, n2]) assert.equal(m.consensus.role, Role.Standby, 'n1, n2 follow it');
  }
});

test('rolling upgrade: three members, the new one alone holding an entry: none elected', () => {
  for (const mixed of [false, true]) {
    const [sim, p] = settled(43, 3);
    const [a, b] = sim.replicas.filter((m) => m !== p); // a is upgraded, b not yet
    if (mixed) builtBefore(sim, [p, b]);
    sim.cut.add(`${p.id}>${b.id}`); // b falls behind: an entry only p and a hold
    sim.submit(1);
    for (let t = 0; t < 50; t++) sim.step(resendTicks);
    assert.equal(sim.waiting.size, 0, 'committed with a');
    assert.ok(a.consensus.lastIndex > b.consensus.lastIndex, 'b lacks it');
    sim.cut.clear();
    sim.crash(p, false); // the primary fails (or stops without a handover)
    const [q] = electedAbove(sim, p.consensus.term, 20 * electionTimeoutTicksMax);
    if (!mixed) {
      assert.equal(q, a, 'one build: a wins with b vote');
      continue;
    }
    // b may not stand (a's log is longer: a refuses its pre-votes), and a counts b's pre-vote
    // for none: neither raises the term while p is away.
    const term = p.consensus.term;
    assert.equal(q, undefined, 'mixed: no primary while p is away');
    for (const m of [a, b]) assert.equal(m.consensus.term, term, 'no one stood');
    sim.restart(p); // p comes back (its upgrade done: it votes as this build)
    builtBefore(sim, [b]);
    const [r] = electedAbove(sim, 0, 20 * electionTimeoutTicksMax);
    assert.ok(r === a || r === p, 'a or p wins once p is back');
    for (let t = 0; t < 200; t++) sim.step(resendTicks);
    assert.equal(b.consensus.commit, a.consensus.commit, 'b catches up');
  }
});
