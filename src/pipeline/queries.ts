/**
 * Reads for the gateway's HTTP endpoints, on the main thread: journaled events by sequence or
 * by time (straight from LMDB).
 */
import { readU64At } from '../stdx/records.js';
import { eventSizeBytes, httpAccountScanEventsMax } from '../constants.js';
import { readEvent, type EventRecord } from '../protocol/event-reader.js';
import { EventWord, namesAccount } from '../protocol/event-layout.js';
import type { BatchView } from '../journal/journal-codec.js';
import type { JournalDb } from '../journal/journal-db.js';
import {
  batchAtTime,
  batchKeyAtOrBefore,
  readBatches,
  safeSequence,
} from '../journal/journal-reader.js';
import { JournalProgress, ProgressSlot } from '../journal/journal-progress.js';
import type { JournalQueries } from '../gateway/http.js';
import type { NodeRole } from '../gateway/gateway.js';

/*
 * These reads recompute each batch's SHA-256 (readBatches' default): what GET /events and a
 * journal subscription hand out is what downstream systems take for the record, and a byte
 * that rots on the disk after the batch was stored must be refused there, not passed on. It
 * costs (15-19% of a node paging GET /events, in a profile), but the stalls that got a primary
 * deposed came from the account pages' scan of 100,000 events (now httpAccountScanEventsMax,
 * 10,000), not from hashing: a 1,000-event page took as long without it.
 */

/**
 * Hands `visit` each event, decoded, of the batches from `start` to `last` (whole batches: they
 * end at command boundaries), until it returns false.
 */
function eachEvent(
  db: JournalDb,
  start: Buffer,
  last: number,
  visit: (e: EventRecord) => boolean,
): void {
  db.root.resetReadTxn();
  readBatches(db, start, null, (view: BatchView) => {
    if (view.firstSequence > last) return false;
    const aligned = new Uint32Array(view.count * EventWord.size);
    new Uint8Array(aligned.buffer).set(view.events);
    for (let i = 0; i < view.count; i++) {
      if (!visit(readEvent(aligned, i * (eventSizeBytes >> 2)))) return false;
    }
    return true;
  });
}

/**
 * The events of whole commands (the events of one command share its sequence) from the batches
 * from `start` to `last` that pass `keep`: at most `count`, unless the first command alone has
 * more, which comes whole. A page cut inside a command (an order and its trades) lost the rest
 * of it to a reader paging from the last sequence + 1.
 */
function collect(
  db: JournalDb,
  start: Buffer,
  count: number,
  last: number,
  keep: (e: EventRecord) => boolean,
): EventRecord[] {
  const out: EventRecord[] = [];
  let commandAt = 0; // where the last command's events start in `out`
  eachEvent(db, start, last, (event) => {
    if (!keep(event)) return true;
    if (out.length === 0 || event.sequence !== out[out.length - 1].sequence) {
      if (out.length >= count) return false;
      commandAt = out.length;
    }
    out.push(event);
    return true;
  });
  if (out.length > count && commandAt > 0) out.length = commandAt;
  return out;
}

/**
 * The events that name `account` (as `account` or `counterparty`) from sequence `from` on: at
 * most `count` (whole commands), looking at most at httpAccountScanEventsMax events; `next` is
 * the sequence to go on from (past everything looked at).
 */
function eventsNaming(
  db: JournalDb,
  account: number,
  from: number,
  count: number,
  last: number,
): { events: EventRecord[]; next: number } {
  const out: EventRecord[] = [];
  let scanned = 0;
  let next = from;
  eachEvent(db, batchKeyAtOrBefore(db, from), last, (event) => {
    if (event.sequence < from) return true;
    if (event.sequence >= next) {
      // A new command: stop here, whole commands only, once the page or the scan is full.
      if (out.length >= count || scanned >= httpAccountScanEventsMax) return false;
      next = event.sequence + 1;
    }
    scanned++;
    if (namesAccount(event.kind, event.account, event.counterparty, account)) out.push(event);
    return true;
  });
  return { events: out, next };
}

/** Raw events of whole batches from sequence `from` on (about `eventsMax`), or null. */
function chunkFrom(
  db: JournalDb,
  from: number,
  eventsMax: number,
  visible: number,
): { events: Uint8Array; count: number; last: number } | null {
  const parts: Uint8Array[] = [];
  let count = 0;
  let last = -1;
  db.root.resetReadTxn();
  readBatches(db, batchKeyAtOrBefore(db, from), null, (view: BatchView) => {
    if (view.firstSequence > visible) return false; // batches end at command boundaries
    const dv = new DataView(view.events.buffer, view.events.byteOffset, view.events.byteLength);
    let skip = 0; // the first batch may start before `from`
    while (skip < view.count && readSeq(dv, skip) < from) skip++;
    if (skip < view.count) {
      // A copy (Buffer's slice() would be a view): the view is the reader's, reused.
      parts.push(Uint8Array.prototype.slice.call(view.events, skip * eventSizeBytes));
      count += view.count - skip;
      last = readSeq(dv, view.count - 1);
    }
    return count < eventsMax;
  });
  if (count === 0) return null;
  return { events: Buffer.concat(parts), count, last };
}

function readSeq(dv: DataView, index: number): number {
  const at = index * eventSizeBytes;
  return readU64At(dv, at);
}

/**
 * The gateway's reads of the journal, and `metrics`: what GET /metrics answers (node-metrics.ts).
 */
export function journalQueries(
  db: JournalDb,
  progress: JournalProgress,
  role: NodeRole,
  metrics: JournalQueries['metrics'],
  stalled: JournalQueries['stalled'] = () => null,
  dataFreeBytes: () => number = () => -1,
): JournalQueries {
  // A cluster member shows only what a majority holds: its journal may hold a tail that is not
  // committed yet (a standby's follow limit, or a primary's batches still waiting for acks).
  // With the journal log (journal-log.ts), LMDB holds a durable batch only once it took it.
  const visible = (): number =>
    Math.min(
      progress.get(ProgressSlot.sequenceDurable),
      progress.get(ProgressSlot.sequenceCommitted),
      role.committed?.() ?? Infinity,
    );
  return {
    eventsFrom: (sequence, count) =>
      collect(db, batchKeyAtOrBefore(db, sequence), count, visible(), (e) => {
        return e.sequence >= sequence;
      }),
    eventsNaming: (account, sequence, count) =>
      eventsNaming(db, account, sequence, count, visible()),
    eventsFromTime: (us, count) => {
      // The batch holding the entry's sequence: an old member's folder can keep an entry
      // where no batch starts now (verify --repair-time-index), and reading from that key on
      // skipped the batch that holds it. The events before `us` are left out below.
      const start = batchKeyAtOrBefore(db, Math.max(batchAtTime(db, us), 0));
      return collect(db, start, count, visible(), (e) => e.timestamp >= us);
    },
    chunkFrom: (from, eventsMax) => chunkFrom(db, from, eventsMax, visible()),
    firstSequence: () => {
      // A journal is kept whole (no batch is ever deleted); an empty one starts at 1.
      for (const key of db.journal.getKeys({ limit: 1 })) return Math.max(1, safeSequence(key));
      return 1;
    },
    durableSequence: () => progress.get(ProgressSlot.sequenceDurable),
    visibleSequence: visible,
    commandsProcessed: () => progress.get(ProgressSlot.commandsProcessed),
    eventsDurable: () => progress.get(ProgressSlot.eventsWritten),
    metrics,
    stalled,
    dataFreeBytes,
  };
}
