/**
 * The capacities an operator may set, by name and by flag. A module of its own, with no
 * imports: the command line declares its flags with them before it loads any command's code
 * (engine-config.ts, which applies them, reads the data folder's through LMDB).
 */
/** Capacities by name, as an operator may set them (the rest of EngineConfig is fixed). */
export type Capacities = Partial<Record<CapacityName, number>>;
export type CapacityName =
  | 'accountCountMax'
  | 'assetCountMax'
  | 'instrumentCountMax'
  | 'orderCountMax'
  | 'levelCountMax'
  | 'pendingCountMax'
  | 'clientCountMax';

/** Flag, config field, and what it counts. */
export const capacityFlags: readonly (readonly [string, CapacityName, string])[] = [
  ['accounts-max', 'accountCountMax', 'accounts, ever'],
  ['assets-max', 'assetCountMax', 'asset ids are 1 to this - 1'],
  ['instruments-max', 'instrumentCountMax', 'instrument ids are 1 to this - 1'],
  ['orders-max', 'orderCountMax', 'resting orders, all books'],
  ['levels-max', 'levelCountMax', 'price levels in use, all books'],
  ['pending-max', 'pendingCountMax', 'two-phase transfers open at once'],
  ['clients-max', 'clientCountMax', "clients' ids, ever (the node's own apart)"],
];
