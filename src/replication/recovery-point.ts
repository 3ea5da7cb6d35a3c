/**
 * When a replica that lost its disk (`recovering`) may vote and stand again: once it holds,
 * durably, a commit its primary made in its own term after the replica came back. It forgot
 * its votes and what it acknowledged, so entries committed with its acknowledgement may now be
 * held by fewer than a majority; until it holds them it must not vote against them.
 *
 * Why that commit is enough. A recovering replica reports nothing durable past its own commit
 * (Consensus.sendStatus), so its acknowledgements never make a commit. A commit of term t past
 * the commit index t's primary announced in the first append naming its new life
 * was made after it came (a primary's commit only grows in its term), so without it. And every
 * other replica was in term t after it came: the primary names the life only once each matched
 * an entry it wrote after it heard that life (peer.ts othersPast; an acknowledgement alone says
 * where its sender was when it sent it, below). Terms only grow, so none of them was in a term
 * above t before it came, and no term above t had a primary, a commit, or another member's vote
 * then (the lost life's own, as a candidate, elects no one). Of another replica that lost its
 * disk too, only the new life was: its lost lives may have been in a later term, but what they
 * did there counted only with a member that kept its disk (at most f lose theirs), or for a lost
 * life (a vote counts for the candidate's life it names: test/simulation two-recovering.test.ts,
 * where a new life, standing again, counted the vote of another's lost life, and that one's new
 * life voted again: two primaries in one term). Every entry committed before it came is of a
 * term at most t, and so lies in t's primary's log below that commit (Raft's leader
 * completeness): holding it, the replica holds everything it may have helped commit.
 *
 * A commit of t's primary at or below that line proves nothing: it may have been made before the
 * replica came, with its own acknowledgements, by a primary that was deposed since without knowing
 * it. One stood still (SIGSTOP, a frozen VM) through an election; the others elected and committed
 * with the replica's acknowledgements; the replica lost its disk, followed the old primary when it
 * resumed, counted itself recovered at its commit, and its acknowledgements let that primary
 * commit other entries at the same indexes (simulation seeds 10000283 and 10009981,
 * bench:simulation's primary-pauses and storm mixes). Likewise the commit index a primary
 * announces before its term's first commit (just elected, or restarted) can be stale: it is only
 * the starting line.
 *
 * Why the first append that names this life, not the first heard: a primary that stood still
 * reads, once it runs again, the acknowledgements the replica sent before it lost its disk, and
 * they may make a commit (they were true then); its first heartbeat can go before it reads them
 * (a node's timers run before its socket is read). An append names the life (a number drawn at
 * each start, consensus-io.ts lifeOf) of the last status its primary heard from the replica,
 * so one naming this life was sent after the primary read a status of it, which said it is
 * recovering: from then the primary counts an acknowledgement from before the loss only up to
 * its commit (peer.ts credited), and the commit it announces counts every one it read before.
 * So every commit past the line is made without the replica. (Chaining onto the new log was
 * the sign before: but an empty log is chained onto by any append naming no entry, also one
 * sent to an earlier life that was empty too, as the cluster formed or after an earlier loss,
 * and held by the network past this loss. Its commit was the line, too low: test/simulation
 * cluster.test.ts 'an append held from an earlier empty life sets no recovery line'.)
 * A primary built before lives names none (0): under it, a wiped replica follows and stores
 * but votes again only once a primary of this build has served it.
 *
 * Why every other replica, not a majority that acknowledged: an acknowledgement sent in t by a
 * replica that then moved on to t + 1 (and helped commit there), read late, could make the
 * commit past the line, and the replica then lacked what t + 1 committed (test/simulation
 * cluster.test.ts, "another replica's acknowledgement"); with five members, a term above t in
 * which the lost life voted (its candidate short of a majority then) could complete its
 * election later, and the new life, voting afresh in it, elect a second primary ("a lost
 * life's vote"). A member down, a recovering one waits for it.
 *
 * An idle cluster makes no new commit: the primary writes an entry of its term when a
 * standby says it is recovering and nothing is left to commit (Consensus.onStatus).
 */
export class RecoveryPoint {
  /** The commit index of this term's first append naming this life (-1: none yet). */
  private after = -1;
  /** The commit to hold durably, once one past `after` of the primary's term is seen. */
  private target = -1;

  /** A new term: a new primary, whose announcements count from its first. */
  reset(): void {
    this.after = -1;
    this.target = -1;
  }

  /** The replica's primary of this term announced `commit` in an append naming this life. */
  announced(commit: number): void {
    if (this.after < 0) this.after = commit;
  }

  /** Whether `commit` (the replica's) is past the first announced, and no point is fixed yet. */
  candidate(commit: number): boolean {
    return this.after >= 0 && this.target < 0 && commit > this.after;
  }

  /** `commit`, a candidate of the primary's own term, is the point: the durable index chases it. */
  fix(commit: number): void {
    this.target = commit;
  }

  /** Whether the replica, holding `durable` entries on disk, may vote again. */
  reached(durable: number): boolean {
    return this.target >= 0 && durable >= this.target;
  }
}
