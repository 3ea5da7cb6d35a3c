/** `bourse inspect`: prints journaled events in readable form, from a sequence on. */
import { once } from 'node:events';
import { closeJournalDb, sequenceKey } from '../journal/journal-db.js';
import {
  batchKeyAtOrBefore,
  journalTail,
  lastSequenceOf,
  readBatches,
} from '../journal/journal-reader.js';
import type { BatchView } from '../journal/journal-codec.js';
import { readEvent, formatEvent } from '../protocol/event-reader.js';
import { isoTimeUs } from '../protocol/time-us.js';
import { EventWord } from '../protocol/event-layout.js';
import { eventSizeBytes } from '../constants.js';
import { standbyLogPast } from '../pipeline/group-commit.js';
import { openJournal, standbyLogLine } from './open-data.js';

export interface InspectOptions {
  data: string;
  fromSeq: number;
  count: number;
}

/**
 * Prints the events, each batch's lines as soon as it is read, and waits for stdout to drain
 * when it is full: its memory is a batch's lines and stdout's buffer, whatever --count asks.
 * It gathered every line and joined them: a journal of 4.5M events held 2 GB, printed nothing
 * and died of "Invalid string length" (exit 70). (Writing without waiting does not help: the
 * writes made while one is under way queue in the stream, and their writev failed, ENOBUFS.)
 * Returns how many events it printed.
 */
export async function inspect(options: InspectOptions): Promise<number> {
  const { db } = openJournal(options.data);
  const at: Position = {
    key: batchKeyAtOrBefore(db, options.fromSeq),
    prevHash: null,
    printed: 0,
    full: false,
  };
  try {
    // First, over the events: a member's log may hold entries they lack, replace some, or be
    // damaged (then the events are shown all the same, as LMDB holds them).
    const log = standbyLogLine('inspect', options.data, standbyLogPast(options.data, db));
    if (log !== '') process.stdout.write(log); // none else: one write per batch, no more
    for (let more = true; more;) {
      at.full = false;
      readBatches(db, at.key, at.prevHash, (view) => printBatch(view, options, at));
      more = at.full && at.printed < options.count;
      if (more) await once(process.stdout, 'drain');
    }
    if (at.printed === 0) {
      const end = journalTail(db).sequence;
      process.stdout.write(
        `no events from sequence ${options.fromSeq}: the journal ends at ${end}\n`,
      );
    }
  } finally {
    closeJournalDb(db);
  }
  return at.printed;
}

/** Where a printing walk stands: the next batch's key and the hash it must link to. */
interface Position {
  key: Buffer;
  prevHash: Uint8Array | null;
  printed: number;
  /** stdout asked the walk to wait (write returned false). */
  full: boolean;
}

/**
 * Prints a batch's events from --from-seq, up to --count in all; whether to read on. A damaged
 * batch later stops the walk (exit 65, its sequence named): the events before it are out.
 */
function printBatch(view: BatchView, options: InspectOptions, at: Position): boolean {
  const lines: string[] = [];
  const aligned = new Uint32Array(view.count * EventWord.size);
  new Uint8Array(aligned.buffer).set(view.events);
  for (let i = 0; i < view.count && at.printed < options.count; i++) {
    const event = readEvent(aligned, i * (eventSizeBytes >> 2));
    if (event.sequence < options.fromSeq) continue;
    if (lines.length === 0) lines.push(...batchHeader(view)); // over its first event shown
    lines.push('  ' + formatEvent(event));
    at.printed++;
  }
  at.key = sequenceKey(lastSequenceOf(view) + 1);
  at.prevHash = Uint8Array.from(view.hash);
  if (lines.length > 0) at.full = !process.stdout.write(lines.join('\n') + '\n');
  return at.printed < options.count && !at.full;
}

/**
 * A batch's lines: its time (to the µs, as replay --to-time takes it) and both hashes in full,
 * so an auditor can check the chain by hand (16 digits and '…' could not be compared).
 */
function batchHeader(view: BatchView): string[] {
  const plural = view.count === 1 ? '' : 's';
  const time = isoTimeUs(view.timestamp);
  return [
    `batch ${view.firstSequence} at ${time}: ${view.count} event${plural}, term ${view.term}`,
    `  prev ${Buffer.from(view.prevHash).toString('hex')}`,
    `  hash ${Buffer.from(view.hash).toString('hex')}`,
  ];
}
