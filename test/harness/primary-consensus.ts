/**
 * A consensus replica made primary, alone (its io does nothing), for tests of what reads a
 * primary's view of its standbys through Consensus (writtenAt, recoveringAt, durableAt): the
 * same view its statuses build in a running member, with no second copy kept for the test.
 */
import assert from 'node:assert/strict';
import { Consensus, type ConsensusIo } from '../../src/replication/consensus.js';
import { genesisHashHex, membersMaskOf } from '../../src/replication/hashes.js';
import type { EntryMeta, Status } from '../../src/replication/messages.js';

const members = [1, 2, 3];
const mask = membersMaskOf(members);
const none = (): void => {};

/** Every replica's life here: the statuses say it. */
const life = 7;

/**
 * Member 1 of [1, 2, 3] as the primary of term 2 over `n` entries of term 1, each of
 * `perEntry` sequences (entry i ends at sequence i * perEntry): member 2 was their primary and
 * handed over (timeout-now), member 3 voted. No standby is heard in term 2 yet, nothing is
 * committed, and its openTerm entry is never written (its io does nothing).
 */
export function primaryOver(n: number, perEntry: number): Consensus {
  const log: EntryMeta[] = [];
  let prevHash = genesisHashHex;
  for (let i = 1; i <= n; i++) {
    const hash = i.toString(16).padStart(64, 'e');
    log.push({
      term: 1,
      first: (i - 1) * perEntry + 1,
      last: i * perEntry,
      count: perEntry,
      prevHash,
      hash,
    });
    prevHash = hash;
  }
  const io: ConsensusIo = {
    send: none,
    write: none,
    stored: () => assert.fail('nothing is compacted here'),
    compacted: none,
    payload: () => new Uint8Array(0),
    verify: () => true,
    saveVote: none,
    committed: none,
    roleChanged: none,
    openTerm: none,
    recovered: none,
    sealed: none,
    foreign: none,
    catchUpRoom: () => true,
    truncated: none,
  };
  const options = { id: 1, members, random: () => 0.5, recovering: false, life };
  const c = new Consensus({ ...options, term: 1, votedFor: -1, log }, io);
  handOver(c, 2, prevHash);
  return c;
}

/** `c`, a standby over entries ending with `lastHash`, is handed over to by member `from`. */
function handOver(c: Consensus, from: number, lastHash: string): void {
  const term = c.term;
  const fields = { cluster: 0, members: mask, term, from, commit: 0, life: 0 };
  const at = { prevIndex: c.lastIndex, prevHash: lastHash, entries: [] };
  c.receive({ kind: 'append', ...fields, ...at }); // a heartbeat: member `from` is its primary
  c.receive({ kind: 'timeout-now', cluster: 0, members: mask, term, from });
  const vote = { cluster: 0, members: mask, term: term + 1, granted: true, pre: false, life };
  c.receive({ kind: 'vote', ...vote, from: from === 2 ? 3 : 2, to: 1 });
  assert.equal(c.term, term + 1);
  assert.equal(c.primary, 1, 'member 1 was elected');
}

/**
 * Member 1, primary of `c.term`, deposed by a status of the next term, then handed over to
 * by member 2 and elected again in the term after (what it knew of its standbys is of the
 * term before). Returns that term.
 */
export function reelected(c: Consensus): number {
  c.receive(statusOf(2, c.term + 1, { match: 0, ok: false }));
  assert.equal(c.primary, -1, 'deposed');
  handOver(c, 2, c.hashAt(c.lastIndex));
  return c.term;
}

/**
 * A status from standby `from` in `term`: ok, written up to `match`, durable up to `durable`
 * (default: `match`), not recovering, unless `said` says otherwise.
 */
export function statusOf(
  from: number,
  term: number,
  said: { match: number; durable?: number; ok?: boolean; recovering?: boolean; nak?: number },
): Status {
  const { match, durable = match, ok = true, recovering = false, nak = 0 } = said;
  const fields = { cluster: 0, members: mask, term, from, ok, match, durable, nak, recovering };
  return { kind: 'status', ...fields, life };
}
