/**
 * bench group-commit: a standby's group commit alone (src/pipeline/group-commit.ts), on a real
 * LMDB journal: entries of `--bytes` arrive at `--rate` a second (a batch of them every ms), the
 * event loop spends `--busy-us` on each (a standby's receive, MAC, decode and verify), and each
 * entry's time from add() to its status (stored) is measured. Run the same file against two
 * builds to compare them (bench/RESULTS.md).
 *
 *   node dist/bench/micro/replication/group-commit.bench.js [--small] [--rate N] [--busy-us N]
 *     [--log]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupCommit } from '../../../src/pipeline/group-commit.js';
import { closeStorage, openStorage } from '../../../src/pipeline/node.js';
import { ReplicaStore } from '../../../src/replication/replica-store.js';
import { StandbyLog } from '../../../src/replication/standby-log.js';
import { sequenceKey } from '../../../src/journal/journal-db.js';
import type { Entry } from '../../../src/replication/messages.js';
import { percentileOf } from '../../../src/stdx/percentile.js';
import * as hdr from 'hdr-histogram-js';
import { checkArgs, flag } from '../../lib/flags.js';
import { readCpuTimes, stealPercentSince } from '../../lib/cpu-steal.js';

checkArgs({
  run: 'node dist/bench/micro/replication/group-commit.bench.js',
  switches: {
    '--small': '1 s of entries (CI); else 4 s',
    '--sync': "each turn's entries in one synchronous transaction on the event loop instead",
    '--plain': "LMDB's asynchronous puts of a turn's entries alone (no cut check, no commit mark)",
    '--log': 'GroupCommit with a standby log in front of LMDB (replication/standby-log.ts)',
  },
  values: {
    '--rate': 'entries a second (1,000: a batch a ms)',
    '--bytes': 'bytes an entry (1,300: a packed batch of ~100 transfers)',
    '--busy-us': "the event loop's work per entry, µs (200)",
  },
});
const small = process.argv.includes('--small');
const rate = flag('--rate', 1_000);
const bytes = flag('--bytes', 1_300);
const busyUs = flag('--busy-us', 200, 0);
const count = Math.round(rate * (small ? 1 : 4));
const sync = process.argv.includes('--sync');
const plain = process.argv.includes('--plain');
const withLog = process.argv.includes('--log');

function spin(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-group-commit-'));
  const { db, lock } = openStorage(dir);
  const store = new ReplicaStore(db);
  const addedAt = new Float64Array(count + 1);
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 });
  let reported = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const log = withLog ? StandbyLog.open(dir) : null;
  const commit = new GroupCommit(store, log, {
    stored: (index) => {
      const now = performance.now();
      for (let i = reported + 1; i <= index; i++) histogram.recordValue((now - addedAt[i]) * 1000);
      reported = index;
      if (index === count) done();
    },
    failed: (error) => {
      throw error;
    },
    committedSequence: () => 0,
    stopped: () => false,
    writing: () => {},
  });
  const cpuAtStart = readCpuTimes();
  const payload = new Uint8Array(bytes).fill(7);
  // LMDB's write thread alone: puts, then their commit and fsync; one write in flight.
  let plainTurn: Entry[] = [];
  let plainBusy = false;
  const plainFlush = (): void => {
    if (plainBusy || plainTurn.length === 0) return;
    const writes = plainTurn;
    plainTurn = [];
    plainBusy = true;
    const puts = writes.map((w) => db.journal.put(sequenceKey(w.first), Buffer.from(w.payload)));
    void Promise.all(puts).then(() => {
      plainBusy = false;
      const now = performance.now();
      for (const w of writes) histogram.recordValue((now - addedAt[w.first]) * 1000);
      if (writes[writes.length - 1].first === count) done();
      plainFlush();
    });
  };
  const plainAdd = (e: Entry): void => {
    plainTurn.push(e);
    if (plainTurn.length === 1 && !plainBusy) setImmediate(plainFlush);
  };
  // The other way: a turn's entries written with transactionSync, its fsync on this thread.
  let turn: Entry[] = [];
  const syncAdd = (e: Entry): void => {
    turn.push(e);
    if (turn.length > 1) return;
    setImmediate(() => {
      const writes = turn;
      turn = [];
      db.journal.transactionSync(() => {
        for (const w of writes) db.journal.putSync(sequenceKey(w.first), Buffer.from(w.payload));
      });
      const now = performance.now();
      for (const w of writes) histogram.recordValue((now - addedAt[w.first]) * 1000);
      if (writes[writes.length - 1].first === count) done();
    });
  };
  const started = performance.now();
  let next = 1;
  const perMs = rate / 1000;
  const tick = (): void => {
    const due = Math.min(count, Math.floor((performance.now() - started) * perMs) + 1);
    for (; next <= due; next++) {
      spin(busyUs);
      const e: Entry = {
        term: 1,
        first: next,
        last: next,
        count: 1,
        prevHash: '',
        hash: `h${next}`,
        payload: payload.slice(),
      };
      addedAt[next] = performance.now();
      if (sync) syncAdd(e);
      else if (plain) plainAdd(e);
      else commit.add([e], next);
    }
    if (next <= count) setTimeout(tick, 1);
  };
  tick();
  await finished;
  await commit.drain();
  await commit.storeLeft(); // and closes the log
  await closeStorage(db, lock);
  rmSync(dir, { recursive: true, force: true });
  const figures = {
    bench: 'group-commit',
    cpu_steal_pct: stealPercentSince(cpuAtStart),
    size: small ? 'small' : 'large',
    rate,
    bytes,
    busy_us: busyUs,
    write: sync
      ? 'transactionSync'
      : plain
        ? 'plain puts'
        : `GroupCommit (${withLog ? 'standby log, then LMDB' : 'LMDB write thread'})`,
    entries: count,
    p50_us: percentileOf(histogram, 50),
    p99_us: percentileOf(histogram, 99),
    mean_us: Math.round(histogram.mean),
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
  };
  console.log(JSON.stringify(figures));
}

await main();
