/**
 * Scripted episodes of replicas that lost their disks while others did too (bench/soak
 * sim-cluster.ts, deterministic): five members with two lost at once (f of them), a replica
 * lost again while it recovers, a primary change during a recovery, three members with the
 * primary stopped while one recovers. Each checks what the simulation checks throughout (one
 * entry committed at each index, one primary a term) and, once healed, that every replica holds
 * every acknowledged command and that their states agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noFaults, Replica, Rng, SimCluster } from '../../bench/soak/sim-cluster.js';
import { resendTicks } from '../../bench/soak/sim-scenario.js';
import { Role } from '../../src/replication/messages.js';

const slow = 10_000; // clients resend only after this many ticks: one entry a command

/**
 * Five members, two of them lost at once: `c` stood in term t + 1 (a handover from `q`, primary
 * of t) and `r` voted for it, its vote held by the network; both lost their disks, came back
 * empty and recovered under `q`, still primary of t (every other member, the other recovering
 * one among them, matched an entry `q` wrote after it heard each). Then `c`'s new life stands
 * in t + 1 again, and the old life's vote, read now, counted for it (with `x`'s); `r`'s new
 * life, which remembers no vote in t + 1, voted for `y` (with `q`'s): "two primaries in term
 * t + 1". `q`'s recovery rule cannot see it (each new life was in t after the other came, while
 * their lost lives had been in t + 1): a vote now names the candidate's life it answers
 * (messages.ts Vote.life), and counts for no other. (The handovers only start elections, as
 * timeouts would: standing is always safe.)
 */
test('consensus: two lost lives, a candidate and its voter, elect no two primaries', () => {
  const sim = new SimCluster(new Rng(47), 5, noFaults, 1_000_000);
  const q = serve(sim, 10);
  const term = q.consensus.term;
  const [c, r, x, y] = sim.replicas.filter((m) => m !== q);
  let asked = r; // the one c's vote requests reach
  sim.hold = (from, to, m) => {
    if (from === r.id && to === c.id && m.kind === 'vote' && !m.pre && asked === r) return true;
    return m.kind === 'vote-request' && !m.pre && from === c.id && to !== asked.id;
  };
  heardLast(sim, q, c);
  assert.equal(q.consensus.transferLeadership(), c.id, 'q hands over to c');
  sim.step(slow); // c stands
  // Nothing more of c's or r's in t + 1 reaches q, x or y (r's vote is held).
  for (const m of [c, r]) for (const o of [q, x, y]) sim.cut.add(`${m.id}>${o.id}`);
  for (let t = 0; t < 3; t++) sim.step(slow);
  assert.equal(c.consensus.role, Role.Candidate, 'c stands in t + 1');
  assert.equal(r.consensus.votedFor, c.id, "r's vote in t + 1, held");
  asked = x;
  sim.crash(c, true);
  sim.crash(r, true);
  for (let t = 0; t < 20; t++) sim.step(slow);
  sim.cut.clear();
  sim.restart(c);
  sim.restart(r);
  for (let t = 0; t < 2_000 && (c.consensus.recovering || r.consensus.recovering); t++) {
    sim.step(slow);
  }
  assert.equal(q.consensus.role, Role.Primary, 'q is still primary of t');
  assert.equal(q.consensus.term, term);
  // Both recovered under q: before, c stood in t + 1 again and counted r's old vote.
  recoveredBoth(sim, q, c, r, x, y);
  heal(sim);
});

/** The second half: `c` stands in t + 1 with x and r's old vote; `y` with q and r's new life. */
function recoveredBoth(
  sim: SimCluster,
  q: Replica,
  c: Replica,
  r: Replica,
  x: Replica,
  y: Replica,
) {
  const term = q.consensus.term;
  assert.equal(c.consensus.recovering, false, 'c recovered under q');
  assert.equal(r.consensus.recovering, false, 'r recovered under q');
  heardLast(sim, q, c);
  assert.equal(q.consensus.transferLeadership(), c.id, 'q hands over to c again');
  sim.step(slow); // c stands
  assert.equal(c.consensus.term, term + 1);
  assert.ok(sim.release(r.id, c.id) > 0, "r's old vote, read by c's new life");
  for (const m of [q, y, r]) sim.cut.add(`${c.id}>${m.id}`);
  sim.cut.add(`${x.id}>${q.id}`);
  for (let t = 0; t < 3; t++) sim.step(slow);
  heardLast(sim, q, y);
  assert.equal(q.consensus.transferLeadership(), y.id, 'then to y: q, r, y elect it');
  for (let t = 0; t < 5; t++) sim.step(slow); // before: "two primaries in term t + 1"
  assert.equal(y.consensus.role, Role.Primary, 'y is primary of t + 1');
  assert.equal(y.consensus.term, term + 1);
  assert.notEqual(c.consensus.role, Role.Primary, "c's new life counted no vote for its old");
  assert.ok(c.consensus.stats.votesNotOurs > 0);
}

/** Cuts every other standby's statuses to `q` for a few heartbeats: `to` is heard last. */
function heardLast(sim: SimCluster, q: Replica, to: Replica): void {
  const others = sim.replicas.filter((m) => m !== q && m !== to);
  for (const m of others) sim.cut.add(`${m.id}>${q.id}`);
  for (let t = 0; t < 10; t++) sim.step(slow);
  for (const m of others) sim.cut.delete(`${m.id}>${q.id}`);
}

/** Heals every link and hold; every replica holds every acknowledged command, states agree. */
function heal(sim: SimCluster): void {
  sim.hold = null;
  sim.cut.clear();
  const marker = sim.submit(9);
  for (let t = 0; t < 3_000 && !sim.acked.has(`${marker.client}:${marker.seq}`); t++) {
    sim.step(resendTicks);
  }
  assert.ok(sim.acked.has(`${marker.client}:${marker.seq}`), 'the cluster serves again');
  for (let t = 0; t < 500; t++) sim.step(resendTicks);
  for (const r of sim.replicas) for (const key of sim.acked) assert.ok(r.seen.has(key), key);
  const commit = sim.replicas[0].consensus.commit;
  for (const r of sim.replicas) {
    assert.equal(r.consensus.commit, commit, `${r.id}: the same commit`);
    assert.equal(r.checksum, sim.replicas[0].checksum, `${r.id}: the same state`);
    assert.equal(r.consensus.recovering, false, `${r.id} votes again`);
  }
}

/** Runs `sim` until a primary has acknowledged `count` commands, and every replica knows. */
function serve(sim: SimCluster, count: number): Replica {
  for (let t = 0; t < 2_000 && sim.primary() === undefined; t++) sim.step(resendTicks);
  for (let i = 0; i < count; i++) sim.submit(1);
  for (let t = 0; t < 2_000 && sim.waiting.size > 0; t++) sim.step(resendTicks);
  assert.equal(sim.waiting.size, 0, 'every command acknowledged');
  for (let t = 0; t < 100; t++) sim.step(resendTicks);
  return sim.primary()!;
}

/**
 * Five members: `x` is committed by `q` with `c` and `r` alone, and both lose their disks (f of
 * them) and come back; `q` stops before they hold anything again. `a` and `b` lack `x`: with
 * the votes of the new lives (empty), they would elect one of them and cut `x`. No primary until
 * `q` is back; then only `q` can win, and both recover under it.
 */
test('consensus: five members, an entry held by the primary and two lost lives alone', () => {
  const sim = new SimCluster(new Rng(55), 5, noFaults, 1_000_000);
  const q = serve(sim, 10);
  const [c, r, a, b] = sim.replicas.filter((m) => m !== q);
  const x = committedBy(sim, q, [c, r], [a, b]);
  wipedEmpty(sim, q, c, r);
  stop(sim, q);
  for (let t = 0; t < 3_000; t++) sim.step(slow);
  assert.equal(sim.primary(), undefined, 'a and b elect no one: c and r may not vote');
  sim.restart(q);
  for (let t = 0; t < 2_000 && (c.consensus.recovering || r.consensus.recovering); t++) {
    sim.step(slow);
  }
  assert.equal(sim.primary(), q, 'q, which holds x, won');
  heal(sim);
  for (const m of sim.replicas) assert.ok(m.seen.has(`${x.client}:${x.seq}`), `${m.id}: x`);
});

/**
 * Five members: `x` is committed by `q`, `a` and `w` alone; `w` loses its disk, comes back, and
 * loses it again while it recovers (before it holds anything again); then `q` stops. `b` and
 * `c` lack `x`, and `a` stands still for a while: with the vote of `w`'s new life (empty), they
 * would elect one of them and cut `x`. Without, only `a` can win; and `w` recovers under it
 * once `q` is back (every other member matched an entry `a` wrote after it heard `w`), not
 * before.
 */
test('consensus: a replica lost twice while it recovers, then a new primary, keeps history', () => {
  const sim = new SimCluster(new Rng(49), 5, noFaults, 1_000_000);
  const q = serve(sim, 10);
  const term = q.consensus.term;
  const [w, a, b, c] = sim.replicas.filter((m) => m !== q);
  const x = committedBy(sim, q, [a, w], [b, c]);
  wipedEmpty(sim, q, w);
  wipedEmpty(sim, q, w); // lost again while it recovers
  stop(sim, q);
  sim.pause(a, 400); // a stands still: b, c and w's life would elect b
  for (let t = 0; t < 390; t++) sim.step(slow);
  assert.equal(sim.primary(), undefined, 'b and c elect no one: w may not vote');
  for (let t = 0; t < 2_000 && sim.primary() === undefined; t++) sim.step(slow);
  assert.equal(sim.primary(), a, 'only a, which holds x, wins a later term (w may not vote)');
  assert.ok(a.consensus.term > term);
  for (let t = 0; t < 500; t++) sim.step(slow);
  assert.equal(w.consensus.recovering, true, 'w waits for q, which a has not seen since');
  sim.restart(q);
  for (let t = 0; t < 2_000 && w.consensus.recovering; t++) sim.step(slow);
  assert.equal(w.consensus.recovering, false, 'q back: w recovers under a');
  heal(sim);
  for (const r of sim.replicas) assert.ok(r.seen.has(`${x.client}:${x.seq}`), `${r.id}: x`);
});

/**
 * Five members: `q` names `w`'s first life after a loss (every other member matched an entry
 * written after it heard that life), and what it sends that life is held; `w` is lost again,
 * and then `q` cannot name the second (`b`'s statuses are cut). The appends naming the first
 * life, read by the second, set no recovery line: it stays recovering, though `q` commits.
 */
test('consensus: appends naming a lost life set no line for the next one', () => {
  const sim = new SimCluster(new Rng(53), 5, noFaults, 1_000_000);
  const q = serve(sim, 10);
  const [w, , b] = sim.replicas.filter((m) => m !== q);
  sim.crash(w, true);
  for (let t = 0; t < 20; t++) sim.step(slow);
  sim.restart(w);
  const first = w.consensus.life;
  let named = 0;
  sim.hold = (from, _, m) =>
    from === q.id && m.kind === 'append' && m.life === first && ++named > 0;
  for (let t = 0; t < 300 && named < 5; t++) sim.step(slow);
  assert.ok(named >= 5, "q names w's first life");
  sim.crash(w, true);
  for (let t = 0; t < 20; t++) sim.step(slow);
  sim.cut.add(`${b.id}>${q.id}`);
  sim.restart(w);
  assert.equal(sim.release(q.id, w.id), named, "appends naming w's first life reach its second");
  sim.hold = null;
  const commit = q.consensus.commit;
  for (let i = 0; i < 5; i++) sim.submit(3);
  for (let t = 0; t < 500; t++) sim.step(slow);
  assert.ok(q.consensus.commit > commit, 'q commits (with the others but b)');
  assert.equal(w.consensus.durableIndex, q.consensus.lastIndex, "w holds q's log");
  assert.equal(w.consensus.recovering, true, 'and is recovering: q never named its life');
  heal(sim);
});

/**
 * Three members: `x` is committed by `q` and `w` alone, `w` loses its disk and comes back, and
 * `q` stops while `w` recovers (before it holds anything). `p` lacks `x`; with the vote of `w`
 * (empty) it would win and cut `x`. `w` may not vote: no primary until `q` is back, and then
 * only `q` can win (p's log is shorter); `w` recovers under it.
 */
test('consensus: three members, the primary stopped while a wiped one recovers', () => {
  const sim = new SimCluster(new Rng(51), 3, noFaults, 1_000_000);
  const q = serve(sim, 10);
  const [p, w] = sim.replicas.filter((m) => m !== q);
  const x = committedBy(sim, q, [w], [p]);
  wipedEmpty(sim, q, w);
  stop(sim, q);
  for (let t = 0; t < 3_000; t++) sim.step(slow);
  assert.equal(sim.primary(), undefined, 'p alone elects no one: w may not vote');
  assert.equal(w.consensus.recovering, true);
  sim.restart(q);
  for (let t = 0; t < 2_000 && w.consensus.recovering; t++) sim.step(slow);
  assert.equal(sim.primary(), q, 'q, which holds x, won');
  assert.equal(w.consensus.recovering, false, 'w recovered under q');
  heal(sim);
  for (const r of sim.replicas) assert.ok(r.seen.has(`${x.client}:${x.seq}`), `${r.id}: x`);
});

/** `w` (each) loses its disk and comes back; it hears `q` (entries to it are held), holds none. */
function wipedEmpty(sim: SimCluster, q: Replica, ...w: Replica[]): void {
  for (const r of w) sim.crash(r, true);
  for (let t = 0; t < 20; t++) sim.step(slow);
  const ids = new Set(w.map((r) => r.id));
  sim.hold = (from, to, m) =>
    from === q.id && ids.has(to) && m.kind === 'append' && m.entries.length > 0;
  for (const r of w) sim.restart(r);
  for (let t = 0; t < 20; t++) sim.step(slow);
  for (const r of w) {
    assert.equal(q.consensus.recoveringAt(r.id), true, `q heard ${r.id} recovering`);
    assert.equal(r.consensus.durableIndex, 0, `${r.id} holds nothing yet`);
  }
}

/** `q` stops; every link heals, and nothing is held any more. */
function stop(sim: SimCluster, q: Replica): void {
  sim.crash(q, false);
  sim.hold = null;
  sim.cut.clear();
}

/** `q` commits a command `x` with `holders` alone (`others` cut off): acknowledged, returned. */
function committedBy(sim: SimCluster, q: Replica, holders: Replica[], others: Replica[]) {
  for (const o of others) sim.cut.add(`${q.id}>${o.id}`);
  const x = sim.submit(2);
  for (let t = 0; t < 500 && !sim.acked.has(`${x.client}:${x.seq}`); t++) sim.step(slow);
  assert.ok(sim.acked.has(`${x.client}:${x.seq}`), 'x acknowledged');
  for (let t = 0; t < 20; t++) sim.step(slow); // its holders learn the commit
  for (const h of holders) assert.ok(h.seen.has(`${x.client}:${x.seq}`), `${h.id} holds x`);
  // They stay cut off from q.
  for (const o of others) assert.equal(o.seen.has(`${x.client}:${x.seq}`), false, `${o.id}: no x`);
  return x;
}
