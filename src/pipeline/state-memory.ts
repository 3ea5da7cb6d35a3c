/**
 * Whether the engine's state fits in this machine's memory, checked from its tables' full size
 * in bytes once they are allocated, before the capacities are kept. V8 allocates a typed array
 * lazily (untouched pages cost nothing), so an allocation that succeeds proves nothing: 4M
 * accounts and 4M orders (1.6 GB of tables a copy) started with 121 MB resident and were kept,
 * to fail later as the tables filled. What fails at allocation is a table past V8's typed
 * array length limit, or address space, and each is said as what it is.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { stateCopiesCount, stateMemoryPercentMax, type EngineConfig } from '../constants.js';
import type { Engine } from '../engine/engine.js';
import { StorageCode, StorageError } from '../journal/journal-errors.js';
import { capacityFlags } from './capacity-flags.js';

/**
 * Tests only: the memory figure to use instead of the machine's (bytes), so that a test can
 * ask for more than it without allocating it. Not a setting: operators have no use for it.
 */
export const testMemoryEnv = 'BOURSE_TEST_MEMORY_BYTES';

/** Where cgroup v2 and v1 put a container's memory limit ("max": none). */
const cgroupLimitFiles = [
  '/sys/fs/cgroup/memory.max',
  '/sys/fs/cgroup/memory/memory.limit_in_bytes',
];

/** Every table of one copy of the state at its full size, in bytes. */
export function stateBytes(engine: Engine): number {
  let bytes = 0;
  for (const array of engine.image().arrays) bytes += array.byteLength;
  return bytes;
}

/** The memory the node may count on, and where the figure comes from. */
export function memoryBytes(): { bytes: number; source: string } {
  const injected = Number(process.env[testMemoryEnv]);
  if (Number.isSafeInteger(injected) && injected > 0) return { bytes: injected, source: 'test' };
  let found = { bytes: totalmem(), source: 'os.totalmem()' };
  for (const file of cgroupLimitFiles) {
    let limit = NaN;
    try {
      limit = Number(readFileSync(file, 'utf8').trim()); // "max": NaN, no limit
    } catch {
      continue; // not in a cgroup of that version
    }
    if (Number.isSafeInteger(limit) && limit < found.bytes) found = { bytes: limit, source: file };
  }
  return found;
}

/**
 * Refuses a state whose copies take more than `stateMemoryPercentMax` of the memory.
 * @throws StorageError CONFIG_REFUSED naming the sizes and the capacities asked for.
 */
export function refuseStateTooLarge(engine: Engine): void {
  const bytes = stateBytes(engine);
  const memory = memoryBytes();
  // ...and the read model's join stamps (Orders.joinedAt): kept by it alone, never snapshotted.
  const needed = bytes * stateCopiesCount + engine.config.orderCountMax * 8;
  if (needed * 100 <= memory.bytes * stateMemoryPercentMax) return;
  throw new StorageError(
    StorageCode.ConfigRefused,
    `the engine's state for these capacities does not fit in this machine's memory ` +
      `(${capacitiesAsked(engine.config)}): its tables take ${gib(bytes)} at full size, ` +
      `${stateCopiesCount} copies (the processor's, the snapshotter's and its snapshot ` +
      `buffer), with the read model's join stamps, ${gib(needed)}, ` +
      `more than ${stateMemoryPercentMax}% of ${gib(memory.bytes)} (${memory.source}): ` +
      'ask for less',
  );
}

/** The capacities as flags, for messages: `--accounts-max 262144, --assets-max 16, …`. */
export function capacitiesAsked(config: EngineConfig): string {
  return capacityFlags.map(([flag, name]) => `--${flag} ${config[name]}`).join(', ');
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}
