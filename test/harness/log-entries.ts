/**
 * Journal batches as a standby receives them (replication Entries), for tests of the standby
 * log: their events hold only their sequences (no tool or engine reads them from the log).
 */
import assert from 'node:assert/strict';
import { BatchEncoder, decodeBatch, hashSizeBytes } from '../../src/journal/journal-codec.js';
import { eventSizeBytes } from '../../src/constants.js';
import { entryMetaOf } from '../../src/replication/replica-store.js';
import type { Entry } from '../../src/replication/messages.js';

/** `n` batches of two events each from `first`, of `term`, chained onto `prev` (hex). */
export function entryChain(first: number, n: number, term: number, prev: string): Entry[] {
  const out: Entry[] = [];
  let prevHash = Buffer.from(prev, 'hex');
  for (let k = 0; k < n; k++) {
    const s = first + 2 * k;
    const events = new Uint8Array(2 * eventSizeBytes);
    const dv = new DataView(events.buffer);
    [s, s + 1].forEach((q, i) => dv.setBigUint64(i * eventSizeBytes, BigInt(q), true));
    const hash = new Uint8Array(hashSizeBytes);
    const bytes = new BatchEncoder(2).encode(term, s, 1_000 + s, events, prevHash, hash);
    const payload = Uint8Array.prototype.slice.call(bytes);
    const view = decodeBatch(payload, true);
    assert.notEqual(typeof view, 'string');
    out.push({ ...entryMetaOf(view as Exclude<typeof view, string>), payload });
    prevHash = Buffer.from(hash);
  }
  return out;
}
