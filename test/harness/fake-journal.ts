/** A journal in memory for the gateway's catch-up readers (journal streams, account resumes). */
import { eventSizeBytes } from '../../src/constants.js';
import type { JournalChunks } from '../../src/gateway/journal-stream.js';

/** A journal of `length` events, one per sequence; each event's first word is its sequence. */
export function journalOf(length: number): JournalChunks & { read: number } {
  const journal = {
    read: 0,
    chunkFrom(from: number, eventsMax: number) {
      if (from > length) return null;
      const count = Math.min(eventsMax, length - from + 1);
      const events = new Uint8Array(count * eventSizeBytes);
      const words = new Uint32Array(events.buffer);
      for (let i = 0; i < count; i++) words[(i * eventSizeBytes) / 4] = from + i;
      journal.read += count;
      return { events, count, last: from + count - 1 };
    },
  };
  return journal;
}
