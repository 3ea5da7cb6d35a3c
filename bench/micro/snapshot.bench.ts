/**
 * bench:snapshot — what one snapshot costs: its stored bytes, the time to write it to
 * snapshots.mdb and the time to load it back into a fresh engine (restore and the checksum
 * scan a start does), for an empty engine and one in use, at the default and large capacities.
 *
 *   npm run bench:snapshot              default and large capacities
 *   npm run bench:snapshot -- --small   CI size: default capacities, 2,000 accounts
 *   # experiments: --accounts N --orders N
 *
 * The engine in use is filled through real commands: `--accounts` accounts (half with ids
 * below the account capacity, held by index, half with large ids, held in the hash map), each
 * funded, and `--orders` resting orders on one instrument (bids below 5000, asks above).
 *
 * First the snapshotter's step, which the replica waits for: encoding the state into a shared
 * buffer of the state's size (encodeBody, `encode_*`), beside what it did before, a copy of
 * every used byte into one (`copy_*`): each into a fresh buffer (the first snapshot: its pages
 * fault in; the node touches them ahead, a few per turn), then again into the same one, and
 * the process's RSS growth over the first. Then the write from that body, without the node's
 * pacing between chunks (paceMs 0): hashing and LMDB. The load is Replica.tryLoad's: read,
 * check, restore and the state checksum scan.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Engine } from '../../src/engine/engine.js';
import { engineConfigDefault, type EngineConfig } from '../../src/constants.js';
import { RecordBuffer } from '../../src/stdx/records.js';
import { CommandKind, CommandFlag, SequencedWord } from '../../src/protocol/command-layout.js';
import { EventWord } from '../../src/protocol/event-layout.js';
import {
  stampCommand,
  writeCommand,
  type CommandFields,
} from '../../src/protocol/command-writer.js';
import { closeJournalDb, openJournalDb, snapshotFile } from '../../src/journal/journal-db.js';
import { writeSnapshotBody } from '../../src/journal/snapshot-store.js';
import { bodyBytesMax, encodeBody } from '../../src/journal/snapshot-body.js';
import { Replica } from '../../src/pipeline/replay.js';
import { basesOf, usedSizes, type StateImage } from '../../src/stdx/state-image.js';
import { checkArgs, flag } from '../lib/flags.js';
import { machine, machineLine, printTable } from '../lib/table.js';
import { removeOnExit } from '../lib/bench-exit.js';

checkArgs({
  run: 'npm run bench:snapshot --',
  switches: { '--small': 'the CI size: default capacities, 2,000 accounts, 4,000 orders' },
  values: {
    '--accounts': 'accounts in the engine in use (100,000)',
    '--orders': 'resting orders in the engine in use (200,000)',
  },
});
const small = process.argv.includes('--small');
const accounts = flag('--accounts', small ? 2_000 : 100_000);
const orders = flag('--orders', small ? 4_000 : 200_000);

/** The large capacities: 16M accounts, 4M orders (`bourse start --accounts-max ...`). */
const largeConfig: EngineConfig = {
  ...engineConfigDefault,
  accountCountMax: 1 << 24,
  orderCountMax: 1 << 22,
  levelCountMax: 1 << 20,
  pendingCountMax: 1 << 20,
  clientCountMax: 1 << 16,
};

/** Executes commands on an engine, one at a time, as client 1. */
class Feeder {
  private readonly cmd = RecordBuffer.allocate(1, SequencedWord.size * 4);
  private readonly out: RecordBuffer;
  sequence = 0;
  private clientSeq = 0;

  constructor(readonly engine: Engine) {
    this.out = RecordBuffer.allocate(engine.eventsPerCommandMax, EventWord.size * 4);
  }

  exec(fields: Omit<CommandFields, 'clientId' | 'clientSeq'>): void {
    writeCommand(this.cmd.u32, 0, { clientId: 1, clientSeq: ++this.clientSeq, ...fields });
    this.sequence++;
    stampCommand(this.cmd.u32, 0, this.sequence, 1_700_000_000_000_000 + this.sequence);
    this.engine.execute(this.cmd.u32, 0, this.out, 0);
  }
}

/** Fills `engine` with `accountCount` funded accounts and `orderCount` resting orders. */
function fill(feeder: Feeder, accountCount: number, orderCount: number): void {
  const x = feeder;
  x.exec({ kind: CommandKind.AddAsset, ref: 1, aux: 2 });
  x.exec({ kind: CommandKind.AddAsset, ref: 2, aux: 2 });
  x.exec({ kind: CommandKind.AddInstrument, ref: 1, target: 2, aux: 1, price: 1, quantity: 1 });
  const ids: number[] = [];
  for (let a = 1; a <= accountCount; a++) {
    const id = a % 2 === 0 ? a : 1_000_000_000_007 + a * 7_919; // half in the hash map
    ids.push(id);
    x.exec({ kind: CommandKind.CreateAccount, account: id });
    x.exec({ kind: CommandKind.Deposit, account: id, ref: 1, quantity: 1e9 });
    x.exec({ kind: CommandKind.Deposit, account: id, ref: 2, quantity: 1e9 });
  }
  for (let i = 0; i < orderCount; i++) {
    const sell = (i & 1) === 1;
    x.exec({
      kind: CommandKind.PlaceOrder,
      account: ids[i % ids.length],
      ref: 1,
      flags: sell ? CommandFlag.Sell : 0,
      price: sell ? 5001 + (i % 4000) : 4999 - (i % 4000),
      quantity: 1,
    });
  }
}

interface Row extends Record<string, string | number> {
  case: string;
  state_used_mb: number;
  stored_kb: number;
  copy_ms: number;
  copy_again_ms: number;
  copy_rss_mb: number;
  encode_ms: number;
  encode_again_ms: number;
  encode_rss_mb: number;
  file_mb: number;
  write_ms: number;
  load_ms: number;
}

/** Writes a snapshot of `feeder`'s engine and loads it back into a fresh one. */
async function measure(name: string, config: EngineConfig, feeder: Feeder): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-bench-snapshot-'));
  removeOnExit(dir);
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    // Creating wrote the schema asynchronously: closing before it is done blocks for good.
    await db.root.committed;
    await db.root.flushed;
    const image = feeder.engine.image();
    const fields = {
      sequence: feeder.sequence,
      timestamp: 0,
      batchHash: '00',
      config,
      stateChecksum: feeder.engine.checksum.hex(),
    };
    const copy = step(() => copyUsed(image, stateBuffer(image)));
    const target = new Uint8Array(stateBuffer(image));
    const encode = step(() => encodeBody(target, image));
    const copyAgain = step(() => copyUsed(image, copy.buffer));
    const encoded = encodeBody(target, image);
    const encodeAgain = step(() => encodeBody(target, image));
    const body = {
      ...encoded,
      bytes: target,
      counters: [...image.counters],
      bases: basesOf(image),
    };
    const started = performance.now();
    const header = writeSnapshotBody(db, fields, body, 1, 0);
    const write_ms = performance.now() - started;
    if (header === null) throw new Error('bench: the snapshot was not written');
    const replica = new Replica(config);
    const loading = performance.now();
    const reason = replica.tryLoad(db, header);
    const load_ms = performance.now() - loading;
    if (reason !== null) throw new Error(`bench: the snapshot did not load: ${reason}`);
    if (replica.engine.checksum.hex() !== feeder.engine.checksum.hex()) {
      throw new Error('bench: the loaded state differs');
    }
    await closeJournalDb(db);
    let stored = 0;
    for (const entry of header.arrays) stored += entry[1];
    let used = 0;
    for (const n of usedSizes(image)) used += n;
    return {
      case: name,
      state_used_mb: mb(used),
      stored_kb: Math.round(stored / 1024),
      copy_ms: copy.ms,
      copy_again_ms: copyAgain.ms,
      copy_rss_mb: copy.rssMb,
      encode_ms: encode.ms,
      encode_again_ms: encodeAgain.ms,
      encode_rss_mb: encode.rssMb,
      file_mb: mb(statSync(snapshotFile(dir)).size),
      write_ms: Math.round(write_ms),
      load_ms: Math.round(load_ms),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A buffer for every used byte. (The snapshotter's holds each array whole, at 8-byte aligned
 * offsets; past 4 GiB, as the large capacities' 5.4 GiB, no Uint8Array spans it.)
 */
function stateBuffer(image: StateImage): SharedArrayBuffer {
  return new SharedArrayBuffer(bodyBytesMax(image));
}

/** The snapshotter's step before encodeBody: every array's used bytes copied into `state`. */
function copyUsed(image: StateImage, state: SharedArrayBuffer): SharedArrayBuffer {
  const used = usedSizes(image);
  const target = new Uint8Array(state);
  let at = 0;
  for (let i = 0; i < image.arrays.length; i++) {
    const a = image.arrays[i];
    target.set(new Uint8Array(a.buffer, a.byteOffset, used[i]), at);
    at += used[i];
  }
  return state;
}

/** Times `run` and the growth of the process's resident memory over it. */
function step<T>(run: () => T): { ms: number; rssMb: number; buffer: T } {
  const rss = process.memoryUsage.rss();
  const started = performance.now();
  const buffer = run();
  const ms = Math.round(performance.now() - started);
  return { ms, rssMb: Math.round(mb(process.memoryUsage.rss() - rss)), buffer };
}

function mb(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 1000) / 1000;
}

const configs: [string, EngineConfig][] = small
  ? [['default', engineConfigDefault]]
  : [
      ['default', engineConfigDefault],
      ['large', largeConfig],
    ];
const rows: Row[] = [];
for (const [label, config] of configs) {
  rows.push(await measure(`${label}, empty`, config, new Feeder(new Engine(config))));
  const feeder = new Feeder(new Engine(config));
  fill(feeder, accounts, orders);
  rows.push(await measure(`${label}, ${accounts} accounts ${orders} orders`, config, feeder));
}
const host = await machine();
console.log(machineLine(host));
printTable('snapshot: stored bytes, write and load times', rows);
const hash = createHash('sha256');
for (const row of rows) hash.update(`${row.case}:${row.stored_kb}`);
const figures = {
  bench: 'snapshot',
  size: small ? 'small' : 'default',
  cpu_steal_pct: host.cpu_steal_pct,
  accounts,
  orders,
  rows,
  result_hash: hash.digest('hex').slice(0, 16),
  machine: host,
};
console.log(JSON.stringify(figures));
