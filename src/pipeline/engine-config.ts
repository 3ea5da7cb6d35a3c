/**
 * The engine config a node runs with: the one its data folder was last run with (or, for a
 * new folder, the defaults), with the capacities an operator asked for on top. A capacity may
 * grow between runs, never shrink: the journal may hold more accounts, orders or clients than
 * a smaller state has room for, and replaying it must never find a table full.
 */
import { engineConfigDefault, engineConfigProblem, type EngineConfig } from '../constants.js';
import { StorageCode, StorageError } from '../journal/journal-errors.js';
import { storedConfig, type JournalDb } from '../journal/journal-db.js';
import { capacityFlags, type Capacities } from './capacity-flags.js';

export type { Capacities, CapacityName } from './capacity-flags.js';

/** The first capacity `asked` lowers below what was `kept`, or null (they may only grow). */
export function shrunkCapacity(
  kept: Capacities,
  asked: Capacities,
): { flag: string; kept: number; asked: number } | null {
  for (const [flag, name] of capacityFlags) {
    const [before, value] = [kept[name], asked[name]];
    if (before !== undefined && value !== undefined && value < before) {
      return { flag, kept: before, asked: value };
    }
  }
  return null;
}

/** @throws StorageError (CONFIG_REFUSED) naming the capacity that cannot be used. */
export function configFor(db: JournalDb, asked: Capacities): EngineConfig {
  const stored = storedConfig(db);
  const base = stored ?? engineConfigDefault;
  const config: EngineConfig = { ...base, ...asked };
  const shrunk = shrunkCapacity(stored ?? {}, asked);
  if (shrunk !== null) {
    throw new StorageError(
      StorageCode.ConfigRefused,
      `--${shrunk.flag} ${shrunk.asked} is below the ${shrunk.kept} this data folder ran ` +
        'with: a capacity may grow, never shrink (the journal may need every slot)',
    );
  }
  const problem = engineConfigProblem(config);
  if (problem !== null) {
    throw new StorageError(StorageCode.ConfigRefused, `capacities refused: ${problem}`);
  }
  return config;
}

/** The capacities a node runs with, for people (the data folder keeps them). */
export function capacityLine(c: EngineConfig): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  return (
    `${n(c.accountCountMax)} accounts, ${n(c.orderCountMax)} orders, ` +
    `${n(c.assetCountMax - 1)} assets, ${n(c.instrumentCountMax - 1)} instruments, ` +
    `${n(c.clientCountMax)} clients, ${n(c.levelCountMax)} price levels, ` +
    `${n(c.pendingCountMax)} pending transfers`
  );
}
