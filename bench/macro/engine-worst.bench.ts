/**
 * bench:engine-worst — the engine's costliest commands, one at a time, beside its normal mix.
 *
 *   npm run bench:engine-worst              large: each case repeated enough for a p99.9
 *   npm run bench:engine-worst -- --small   CI size: a few seconds
 *
 * Every command's work is bounded by a limit of constants.ts (fillsPerCommandMax,
 * expiriesPerCommandMax, chainLengthMax, levelsPerSideMax, cancelAllPerCommandMax): this shows
 * what those bounds cost in time, per command, at the default capacities (`bourse start`), so
 * that the worst case a client can make the processor run is a number, not a guess.
 * Each row times single `execute` calls (performance.now() around each: ~30-50 ns of its own).
 * Read the p50 and the events: the tails include this bench's own garbage (it writes commands
 * from objects) being collected, and first touches of a fresh engine's pages.
 * Prints a table, then one JSON line with every figure.
 */
import { setFlagsFromString } from 'node:v8';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { Engine } from '../../src/engine/engine.js';
import { engineConfigDefault, engineV8Flags, type EngineConfig } from '../../src/constants.js';
import { RecordBuffer } from '../../src/stdx/records.js';
import { CommandFlag, CommandKind, SequencedWord } from '../../src/protocol/command-layout.js';
import { EventWord } from '../../src/protocol/event-layout.js';
import { stampCommand, writeCommand, type CommandBody } from '../../src/protocol/command-writer.js';
import { generateWorkload } from '../lib/workload.js';
import { machine, machineLine, printTable } from '../lib/table.js';
import { benchProgress } from '../lib/report-out.js';
import { checkArgs } from '../lib/flags.js';

for (const flag of engineV8Flags) setFlagsFromString(flag);

checkArgs({
  run: 'npm run bench:engine-worst --',
  switches: { '--small': 'the CI size: each case a tenth as often' },
  values: {},
});
const small = process.argv.includes('--small');
const repeat = small ? 0.1 : 1;
const config: EngineConfig = { ...engineConfigDefault };

/** One engine driven a command at a time; `time` runs one and records its ns and events. */
class Driver {
  readonly engine: Engine;
  private readonly cmd = RecordBuffer.allocate(1, SequencedWord.size * 4);
  private readonly out: RecordBuffer;
  sequence = 0;
  timestamp = 1_700_000_000_000_000;
  private clientSeq = 0;
  events = 0;

  constructor(cfg: EngineConfig) {
    this.engine = new Engine(cfg);
    this.out = RecordBuffer.allocate(this.engine.eventsPerCommandMax, EventWord.size * 4);
  }

  /** Runs one command of client 1; its ns. */
  run(kind: number, body: CommandBody): number {
    writeCommand(this.cmd.u32, 0, { kind, clientId: 1, clientSeq: ++this.clientSeq, ...body });
    stampCommand(this.cmd.u32, 0, ++this.sequence, this.timestamp);
    const t0 = performance.now();
    this.events = this.engine.execute(this.cmd.u32, 0, this.out, 0);
    return (performance.now() - t0) * 1e6;
  }

  /** The status of the last command's head event. */
  status(): number {
    return this.out.u32[EventWord.kindStatus] >>> 16;
  }
}

/** A case's per-command ns and the most events one command wrote. */
class Case {
  readonly ns = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e10 });
  eventsMax = 0;
  constructor(readonly name: string) {}
  add(ns: number, events: number): void {
    this.ns.recordValue(Math.max(1, Math.round(ns)));
    if (events > this.eventsMax) this.eventsMax = events;
  }
}

/** Accounts 1..n funded in assets 1 (quote) and 2 (base); instrument 1 = 2/1, tick 1, lot 1. */
function market(accounts: number, cfg = config): Driver {
  const d = new Driver(cfg);
  d.run(CommandKind.AddAsset, { ref: 1, aux: 2 });
  d.run(CommandKind.AddAsset, { ref: 2, aux: 2 });
  for (let a = 1; a <= accounts; a++) {
    d.run(CommandKind.CreateAccount, { account: a });
    d.run(CommandKind.Deposit, { account: a, ref: 1, quantity: 1e12 });
    d.run(CommandKind.Deposit, { account: a, ref: 2, quantity: 1e12 });
  }
  const fees = { account: 1, makerFeeBps: 1, takerFeeBps: 2 };
  d.run(CommandKind.AddInstrument, { ref: 1, target: 2, aux: 1, price: 1, quantity: 1, ...fees });
  return d;
}

const sell = (price: number, account = 2): CommandBody => ({
  account,
  ref: 1,
  price,
  quantity: 1,
  flags: CommandFlag.Sell,
});

/** The normal mix of bench:engine (transfers, limit, market and cancel orders), per command. */
function normalMix(): Case {
  const c = new Case('normal mix (bench:engine), per command');
  const w = generateWorkload({
    seed: 42,
    accounts: 20_000,
    instruments: 8,
    commands: Math.round(400_000 * repeat),
    transferShare: 0.3,
    marketShare: 0.07,
    cancelShare: 0.23,
  });
  const engine = new Engine({ ...config, accountCountMax: 20_016, clientCountMax: 64 });
  const out = RecordBuffer.allocate(engine.eventsPerCommandMax, EventWord.size * 4);
  for (let i = 0; i < w.setupCount; i++) engine.execute(w.setup, i * SequencedWord.size, out, 0);
  for (let i = 0; i < w.mixCount; i++) {
    const t0 = performance.now();
    const n = engine.execute(w.mix, i * SequencedWord.size, out, 0);
    if (i >= w.mixCount / 4) c.add((performance.now() - t0) * 1e6, n);
  }
  return c;
}

/** A market buy sweeping 4,096 one-lot asks at as many prices: it stops at fillsPerCommandMax. */
function sweeps(): Case[] {
  const place = new Case('new ask at the far end of 4,096 levels');
  const sweep = new Case(`market buy sweeping ${config.fillsPerCommandMax} makers`);
  const d = market(4);
  for (let round = 0; round < Math.max(2, Math.round(40 * repeat)); round++) {
    for (let p = 4095; p >= 0; p--) place.add(d.run(CommandKind.PlaceOrder, sell(10_000 + p)), 1);
    for (let k = 0; k < 4; k++) {
      const body = { account: 3, ref: 1, quantity: 1e9, flags: CommandFlag.Market };
      sweep.add(d.run(CommandKind.PlaceOrder, body), d.events);
    }
  }
  return [place, sweep];
}

/** 100,000 asks at one price: cancels from its back, its middle, and of ids gone or unknown. */
function deepLevel(): Case[] {
  const middle = new Case('cancel from the middle of a 100k-deep level');
  const gone = new Case('cancel of an id already canceled');
  const unknown = new Case('cancel of an id never placed');
  const d = market(4);
  const ids: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    d.run(CommandKind.PlaceOrder, sell(500));
    ids.push(d.sequence);
  }
  for (let i = 0; i < Math.round(20_000 * repeat); i++) {
    const id = ids.splice(ids.length >> 1, 1)[0];
    middle.add(d.run(CommandKind.CancelOrder, { account: 2, target: id }), d.events);
    gone.add(d.run(CommandKind.CancelOrder, { account: 2, target: id }), d.events);
    const never = d.sequence + 1_000 + i * 7919;
    unknown.add(d.run(CommandKind.CancelOrder, { account: 2, target: never }), d.events);
  }
  return [middle, gone, unknown];
}

/** Holds due at once (pending-max of them): each Tick expires expiriesPerCommandMax. */
function expiries(): Case {
  const c = new Case(`Tick expiring ${config.expiriesPerCommandMax} due holds`);
  const d = market(4);
  const holds = Math.round(config.pendingCountMax * Math.max(repeat, 0.25));
  const hold = { account: 2, target: 3, ref: 1, quantity: 1, aux: 1_000_000 };
  for (let i = 0; i < holds; i++) d.run(CommandKind.TransferPending, hold);
  d.timestamp += 2_000_000;
  for (let i = 0; i < holds && d.engine.pendings.expiries.size > 0; i++) {
    c.add(d.run(CommandKind.Tick, {}), d.events);
  }
  return c;
}

/** One account's full order table, canceled by CancelAll rounds (cancelAllPerCommandMax each). */
function cancelAll(): Case {
  const c = new Case(`CancelAll round of ${config.fillsPerCommandMax} orders`);
  const d = market(4);
  const orders = Math.round(config.orderCountMax * Math.max(repeat, 0.25));
  for (let i = 0; i < orders; i++) d.run(CommandKind.PlaceOrder, sell(100 + (i % 4000)));
  while (d.engine.orders.pool.used() > 0) {
    c.add(d.run(CommandKind.CancelAll, { account: 2 }), d.events);
  }
  return c;
}

/** Linked chains of chainLengthMax transfers between distinct accounts: the closing member. */
function chains(): Case {
  const c = new Case(`closing a linked chain of ${config.chainLengthMax} transfers`);
  const n = config.chainLengthMax;
  const d = market(2 * n + 2);
  for (let round = 0; round < Math.max(10, Math.round(300 * repeat)); round++) {
    for (let i = 0; i < n; i++) {
      const body = { account: 1 + 2 * i, target: 2 + 2 * i, ref: 1, quantity: 1 };
      const ns = d.run(CommandKind.Transfer, i < n - 1 ? { ...body, flags: 1 } : body);
      if (i === n - 1) c.add(ns, d.events);
    }
  }
  return c;
}

function row(c: Case, normalP50: number): Record<string, string | number> {
  const h = c.ns;
  return {
    command: c.name,
    n: h.totalCount,
    'p50 ns': h.getValueAtPercentile(50),
    'p99 ns': h.getValueAtPercentile(99),
    'p99.9 ns': h.getValueAtPercentile(99.9),
    'max ns': h.maxValue,
    'x normal p50': Number((h.getValueAtPercentile(50) / normalP50).toFixed(1)),
    'events max': c.eventsMax,
  };
}

async function main(): Promise<void> {
  const steps: [string, () => Case | Case[]][] = [
    ['normal mix', normalMix],
    ['sweeps', sweeps],
    ['deep level', deepLevel],
    ['expiries', expiries],
    ['cancel all', cancelAll],
    ['chains', chains],
  ];
  const cases: Case[] = [];
  for (let i = 0; i < steps.length; i++) {
    benchProgress(i, steps.length, steps[i][0]);
    cases.push(...[steps[i][1]()].flat());
  }
  const host = await machine();
  const normalP50 = cases[0].ns.getValueAtPercentile(50);
  const title = `bench:engine-worst (${small ? 'small' : 'large'}) on ${machineLine(host)}`;
  printTable(
    title,
    cases.map((c) => row(c, normalP50)),
  );
  console.log(
    `\nconfig: the default capacities (${JSON.stringify(config)}); ` +
      'each case on a fresh engine; timings include ~30-50 ns of performance.now()',
  );
  console.log(
    JSON.stringify({
      bench: 'engine-worst',
      size: small ? 'small' : 'large',
      machine: host,
      cpu_steal_pct: host.cpu_steal_pct,
      config,
      cases: cases.map((c) => ({
        name: c.name,
        count: c.ns.totalCount,
        ns_p50: c.ns.getValueAtPercentile(50),
        ns_p99: c.ns.getValueAtPercentile(99),
        ns_p999: c.ns.getValueAtPercentile(99.9),
        ns_max: c.ns.maxValue,
        events_max: c.eventsMax,
      })),
    }),
  );
}

await main();
