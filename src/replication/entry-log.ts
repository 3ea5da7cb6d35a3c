/**
 * The log consensus replicates, as metadata only (term, sequences, hashes: the batches' bytes
 * stay in the journal). Entries after `base` are in memory; older ones were compacted (Raft §7)
 * and are read back from storage, which only a standby far behind or a restart needs.
 *
 *   storage (log-index + journal)   memory
 *   1 … base                        base+1 … lastIndex
 *
 * Only committed entries durable here are ever compacted; consensus decides when.
 */
import { assert } from '../stdx/assert.js';
import { genesisHashHex } from './hashes.js';
import { lastSequenceOf, type Entry, type EntryMeta } from './messages.js';

export class EntryLog {
  private readonly entries: EntryMeta[];
  private compactedTo: number;

  constructor(
    entries: readonly EntryMeta[],
    base: number,
    /** A compacted entry, from storage. */
    private readonly stored: (index: number) => EntryMeta,
  ) {
    this.entries = [...entries];
    this.compactedTo = base;
  }

  /** The last compacted index (0: none). */
  get base(): number {
    return this.compactedTo;
  }

  get lastIndex(): number {
    return this.compactedTo + this.entries.length;
  }

  /** Entries held in memory: those after the base. */
  get inMemory(): number {
    return this.entries.length;
  }

  /** The entry at `index` (1-based, in the log), from memory or from storage. */
  at(index: number): EntryMeta {
    return index > this.compactedTo
      ? this.entries[index - this.compactedTo - 1]
      : this.stored(index);
  }

  hashAt(index: number): string {
    return index === 0 ? genesisHashHex : this.at(index).hash;
  }

  /** The term of the last entry (0 for an empty log): what votes compare first. */
  lastTerm(): number {
    return this.lastIndex === 0 ? 0 : this.at(this.lastIndex).term;
  }

  lastSequence(): number {
    return this.lastIndex === 0 ? 0 : lastSequenceOf(this.at(this.lastIndex));
  }

  append(entry: Entry): void {
    this.entries.push(metaOf(entry));
  }

  /** Cuts the log back to its first `index` entries (never into the compacted ones). */
  truncate(index: number): void {
    assert(index >= this.compactedTo, 'entry log: a cut after the base');
    this.entries.length = index - this.compactedTo;
  }

  /** Drops entries up to `upTo` from memory; returns them, oldest first. */
  compact(upTo: number): EntryMeta[] {
    assert(
      upTo > this.compactedTo && upTo <= this.lastIndex,
      'entry log: compaction within the log',
    );
    const gone = this.entries.splice(0, upTo - this.compactedTo);
    this.compactedTo = upTo;
    return gone;
  }

  /**
   * The last index whose sequences end within `events` of the end of entry `after` (at least
   * `after + 1`, so that one entry larger than the bound still goes): about that many events
   * (a command's events share a sequence). Binary search: sequences grow with the index.
   */
  lastWithin(after: number, events: number): number {
    const last = this.lastIndex;
    if (after >= last) return last;
    const base = after === 0 ? 0 : lastSequenceOf(this.at(after));
    let lo = after + 1;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (lastSequenceOf(this.at(mid)) - base <= events) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** Only the metadata, so that the log does not hold every batch's bytes. */
function metaOf(e: Entry): EntryMeta {
  const { term, first, last, count, prevHash, hash } = e;
  return { term, first, last, count, prevHash, hash };
}
