/**
 * How many times each client seq was seen (0 to 255, saturating), for a drill's history: a
 * drill's client numbers its commands from 1 up, and a long drill acknowledges more of them than
 * a Map holds (2^24 keys: `Map maximum size exceeded` ended a 16.8M-command soak). Counts live
 * in byte chunks of `chunkSeqs` consecutive seqs, a chunk made when a seq in it is first seen.
 */
const chunkSeqs = 65_536;
const countMax = 255;

export class SeqCounts {
  private readonly chunks = new Map<number, Uint8Array>();
  /** Seqs seen at least once. */
  size = 0;

  /** Counts `seq` (a non-negative integer) once more. */
  add(seq: number): void {
    const key = Math.floor(seq / chunkSeqs);
    let chunk = this.chunks.get(key);
    if (chunk === undefined) {
      chunk = new Uint8Array(chunkSeqs);
      this.chunks.set(key, chunk);
    }
    const at = seq - key * chunkSeqs;
    if (chunk[at] === 0) this.size++;
    if (chunk[at] < countMax) chunk[at]++;
  }

  /** Times `seq` was counted (up to 255). */
  count(seq: number): number {
    const key = Math.floor(seq / chunkSeqs);
    return this.chunks.get(key)?.[seq - key * chunkSeqs] ?? 0;
  }

  /** Each seq seen, with its count, chunk by chunk in the order they were first seen. */
  *entries(): IterableIterator<[seq: number, count: number]> {
    for (const [key, chunk] of this.chunks) {
      for (let at = 0; at < chunkSeqs; at++) {
        if (chunk[at] !== 0) yield [key * chunkSeqs + at, chunk[at]];
      }
    }
  }
}
