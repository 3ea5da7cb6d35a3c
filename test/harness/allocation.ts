/**
 * Bytes a function allocates on the JavaScript heap (and in ArrayBuffers) per call: the heap in
 * use after full collections, then after `calls` calls, divided by `calls`; the median of
 * `repeats` tries, so that a compilation finished or a sweep ended in one try does not count.
 * Keep calls × bytes well under the young generation (a few hundred KB): a scavenge within a
 * try would hide what it allocated. Warm `f` up first, so it runs optimized; it is run `calls`
 * times more before the tries.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export function bytesPerCall(f: (i: number) => void, calls: number, repeats = 5): number {
  for (let i = 0; i < calls; i++) f(i); // compiled (baseline code is on the heap too)
  const tries: number[] = [];
  for (let r = 0; r < repeats; r++) {
    gc();
    gc();
    const before = process.memoryUsage();
    for (let i = 0; i < calls; i++) f(i);
    const after = process.memoryUsage();
    const heap = after.heapUsed - before.heapUsed;
    const arrayBuffers = after.arrayBuffers - before.arrayBuffers;
    tries.push((heap + arrayBuffers) / calls);
  }
  tries.sort((a, b) => a - b);
  return tries[repeats >> 1];
}
