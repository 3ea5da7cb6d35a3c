/**
 * Runs an operation list through the engine (via EngineDriver) and the reference model side by
 * side, checking after every command what test/simulation/engine-vs-model.test.ts promises.
 */
import assert from 'node:assert/strict';
import { EngineDriver } from './engine-driver.js';
import { ReferenceModel } from './reference-model.js';
import { setupCommands, type Op } from './generators.js';
import { scanChecksum } from '../../src/engine/checksum-scan.js';
import { assertSameAccountLists } from './account-lists.js';
import type { EngineConfig } from '../../src/constants.js';
import type { CommandFields } from '../../src/protocol/command-writer.js';
import type { EventRecord } from '../../src/protocol/event-reader.js';
import { formatEvent } from '../../src/protocol/event-reader.js';
import { CommandFlag, CommandKind } from '../../src/protocol/command-layout.js';
import { EventFlag, EventKind } from '../../src/protocol/event-layout.js';

const accounts = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const assets = [1, 2, 3];

export class Run {
  readonly d: EngineDriver;
  readonly m: ReferenceModel;
  readonly history: CommandFields[] = [];
  /** The engine's events for each entry of `history`. */
  readonly results: EventRecord[][] = [];
  readonly sequences: number[] = [];
  readonly timestamps: number[] = [];
  private readonly seq = new Map<number, number>();
  /** Head status of each (client, seq) the first time it was decided. */
  private readonly outcome = new Map<string, number>();
  /** Price at which each order rested. */
  private readonly restPrice = new Map<number, number>();

  constructor(config: EngineConfig) {
    this.d = new EngineDriver(config);
    this.m = new ReferenceModel(config);
  }

  next(client: number): number {
    const s = (this.seq.get(client) ?? 0) + 1;
    this.seq.set(client, s);
    return s;
  }

  submit(full: CommandFields): void {
    const before = this.d.engine.checksum.hex();
    const got = this.d.submit(full);
    const want = this.m.execute({
      ...full,
      sequence: this.d.sequence,
      timestamp: this.d.timestamp,
    });
    const where = `command #${this.d.sequence} ${JSON.stringify(full)}`;
    assert.deepEqual(got.map(formatEvent), want.map(formatEvent), where);
    assert.deepEqual(got, want, where);
    this.history.push(full);
    this.results.push(got);
    this.sequences.push(this.d.sequence);
    this.timestamps.push(this.d.timestamp);
    this.checkOutcomes(got, before, where);
    this.checkBalances(where);
    this.checkBook(where);
    this.checkFills(got, where);
  }

  private checkOutcomes(events: EventRecord[], checksumBefore: string, where: string): void {
    for (const e of events) {
      if ((e.flags & EventFlag.Head) === 0) continue;
      const key = `${e.clientId}/${e.clientSeq}`;
      if (e.kind === EventKind.Duplicate) {
        assert.equal(e.status, this.outcome.get(key), `duplicate keeps the outcome: ${where}`);
        // Expirations (client 0) may run first, and a closing chain answers several commands at
        // once; a lone duplicate changes nothing at all.
        if (events.length === 1) {
          assert.equal(
            this.d.engine.checksum.hex(),
            checksumBefore,
            `duplicate changes nothing: ${where}`,
          );
        }
      } else if ((e.flags & EventFlag.Record) !== 0) {
        this.outcome.set(key, e.status);
      }
    }
  }

  private checkBalances(where: string): void {
    const engine = this.d.engine;
    for (const asset of assets) {
      let sum = 0;
      for (const account of accounts) {
        const got = this.d.balance(account, asset);
        assert.deepEqual(
          got,
          this.m.balance(account, asset),
          `balance ${account}/${asset}: ${where}`,
        );
        assert.ok(got.available >= 0 && got.held >= 0, `no negative balance: ${where}`);
        sum += got.available + got.held;
      }
      assert.equal(sum, engine.assets.supply[asset], `asset ${asset} is conserved: ${where}`);
    }
  }

  private checkBook(where: string): void {
    const levels = this.d.engine.levels;
    for (const instrument of [1, 2]) {
      const bid = levels.best(instrument * 2);
      const ask = levels.best(instrument * 2 + 1);
      if (bid === -1 || ask === -1) continue;
      assert.ok(levels.price(bid) < levels.price(ask), `book ${instrument} not crossed: ${where}`);
    }
  }

  private checkFills(events: EventRecord[], where: string): void {
    let limit = -1;
    let sells = false;
    for (const e of events) {
      if (e.kind === EventKind.OrderAccepted || e.kind === EventKind.OrderAmended) {
        limit = (e.flags & EventFlag.Market) !== 0 ? -1 : e.price;
        sells = (e.flags & EventFlag.Sell) !== 0;
        if (e.aux > 0) this.restPrice.set(e.id, e.price);
      }
      if (e.kind !== EventKind.Trade) continue;
      assert.equal(e.price, this.restPrice.get(e.otherId), `fill at the maker's price: ${where}`);
      if (limit >= 0) {
        assert.ok(sells ? e.price >= limit : e.price <= limit, `fill within the limit: ${where}`);
      }
    }
  }

  finish(): void {
    const engine = this.d.engine;
    assert.equal(scanChecksum(engine).hex(), engine.checksum.hex(), 'incremental = rescan');
    const replica = this.d.replay();
    assert.equal(replica.checksum.hex(), engine.checksum.hex(), 'replica = primary');
    assertSameAccountLists(engine, replica, 'replica = primary');
    this.checkOrderClients();
  }

  /** Each resting order's client, as the engine keeps it, is the model's (who placed it). */
  private checkOrderClients(): void {
    const engine = this.d.engine;
    const orders = engine.orders;
    assert.equal(orders.pool.used(), this.m.state.orders.size, 'as many orders rest');
    for (const o of this.m.state.orders.values()) {
      const slot = orders.slotOf(o.id);
      assert.notEqual(slot, -1, `order ${o.id} rests`);
      assert.equal(engine.clients.ids[orders.client(slot)], o.client, `order ${o.id}'s client`);
    }
  }
}

/** A run with the set-up done, ready for operations. */
export function start(config: EngineConfig): Run {
  const r = new Run(config);
  for (const f of setupCommands()) r.submit({ clientId: 1, clientSeq: r.next(1), ...f });
  return r;
}

/** Runs `ops` through the engine and the model, checking after each command. */
export function playOps(r: Run, ops: Op[]): void {
  for (const op of ops) {
    if (op.t === 'advance') r.d.advance(op.us);
    else if (op.t === 'skip') for (let i = 0; i < op.n; i++) r.next(op.client);
    else if (op.t === 'late') {
      const seq = r.next(op.client) - op.back;
      r.submit({ ...op.f, clientId: op.client, clientSeq: Math.max(seq, 1) });
    } else if (op.t === 'retry') {
      const earlier = r.history[r.history.length - op.back];
      if (earlier !== undefined) r.submit(earlier);
    } else if (op.t === 'chain') {
      playChain(r, op);
    } else {
      r.submit({ ...resolve(r, op), clientId: op.client, clientSeq: r.next(op.client) });
    }
  }
}

export function play(config: EngineConfig, ops: Op[]): Run {
  const r = start(config);
  playOps(r, ops);
  r.finish();
  return r;
}

function playChain(r: Run, op: Extract<Op, { t: 'chain' }>): void {
  op.members.forEach((f, i) => {
    if (i === op.interruptAt) {
      const other = (op.client % 3) + 1;
      r.submit({ kind: CommandKind.Tick, clientId: other, clientSeq: r.next(other) });
    }
    const linked = i < op.members.length - 1 ? CommandFlag.Linked : 0;
    r.submit({
      ...f,
      flags: (f.flags ?? 0) | linked,
      clientId: op.client,
      clientSeq: r.next(op.client),
    });
  });
}

/**
 * Points cancels, amends, CancelAlls and CancelClientOrders at the `back`-th latest order, posts
 * and voids at the `back`-th latest pending transfer, usually as its owner. `mode` shapes
 * amendments against the target: 0 as generated, 1 same price and less, 2 unchanged, 3 same
 * price and more.
 */
function resolve(
  r: Run,
  op: Extract<Op, { t: 'cmd' }>,
): Omit<CommandFields, 'clientId' | 'clientSeq'> {
  const k = op.f.kind;
  const orders =
    k === CommandKind.CancelOrder ||
    k === CommandKind.AmendOrder ||
    k === CommandKind.CancelAll ||
    k === CommandKind.CancelClientOrders;
  const pendings = k === CommandKind.TransferPost || k === CommandKind.TransferVoid;
  if (!orders && !pendings) return op.f;
  const want = orders ? CommandKind.PlaceOrder : CommandKind.TransferPending;
  const candidates: number[] = [];
  r.history.forEach((h, i) => {
    if (h.kind === want) candidates.push(i);
  });
  if (candidates.length === 0) return { ...op.f, target: 1 };
  const at = candidates[Math.max(0, candidates.length - op.back)];
  const target = r.history[at];
  const account = op.f.account === 7 || op.f.account === 8 ? op.f.account : target.account;
  const f = { ...op.f, target: r.sequences[at], account };
  if (k !== CommandKind.AmendOrder || op.mode === 0) return f;
  const price = target.price ?? 0;
  const quantity = target.quantity ?? 0;
  if (op.mode === 1) return { ...f, price, quantity: Math.max(quantity - 10, 10) };
  if (op.mode === 2) return { ...f, price, quantity };
  return { ...f, price, quantity: quantity + 10 };
}
