/**
 * bench standby-log-floor: the floor of a standby's durable write, one at a time, alternated:
 * an LMDB commit of one entry of `--bytes` (ReplicaStore.writeMany: its pages, then its meta
 * page, two flushes) against an append of the same entry to the standby log (one `O_DSYNC`
 * write, replication/standby-log.ts), `--count` of each, in one folder on the data disk.
 *
 *   node dist/bench/micro/replication/standby-log-floor.bench.js [--small] [--bytes N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeStorage, openStorage } from '../../../src/pipeline/node.js';
import { ReplicaStore } from '../../../src/replication/replica-store.js';
import { StandbyLog } from '../../../src/replication/standby-log.js';
import type { Entry } from '../../../src/replication/messages.js';
import { percentileOf } from '../../../src/stdx/percentile.js';
import * as hdr from 'hdr-histogram-js';
import { checkArgs, flag } from '../../lib/flags.js';
import { readCpuTimes, stealPercentSince } from '../../lib/cpu-steal.js';
import { machine, machineLine, printTable } from '../../lib/table.js';

checkArgs({
  run: 'node dist/bench/micro/replication/standby-log-floor.bench.js',
  switches: { '--small': '50 writes of each (CI); else --count' },
  values: {
    '--bytes': 'bytes an entry (4,096)',
    '--count': 'writes of each kind (400)',
  },
});
const small = process.argv.includes('--small');
const bytes = flag('--bytes', 4_096);
const count = small ? 50 : flag('--count', 400);

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-log-floor-'));
  const { db, lock } = openStorage(dir);
  const store = new ReplicaStore(db);
  const log = StandbyLog.open(dir);
  const lmdb = histogram();
  const appended = histogram();
  const cpuAtStart = readCpuTimes();
  const payload = new Uint8Array(bytes).fill(7);
  for (let i = 1; i <= count; i++) {
    const e: Entry = { term: 1, first: i, last: i, count: 1, prevHash: '', hash: '', payload };
    let at = performance.now();
    await store.writeMany([[e]], 0);
    lmdb.recordValue((performance.now() - at) * 1000);
    at = performance.now();
    if (!log.fits(StandbyLog.sizeOf([[e]]))) log.wrap();
    await log.append([[e]], 0);
    appended.recordValue((performance.now() - at) * 1000);
  }
  log.close();
  await closeStorage(db, lock);
  rmSync(dir, { recursive: true, force: true });
  const figures = {
    bench: 'standby-log-floor',
    cpu_steal_pct: stealPercentSince(cpuAtStart),
    size: small ? 'small' : 'large',
    bytes,
    writes: count,
    lmdb_commit_p50_us: percentileOf(lmdb, 50),
    lmdb_commit_p99_us: percentileOf(lmdb, 99),
    log_append_p50_us: percentileOf(appended, 50),
    log_append_p99_us: percentileOf(appended, 99),
  };
  console.log(machineLine(await machine()));
  printTable(`one durable write at a time, ${bytes.toLocaleString('en-US')} bytes, µs`, [
    {
      write: 'LMDB commit (writeMany)',
      p50: figures.lmdb_commit_p50_us,
      p99: figures.lmdb_commit_p99_us,
    },
    {
      write: 'standby log append (O_DSYNC)',
      p50: figures.log_append_p50_us,
      p99: figures.log_append_p99_us,
    },
  ]);
  console.log(JSON.stringify(figures));
}

await main();
