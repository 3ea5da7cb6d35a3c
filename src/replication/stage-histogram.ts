/**
 * A histogram of durations (µs) in buckets a quarter of a power of two wide (19% apart), from
 * 1 µs to 2^27 µs (134 s; longer ones in the last bucket): fine enough for a p50 or a p99 of a
 * stage that takes tens of microseconds to tens of milliseconds. For where a replicated
 * command's time goes (src/pipeline/stage-times.ts); made once, nothing allocates after.
 */
import { assert } from '../stdx/assert.js';

export const stageBucketCount = 108;

export class StageHistogram {
  /** Durations per bucket: bucket b holds those in [2^(b/4), 2^((b+1)/4)) µs. */
  readonly counts = new Float64Array(stageBucketCount);
  count = 0;
  sumUs = 0;

  record(us: number): void {
    assert(us === us, 'stage histogram: a number'); // not NaN
    const b = us < 1 ? 0 : Math.min(stageBucketCount - 1, Math.floor(Math.log2(us) * 4));
    this.counts[b] += 1;
    this.count += 1;
    this.sumUs += us < 0 ? 0 : us;
  }
}

/** The upper bound (µs) of bucket `b`. */
export function stageBucketUpperUs(b: number): number {
  return 2 ** ((b + 1) / 4);
}
