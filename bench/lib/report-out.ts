/**
 * What a bench hands to `bourse bench` (src/cli/bench.ts), which runs it as a child process:
 * progress through its phases, over the IPC channel, and its latency histogram, compressed,
 * in the file the environment names (BOURSE_BENCH_HDR), for the percentile plot. Run by
 * `npm run bench:*` instead, there is no channel and no file: both are no-ops.
 */
import { writeFileSync } from 'node:fs';
import * as hdr from 'hdr-histogram-js';

/** Phase `done` of `total` has begun (`label` names it). */
export function benchProgress(done: number, total: number, label: string): void {
  process.send?.({ kind: 'bench-progress', done, total, label });
}

/** The histogram the bench's latency figures come from; `unit` is what one count stands for. */
export function exportHistogram(histogram: hdr.Histogram, unit: 'us' | 'ns', what: string): void {
  const path = process.env.BOURSE_BENCH_HDR;
  if (path === undefined || path === '') return;
  const encoded = hdr.encodeIntoCompressedBase64(histogram);
  writeFileSync(path, JSON.stringify({ unit, what, histogram: encoded }));
}
