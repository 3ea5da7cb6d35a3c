/**
 * A histogram's value at a percentile, never past its largest value. An HDR histogram answers
 * with the top of the value's bucket, which can exceed the largest value recorded (a bench's
 * p99.9 of 1,008,127 µs beside a max of 1,008,095).
 */
export function percentileOf(
  histogram: { getValueAtPercentile(percentile: number): number; maxValue: number },
  percentile: number,
): number {
  return Math.min(histogram.getValueAtPercentile(percentile), histogram.maxValue);
}
