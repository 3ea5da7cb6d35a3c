/** `bourse inspect`: prints journaled events in readable form, from a sequence on. */
import { closeJournalDb } from '../journal/journal-db.js';
import { batchKeyAtOrBefore, journalTail, readBatches } from '../journal/journal-reader.js';
import type { BatchView } from '../journal/journal-codec.js';
import { readEvent, formatEvent } from '../protocol/event-reader.js';
import { isoTimeUs } from '../protocol/time-us.js';
import { EventWord } from '../protocol/event-layout.js';
import { eventSizeBytes } from '../constants.js';
import { openJournal } from './open-data.js';

export interface InspectOptions {
  data: string;
  fromSeq: number;
  count: number;
}

export function inspect(options: InspectOptions): string[] {
  const { db } = openJournal(options.data);
  const lines: string[] = [];
  let printed = 0;
  try {
    const start = batchKeyAtOrBefore(db, options.fromSeq);
    readBatches(db, start, null, (view) => {
      const aligned = new Uint32Array(view.count * EventWord.size);
      new Uint8Array(aligned.buffer).set(view.events);
      let header: string[] | null = batchHeader(view);
      for (let i = 0; i < view.count && printed < options.count; i++) {
        const event = readEvent(aligned, i * (eventSizeBytes >> 2));
        if (event.sequence < options.fromSeq) continue;
        if (header !== null) lines.push(...header); // once, over the first event it prints
        header = null;
        lines.push('  ' + formatEvent(event));
        printed++;
      }
      return printed < options.count;
    });
    if (printed === 0) {
      const end = journalTail(db).sequence;
      lines.push(`no events from sequence ${options.fromSeq}: the journal ends at ${end}`);
    }
  } catch (error) {
    // A damaged batch (exit 65, its sequence named): the events before it are still shown.
    if (lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
    throw error;
  } finally {
    closeJournalDb(db);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return lines;
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
