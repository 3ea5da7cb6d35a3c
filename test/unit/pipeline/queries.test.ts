/**
 * GET /events?account=A reads the journal on the consensus thread: each page must be a bounded,
 * small piece of work. A page of an account with little activity looked at 100,000 events
 * (recomputing each batch's SHA-256): 36 ms at the median on a loaded 2-core machine, and
 * paging the journal that way stalled a primary's event loop for hundreds of ms, long enough
 * for its standbys to elect another (an operator's audit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeJournalDb, openJournalDb, sequenceKey } from '../../../src/journal/journal-db.js';
import { BatchEncoder, genesisHash, hashSizeBytes } from '../../../src/journal/journal-codec.js';
import { eventSizeBytes, httpAccountScanEventsMax } from '../../../src/constants.js';
import { journalQueries } from '../../../src/pipeline/queries.js';
import type { JournalProgress } from '../../../src/journal/journal-progress.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';

/** Events one account page may look at: about 1 ms of decoding here, a few on a busy machine. */
const scanBudgetEvents = 10_000;

test('an account page looks at a bounded number of events', async () => {
  assert.ok(httpAccountScanEventsMax <= scanBudgetEvents, 'the scan fits the budget');
  const dir = tempDataDir();
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    const encoder = new BatchEncoder(1000);
    let prev: Uint8Array = genesisHash;
    const batches = 30; // 30,000 events: none names account 8
    for (let b = 0; b < batches; b++) {
      const first = b * 1000 + 1;
      const events = new Uint8Array(1000 * eventSizeBytes);
      const dv = new DataView(events.buffer);
      for (let i = 0; i < 1000; i++) dv.setBigUint64(i * eventSizeBytes, BigInt(first + i), true);
      const hash = new Uint8Array(hashSizeBytes);
      const bytes = Buffer.from(encoder.encode(1, first, 0, events, prev, hash));
      await db.journal.put(sequenceKey(first), bytes);
      prev = hash;
    }
    const progress = { get: () => batches * 1000 } as unknown as JournalProgress;
    const queries = journalQueries(db, progress, { accepting: () => true } as never, null as never);
    let from = 1;
    let pages = 0;
    while (from <= batches * 1000) {
      const page = queries.eventsNaming(8, from, 1000);
      assert.deepEqual(page.events, []);
      // Whole batches of 1,000 events are read, but only the budget's events looked at.
      assert.ok(page.next - from <= httpAccountScanEventsMax, `looked at ${page.next - from}`);
      assert.ok(page.next > from, 'each page moves on');
      from = page.next;
      pages++;
    }
    assert.ok(pages >= (batches * 1000) / scanBudgetEvents, `${pages} pages`);
    closeJournalDb(db);
  } finally {
    removeDir(dir);
  }
});
