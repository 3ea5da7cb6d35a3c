/**
 * How full the engine's fixed tables are, for /metrics and the pipeline watch: the processor
 * writes the entries in use into the progress buffer once a second (after a batch, never per
 * command) and once before it starts deciding; the main thread reads them with the config's
 * maxima. A soak filled the order table in 2 minutes and 1.7M MatchingOrderTableFull
 * rejections were only a counter.
 */
import type { EngineConfig } from '../constants.js';
import type { Engine } from '../engine/engine.js';
import { ProgressSlot, type JournalProgress } from '../journal/journal-progress.js';

/** A table: its name on /metrics, its slot, its maximum in the config, what refuses when full. */
export interface CapacityTable {
  readonly name: string;
  readonly slot: ProgressSlot;
  readonly max: keyof EngineConfig;
  readonly refusal: string;
}

export const capacityTables: readonly CapacityTable[] = [
  {
    name: 'orders',
    slot: ProgressSlot.ordersUsed,
    max: 'orderCountMax',
    refusal: 'MatchingOrderTableFull',
  },
  {
    name: 'levels',
    slot: ProgressSlot.levelsUsed,
    max: 'levelCountMax',
    refusal: 'MatchingLevelTableFull',
  },
  {
    name: 'pending',
    slot: ProgressSlot.pendingUsed,
    max: 'pendingCountMax',
    refusal: 'LedgerPendingTableFull',
  },
  {
    name: 'accounts',
    slot: ProgressSlot.accountsUsed,
    max: 'accountCountMax',
    refusal: 'LedgerAccountTableFull',
  },
  {
    name: 'clients',
    slot: ProgressSlot.clientsUsed,
    max: 'clientCountMax',
    refusal: 'IdempotencyClientTableFull',
  },
];

/** The processor's thread: the entries in use now (five plain stores). */
export function writeCapacityUse(engine: Engine, progress: JournalProgress): void {
  progress.set(ProgressSlot.ordersUsed, engine.orders.pool.used());
  progress.set(ProgressSlot.levelsUsed, engine.levels.pool.used());
  progress.set(ProgressSlot.pendingUsed, engine.pendings.pool.used());
  progress.set(ProgressSlot.accountsUsed, engine.accounts.count);
  // Customers' ids only: the node's own have slots beyond clientCountMax (idempotency.ts).
  progress.set(ProgressSlot.clientsUsed, engine.clients.customerCount());
}

/** A table's maximum under `config`. */
export function capacityMax(config: EngineConfig, table: CapacityTable): number {
  return config[table.max] as number;
}
