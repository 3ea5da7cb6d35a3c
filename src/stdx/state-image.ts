/**
 * A component's state as plain parts, for snapshots: its typed arrays (copied byte for byte) and
 * its counters (numbers kept in fields), each in a fixed order. Saving and loading allocate and
 * run off the per-command path (snapshot, restart).
 */
export interface StateImage {
  arrays: ArrayBufferView[];
  counters: number[];
}

export interface Imaged {
  /** Appends this component's arrays and counters to `image`, in a fixed order. */
  saveImage(image: StateImage): void;
  /** Reads this component's counters from `counters` at `at`; returns the next position. */
  loadCounters(counters: readonly number[], at: number): number;
}

export function emptyImage(): StateImage {
  return { arrays: [], counters: [] };
}
