/**
 * Maps memory in before a snapshot copies it, a few pages per turn of the snapshotter's loop.
 *
 * The kernel maps a page of a fresh allocation at its first access. On this VM that costs
 * 12-27 µs a page, and the copy of a first snapshot (186 MB with the default capacities) spent
 * a second in faults while the snapshotter consumed nothing: the output ring filled and held the
 * whole pipeline. Touched ahead, in steps between batches of events, the copy itself is a
 * memcpy (13 ms for 186 MB); each page faults once in the node's life.
 *
 *   source  replica array  [ used ........ | zeros ]   read a byte per page (maps a page never
 *                                                     written to the shared zero page)
 *   target  copy buffer    [ used ........ |       ]   written a byte per page
 */

/** The kernel's page size (x86-64 and arm64 Linux's default; with larger pages, more is done). */
const pageSizeBytes = 4096;

export interface TouchRange {
  bytes: Uint8Array;
  /** Bytes from the start of `bytes` to touch. */
  length: number;
  /**
   * Write (a buffer whose pages are about to be written: each keeps its value) or only read
   * (the source).
   */
  write: boolean;
}

export class PageToucher {
  private readonly ranges: readonly TouchRange[];
  private range = 0;
  private at = 0;
  /** Keeps the reads from being optimised away. */
  sink = 0;

  constructor(ranges: readonly TouchRange[]) {
    this.ranges = ranges;
  }

  /** Touches up to `pages` more pages; false once every range is done. */
  touch(pages: number): boolean {
    let left = pages;
    while (left > 0 && this.range < this.ranges.length) {
      const { bytes, length, write } = this.ranges[this.range];
      const end = Math.min(length, this.at + left * pageSizeBytes);
      for (let at = this.at; at < end; at += pageSizeBytes) {
        if (write)
          bytes[at] = bytes[at]; // the same value: safe while another thread reads
        else this.sink ^= bytes[at];
        left--;
      }
      this.at = end;
      if (end >= length) {
        this.range++;
        this.at = 0;
      }
    }
    return this.range < this.ranges.length;
  }
}
