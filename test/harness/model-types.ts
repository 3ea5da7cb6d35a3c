/**
 * Plain-object state of the reference model (test/harness/reference-model.ts): Maps and arrays,
 * no typed arrays, no cleverness, so that it is easy to believe.
 */
import type { EngineConfig } from '../../src/constants.js';
import type { EventRecord } from '../../src/protocol/event-reader.js';
import type { CommandFields } from '../../src/protocol/command-writer.js';

export interface Balance {
  available: number;
  held: number;
}

export interface ModelPending {
  id: number;
  debit: number;
  credit: number;
  asset: number;
  amount: number;
  expiresAt: number;
}

export interface ModelInstrument {
  base: number;
  quote: number;
  tick: number;
  lot: number;
  makerBps: number;
  takerBps: number;
  feeAccount: number;
  halted: boolean;
}

export interface ModelOrder {
  id: number;
  account: number;
  instrument: number;
  sell: boolean;
  price: number;
  open: number;
  postOnly: boolean;
  stp: number;
  /** The client id that placed it. */
  client: number;
  /** Time priority: smaller rests earlier. */
  priority: number;
}

export interface ModelClient {
  hwm: number;
  /** The client's last `idempotencyWindow` new commands, oldest first. */
  /** `kind`: the command's kind (a duplicate names an id only if the original made one). */
  /** `fingerprint`: the command's (model-fingerprint.ts), as its head event carried it. */
  log: Array<{ seq: number; sequence: number; status: number; kind: number; fingerprint: number }>;
  /** How many new commands it has had in all (more than the window: old ones forgotten). */
  recorded: number;
}

export interface ModelState {
  assets: Map<number, { scale: number; supply: number }>;
  accounts: Map<number, Map<number, Balance>>;
  /** Account ids in creation order (the engine's slot order). */
  accountOrder: number[];
  pendings: Map<number, ModelPending>;
  instruments: Map<number, ModelInstrument>;
  orders: Map<number, ModelOrder>;
  clients: Map<number, ModelClient>;
  /** Ids of expired pending transfers, oldest first (the engine keeps the last 4,096). */
  expired: number[];
  priorityNext: number;
}

/** A command as the model sees it: the fields plus the stamp. */
export interface ModelCommand extends CommandFields {
  sequence: number;
  timestamp: number;
}

export type ModelEvent = EventRecord;

export interface ModelContext {
  config: EngineConfig;
  state: ModelState;
}

export function emptyState(): ModelState {
  return {
    assets: new Map(),
    accounts: new Map(),
    accountOrder: [],
    pendings: new Map(),
    instruments: new Map(),
    orders: new Map(),
    clients: new Map(),
    expired: [],
    priorityNext: 1,
  };
}

/** Deep copy, for linked chains: decide on a copy, keep it only if every member succeeds. */
export function cloneState(s: ModelState): ModelState {
  const accounts = new Map<number, Map<number, Balance>>();
  for (const [id, balances] of s.accounts) {
    const copy = new Map<number, Balance>();
    for (const [asset, b] of balances) copy.set(asset, { ...b });
    accounts.set(id, copy);
  }
  const assets = new Map<number, { scale: number; supply: number }>();
  for (const [id, a] of s.assets) assets.set(id, { ...a });
  const pendings = new Map<number, ModelPending>();
  for (const [id, p] of s.pendings) pendings.set(id, { ...p });
  return { ...s, accounts, assets, pendings, accountOrder: [...s.accountOrder] };
}
