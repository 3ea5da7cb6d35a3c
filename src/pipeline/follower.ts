/**
 * Follow mode: the workers of a hot standby. The cluster member journals what the primary
 * sends; the snapshotter applies it from LMDB with the engine's `apply`, up to the commit limit
 * the member sets, so that the state is in memory when the primary dies. The processor waits:
 * on promotion the snapshotter hands it the state (handover.ts).
 *
 *   member (main thread)            progress words              workers
 *   stores batches, learns commit ─► followLimit ── bump ──► snapshotter: apply ≤ limit, reads
 *                                                            processor: waits
 *   wins an election ──────────────► followLimit = journal end,
 *                                    promotedTerm = term ──► snapshotter: apply to the end,
 *                                                              hand the state to the processor;
 *                                                            processor: take over from it;
 *                                                            journal writer: starts at the end
 *
 * Only committed batches are applied before promotion: an uncommitted tail may still be cut by
 * a new primary, and applied state cannot be taken back. A new primary keeps its whole log
 * (Raft), so on promotion the workers apply everything the journal holds.
 */
import { followStepBatches, followWaitMs } from '../constants.js';
import { assert } from '../stdx/assert.js';
import type { JournalDb } from '../journal/journal-db.js';
import { journalBatchEndingAt } from '../journal/journal-reader.js';
import { ProgressSlot, type JournalProgress } from '../journal/journal-progress.js';
import type { Replica } from './replay.js';

/**
 * Applies the journal up to the follow limit as it moves. Resolves true once promoted (the
 * replica then stands at the journal's end) or false once `stopped()` says so. `afterStep` runs
 * after each step and after each wait that saw nothing new.
 */
export async function followJournal(
  replica: Replica,
  db: JournalDb,
  progress: JournalProgress,
  stopped: () => boolean,
  afterStep: () => void = () => {},
): Promise<boolean> {
  // Atomics.waitAsync does not keep a worker's event loop alive: without this timer a worker
  // with nothing else to do would exit while it waits.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    return await follow(replica, db, progress, stopped, afterStep);
  } finally {
    clearInterval(keepAlive);
  }
}

async function follow(
  replica: Replica,
  db: JournalDb,
  progress: JournalProgress,
  stopped: () => boolean,
  afterStep: () => void,
): Promise<boolean> {
  for (;;) {
    const seen = progress.version();
    const limit = progress.get(ProgressSlot.followLimit);
    if (replica.sequence < limit) {
      const applied = replica.follow(db, followStepBatches, false, limit);
      afterStep();
      if (applied > 0) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
    } else if (progress.get(ProgressSlot.promotedTerm) > 0) {
      assert(replica.sequence === limit, 'follower: promoted at the journal end');
      return true;
    }
    if (stopped()) return false;
    await progress.waitChangeAsync(seen, followWaitMs);
    if (progress.version() === seen) afterStep(); // idle: a turn for background work
  }
}

/**
 * Start-up of a follower: the newest snapshot at or before `notAfter` (a sequence known to be
 * committed) whose batch is still the journal's. Nothing after it is applied until the member
 * sets the follow limit.
 */
export function loadFollowerSnapshot(replica: Replica, db: JournalDb, notAfter: number): void {
  replica.loadNewestSnapshot(db, notAfter, (header) => {
    const batch = journalBatchEndingAt(db, header.sequence);
    return batch !== null && Buffer.from(batch.hash).toString('hex') === header.batchHash;
  });
  db.root.resetReadTxn();
}

/**
 * Blocks (worker threads only) until promoted (true) or `stopped()` (false, seen within
 * followWaitMs). It waits on the promotion word: follow steps do not wake it.
 */
export function awaitPromotion(progress: JournalProgress, stopped: () => boolean): boolean {
  for (;;) {
    const seen = progress.promotionVersion();
    if (progress.get(ProgressSlot.promotedTerm) > 0) return true;
    if (stopped()) return false;
    progress.waitPromotion(seen, followWaitMs);
  }
}
