/**
 * A member whose disk fails while it stores its vote (a new term, a vote granted) or another
 * of its synchronous writes. Before, lmdb-js's error was thrown out of the transport's message
 * handler (or the election timer) uncaught: the process died with exit code 1 ("internal
 * error"), which `bourse cluster` leaves down for good, instead of going silent and exiting
 * 74 (disk failing), which it starts again until the disk is back. Seen with an LD_PRELOAD
 * shim failing fsync on a primary's disk: it exited 74, was started again, and died of the
 * first append of the new term.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StorageCode, StorageError } from '../../src/journal/journal-errors.js';
import type { JournalDb } from '../../src/journal/journal-db.js';
import { TestCluster } from '../harness/cluster-driver.js';
import { until } from '../harness/wait.js';

/** Makes every synchronous write to `db`'s meta table fail as lmdb-js fails it on EIO. */
function failMetaWrites(db: JournalDb): void {
  const eio = (): never => {
    throw Object.assign(new Error('Input/output error'), { code: 5 });
  };
  db.meta.transactionSync = eio;
  db.meta.putSync = eio;
}

test('a member whose disk fails its vote goes silent with DATA_IO, nothing thrown', () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    // A member booted after the first election recovers first, and votes for no one until then.
    const voting = (): boolean => cluster.nodes.every((n) => n !== null && !n.consensus.recovering);
    await until('every member votes', voting, 20_000);
    const victim = cluster.nodes.find((n) => n !== null && n !== primary);
    assert.ok(victim !== undefined && victim !== null);
    const seen: { failure: Error | null } = { failure: null };
    void victim.failed.then((error) => (seen.failure = error));
    failMetaWrites((victim as unknown as { store: { db: JournalDb } }).store.db);
    // A new term: the primary, cut off, steps down; the others stand, and store their votes.
    primary.partition();
    await until('the member fails', () => seen.failure !== null, 20_000);
    const failure = seen.failure;
    assert.ok(failure instanceof StorageError, String(failure));
    assert.equal(failure.code, StorageCode.DataIo);
    // Its first write in the new term: its vote, or the start of a member it hears for the first
    // time (a standby hears the other standby first when it stands: replay-window.ts).
    assert.match(failure.message, /cannot write (the vote|a member start)/);
    assert.ok(!victim.accepting, 'a member that cannot store its vote serves nothing');
    // Silent: it grants no vote, so the cluster goes on only once the old primary is back.
    primary.heal();
    const next = await cluster.primary(victim, 20_000);
    assert.notEqual(next, victim);
  }));
