/**
 * bench:engine — the business-logic processor alone, in one thread.
 *
 *   npm run bench:engine              large: 4M mixed commands over 100k accounts, 1M capacity
 *   npm run bench:engine -- --small   CI size: a few seconds
 *
 * Phases:
 *   1. mixed: a seeded mix of transfers and limit, market and cancel orders over many accounts
 *      and instruments; warmed up, then measured (commands/s, events/s, GC pauses, heap growth,
 *      the spread of time per block of 1,000 commands, and the CPU time a command);
 *   2. orders only: the mix's order commands through bourse and through nodejs-order-book
 *      10.1.1, the same stream, for the speed ratio (and bourse's CPU time a command);
 *   3. capacity: an engine sized for N accounts and N resting orders, filled, and its memory.
 * Prints a table, then one JSON line with every figure.
 *
 * CPU time a command is the bench thread's own run time over the measured loop
 * (lib/thread-cpu.ts): on a shared machine, wall-clock rates swing with the neighbours' load
 * and steal, so compare builds by it (alternating them), not by commands/s.
 */
import { setFlagsFromString } from 'node:v8';
import * as hdr from 'hdr-histogram-js';
import { OrderBook } from 'nodejs-order-book';
import { Engine } from '../../src/engine/engine.js';
import {
  engineConfigDefault,
  engineV8Flags,
  prefetchCommandsMax,
  type EngineConfig,
} from '../../src/constants.js';
import { RecordBuffer } from '../../src/stdx/records.js';
import { SequencedWord } from '../../src/protocol/command-layout.js';
import { EventWord } from '../../src/protocol/event-layout.js';
import {
  generateWorkload,
  type PeerOp,
  type Workload,
  type WorkloadConfig,
} from '../lib/workload.js';
import { GcWatch, heapAfterGc } from '../lib/gc-watch.js';
import { machine, machineLine, printTable } from '../lib/table.js';
import { measureCapacity } from './engine-capacity.js';
import { benchProgress, exportHistogram } from '../lib/report-out.js';
import { checkArgs } from '../lib/flags.js';
import { cpuClock, cpuNs } from '../lib/thread-cpu.js';

// Before any hot code is compiled: the same flags the node runs with (see constants.ts).
for (const flag of engineV8Flags) setFlagsFromString(flag);

checkArgs({
  run: 'npm run bench:engine --',
  switches: { '--small': 'the CI size: 200k commands over 2k accounts (large: 4M, 100k)' },
  values: {},
});
const small = process.argv.includes('--small');
const workloadConfig: WorkloadConfig = {
  seed: 42,
  accounts: small ? 2_000 : 100_000,
  instruments: 8,
  commands: small ? 200_000 : 4_000_000,
  transferShare: 0.3,
  marketShare: 0.07,
  cancelShare: 0.23,
};
const warmupShare = 0.25;
const blockSize = 1_000;

function engineConfig(accounts: number): EngineConfig {
  return {
    ...engineConfigDefault,
    accountCountMax: accounts + 16,
    orderCountMax: 1 << 21,
    levelCountMax: 1 << 16,
    levelsPerSideMax: 4096,
    clientCountMax: 64,
  };
}

/** Events go to 64 commands' worst case of room, reused as a ring (as the output ring will). */
class Runner {
  readonly engine: Engine;
  private readonly out: RecordBuffer;
  private outAt = 0;

  constructor(accounts: number) {
    this.engine = new Engine(engineConfig(accounts));
    this.out = RecordBuffer.allocate(this.engine.eventsPerCommandMax * 64, EventWord.size * 4);
  }

  /**
   * Runs SequencedCommands [from, to) of `u32` as the processor does (business-logic-
   * processor.ts): up to prefetchCommandsMax at a time, read ahead, then decided. Returns the
   * events written.
   */
  run(u32: Uint32Array, from: number, to: number): number {
    let events = 0;
    for (let start = from; start < to; start += prefetchCommandsMax) {
      const end = Math.min(start + prefetchCommandsMax, to);
      for (let i = start; i < end; i++) this.engine.prefetchNote(u32, i * SequencedWord.size);
      this.engine.prefetchRead();
      events += this.execute(u32, start, end);
    }
    return events;
  }

  private execute(u32: Uint32Array, from: number, to: number): number {
    const engine = this.engine;
    const out = this.out;
    const limit = out.capacity - engine.eventsPerCommandMax;
    let events = 0;
    let at = this.outAt;
    for (let i = from; i < to; i++) {
      const n = engine.execute(u32, i * SequencedWord.size, out, at);
      events += n;
      at += n;
      if (at > limit) at = 0;
    }
    this.outAt = at;
    return events;
  }
}

async function mixedPhase(gc: GcWatch, w: Workload) {
  const runner = new Runner(workloadConfig.accounts);
  runner.run(w.setup, 0, w.setupCount);
  const warm = Math.floor(w.mixCount * warmupShare);
  runner.run(w.mix, 0, warm);
  const blocks = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e9 });
  const heapBefore = heapAfterGc();
  const cpu0 = cpuNs();
  const t0 = gc.now();
  let events = 0;
  for (let from = warm; from < w.mixCount; from += blockSize) {
    const b0 = gc.now();
    events += runner.run(w.mix, from, Math.min(from + blockSize, w.mixCount));
    blocks.recordValue(Math.round(((gc.now() - b0) * 1e6) / blockSize));
  }
  const t1 = gc.now();
  const cpu1 = cpuNs();
  exportHistogram(blocks, 'ns', 'ns per command, mean of each 1k-command block');
  const heapAfter = heapAfterGc();
  await gc.settle();
  const pauses = gc.between(t0, t1);
  const seconds = (t1 - t0) / 1000;
  const commands = w.mixCount - warm;
  return {
    commands,
    events,
    seconds,
    commandsPerS: commands / seconds,
    cpuNsPerCommand: (cpu1 - cpu0) / commands,
    eventsPerS: events / seconds,
    gcCount: pauses.count,
    gcMaxMs: pauses.maxMs,
    heapGrowth: heapAfter - heapBefore,
    nsP50: blocks.getValueAtPercentile(50),
    nsP99: blocks.getValueAtPercentile(99),
    nsMax: blocks.maxValue,
    checksum: runner.engine.checksum.hex(),
    resting: runner.engine.orders.pool.used(),
  };
}

function ordersPhase(gc: GcWatch, w: Workload) {
  const runner = new Runner(workloadConfig.accounts);
  runner.run(w.setup, 0, w.setupCount);
  const warm = Math.floor(w.orderCount * warmupShare);
  runner.run(w.orders, 0, warm);
  const cpu0 = cpuNs();
  const t0 = gc.now();
  runner.run(w.orders, warm, w.orderCount);
  const seconds = (gc.now() - t0) / 1000;
  const cpu1 = cpuNs();
  const orders = w.orderCount - warm;
  return { ordersPerS: orders / seconds, cpuNsPerOrder: (cpu1 - cpu0) / orders };
}

/** The same order stream through nodejs-order-book, one book per instrument. */
function peerPhase(gc: GcWatch, ops: PeerOp[], instruments: number) {
  const books: OrderBook[] = [];
  for (let i = 0; i <= instruments; i++) books.push(new OrderBook());
  const apply = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const op = ops[i];
      const book = books[op.instrument];
      if (op.op === 0) {
        const timeInForce = (op.ioc ? 'IOC' : 'GTC') as never;
        book.limit({
          id: op.id,
          side: op.side as never,
          size: op.size,
          price: op.price,
          timeInForce,
        });
      } else if (op.op === 1) {
        book.market({ side: op.side as never, size: op.size });
      } else {
        book.cancel(op.id);
      }
    }
  };
  const warm = Math.floor(ops.length * warmupShare);
  apply(0, warm);
  const t0 = gc.now();
  apply(warm, ops.length);
  const seconds = (gc.now() - t0) / 1000;
  return { ordersPerS: (ops.length - warm) / seconds };
}

async function main(): Promise<void> {
  const gc = new GcWatch();
  const w = generateWorkload(workloadConfig);
  benchProgress(0, 4, 'mixed commands');
  const mixed = await mixedPhase(gc, w);
  benchProgress(1, 4, 'orders only');
  const orders = ordersPhase(gc, w);
  benchProgress(2, 4, 'nodejs-order-book');
  const peer = peerPhase(gc, w.peerOps, workloadConfig.instruments);
  benchProgress(3, 4, 'capacity');
  const capacity = measureCapacity(small ? 20_000 : 1_000_000);
  gc.stop();
  const host = await machine();
  const ratio = orders.ordersPerS / peer.ordersPerS;
  const title = `bench:engine (${small ? 'small' : 'large'}) on ${machineLine(host)}`;
  printTable(title, [
    {
      measure: 'mixed commands/s (one thread)',
      value: Math.round(mixed.commandsPerS),
      goal: '>= 10M',
    },
    {
      measure: `CPU ns/mixed command (${cpuClock} clock)`,
      value: Math.round(mixed.cpuNsPerCommand),
      goal: '<= 100',
    },
    { measure: 'mixed events/s', value: Math.round(mixed.eventsPerS), goal: '' },
    { measure: 'ns/command per 1k block, p50', value: mixed.nsP50, goal: '' },
    { measure: 'ns/command per 1k block, p99', value: mixed.nsP99, goal: '' },
    { measure: 'ns/command per 1k block, max', value: mixed.nsMax, goal: '' },
    { measure: 'orders-only commands/s (bourse)', value: Math.round(orders.ordersPerS), goal: '' },
    { measure: 'CPU ns/orders-only command', value: Math.round(orders.cpuNsPerOrder), goal: '' },
    { measure: 'orders/s nodejs-order-book 10.1.1', value: Math.round(peer.ordersPerS), goal: '' },
    { measure: 'speed vs nodejs-order-book (x)', value: ratio, goal: '>= 30' },
    { measure: 'GC pauses in steady state', value: mixed.gcCount, goal: '' },
    { measure: 'longest GC pause (ms)', value: mixed.gcMaxMs, goal: '<= 1' },
    { measure: 'heap growth in steady state (bytes)', value: mixed.heapGrowth, goal: 'none' },
    {
      measure: `memory, ${capacity.accounts} accounts + ${capacity.orders} orders (MB)`,
      value: capacity.megabytes,
      goal: '<= 1024 at 1M',
    },
  ]);
  console.log(`\nworkload: ${JSON.stringify(workloadConfig)}`);
  console.log(`measured ${mixed.commands} mixed commands after a ${warmupShare * 100}% warm-up;`);
  console.log(`result checksum ${mixed.checksum}; ${mixed.resting} orders resting at the end`);
  console.log(
    JSON.stringify({
      bench: 'engine',
      size: small ? 'small' : 'large',
      machine: host,
      cpu_steal_pct: host.cpu_steal_pct,
      workload: workloadConfig,
      v8_flags: engineV8Flags,
      commands_per_s: Math.round(mixed.commandsPerS),
      cpu_clock: cpuClock,
      cpu_ns_per_command: Math.round(mixed.cpuNsPerCommand),
      events_per_s: Math.round(mixed.eventsPerS),
      ns_per_command_p50: mixed.nsP50,
      ns_per_command_p99: mixed.nsP99,
      ns_per_command_max: mixed.nsMax,
      orders_per_s: Math.round(orders.ordersPerS),
      orders_cpu_ns_per_command: Math.round(orders.cpuNsPerOrder),
      peer: 'nodejs-order-book@10.1.1',
      peer_orders_per_s: Math.round(peer.ordersPerS),
      ratio_vs_peer: Number(ratio.toFixed(2)),
      gc_pause_max_ms: Number(mixed.gcMaxMs.toFixed(3)),
      gc_count: mixed.gcCount,
      heap_growth_bytes: mixed.heapGrowth,
      capacity_accounts: capacity.accounts,
      capacity_orders: capacity.orders,
      capacity_memory_mb: capacity.megabytes,
      result_checksum: mixed.checksum,
    }),
  );
}

await main();
