/**
 * A component's state as plain parts, for snapshots: its typed arrays (copied byte for byte) and
 * its counters (numbers kept in fields), each in a fixed order. Saving and loading allocate and
 * run off the per-command path (snapshot, restart).
 */
export interface StateImage {
  arrays: ArrayBufferView[];
  counters: number[];
  /**
   * Per array, the bytes from its start that may be non-zero; past them it is all zeros (a
   * table filled from slot 0 up). Absent: the whole array. Snapshots copy and store only these.
   */
  used?: number[];
}

export interface Imaged {
  /** Appends this component's arrays and counters to `image`, in a fixed order. */
  saveImage(image: StateImage): void;
  /** Reads this component's counters from `counters` at `at`; returns the next position. */
  loadCounters(counters: readonly number[], at: number): number;
}

export function emptyImage(): StateImage {
  return { arrays: [], counters: [], used: [] };
}

/** Appends `array`, of which only the first `usedBytes` may be non-zero. */
export function pushUsed(image: StateImage, array: ArrayBufferView, usedBytes: number): void {
  if (image.used !== undefined) image.used[image.arrays.length] = usedBytes;
  image.arrays.push(array);
}

/** The bytes of array `i` of `image` that may be non-zero. */
export function usedBytes(image: StateImage, i: number): number {
  return image.used?.[i] ?? image.arrays[i].byteLength;
}

/** The bytes of each array of `image` that may be non-zero. */
export function usedSizes(image: StateImage): number[] {
  const sizes: number[] = [];
  for (let i = 0; i < image.arrays.length; i++) sizes.push(usedBytes(image, i));
  return sizes;
}
