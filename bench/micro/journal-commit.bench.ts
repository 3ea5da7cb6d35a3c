/**
 * bench:journal — what one durable journal commit costs on this machine's disk, by LMDB page
 * size, against the floor: the same bytes appended to a preallocated file with one fdatasync.
 *
 *   npm run bench:journal              3,000 commits per case (under a minute)
 *   npm run bench:journal -- --small   CI size: 200 commits per case
 *   # experiments: --commits N --batch-bytes B --reader-commits N
 *
 * Each LMDB commit is what the journal writer does (src/journal/journal-writer.ts): one batch
 * value and one time-index entry in a synchronous transaction, with the node's durability
 * options (journal-db.ts: two flushes, the pages then the meta page). A read transaction is
 * renewed every 20 commits (`--reader-commits`), as the feeder and readers do, so freed pages
 * are not reused at once. CPU is this process's (user + system) per commit; bytes are what it
 * handed to write().
 */
import {
  closeSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RootDatabase, Transaction } from 'lmdb';
import { journalPageSizeBytes } from '../../src/constants.js';
import { openEnv, sequenceKey } from '../../src/journal/journal-db.js';
import { checkArgs, flag } from '../lib/flags.js';
import { machine, machineLine, printTable } from '../lib/table.js';
import { removeOnExit } from '../lib/bench-exit.js';

checkArgs({
  run: 'npm run bench:journal --',
  switches: { '--small': 'the CI size: 200 commits a case (3,000)' },
  values: {
    '--commits': 'timed commits a case',
    '--batch-bytes': 'bytes a commit (33,000)',
    '--reader-commits': 'commits a read transaction lives (20)',
  },
});
const small = process.argv.includes('--small');
const commits = flag('--commits', small ? 200 : 3_000);
/** A batch of ~260 events of 128 bytes: bench:replicated's batches at ~260k commands/s. */
const batchBytes = flag('--batch-bytes', 33_000);
/** Commits a read transaction lives (1,500: a long reader, as a slow subscriber could be). */
const readerCommits = flag('--reader-commits', 20);
/** Commits before the timed ones (the file grows, V8 compiles). */
const warmup = Math.ceil(commits / 6);
/**
 * Commits between two turns of the event loop, outside the timed commits: a Ctrl-C is heard
 * there (the signal's handler removes the folder). A loop of commits with no turn left the
 * folder behind (the default action) or, with a handler, would hear it only at the end.
 */
const commitsPerTurn = 16;

/** Lets the event loop run once (signal handlers, then back). */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Case {
  name: string;
  p50_us: number;
  p99_us: number;
  max_us: number;
  cpu_us: number;
  sys_us: number;
  written_kb: number;
}

function bytesWritten(): number {
  const line = readFileSync('/proc/self/io', 'utf8').match(/^wchar: (\d+)$/m);
  return Number(line?.[1] ?? 0);
}

/** Times `commit` after the warm-up: latency percentiles, CPU and bytes written per commit. */
async function timeCommits(name: string, commit: (i: number) => void): Promise<Case> {
  for (let i = 0; i < warmup; i++) {
    if (i % commitsPerTurn === 0) await turn();
    commit(i);
  }
  const latency = new Float64Array(commits);
  const cpu = process.cpuUsage();
  const written = bytesWritten();
  for (let i = 0; i < commits; i++) {
    if (i % commitsPerTurn === 0) await turn(); // a few µs in 16 commits' CPU: not in latency
    const t = performance.now();
    commit(warmup + i);
    latency[i] = (performance.now() - t) * 1000;
  }
  const used = process.cpuUsage(cpu);
  latency.sort();
  return {
    name,
    p50_us: Math.round(latency[commits >> 1]),
    p99_us: Math.round(latency[Math.floor(commits * 0.99)]),
    max_us: Math.round(latency[commits - 1]),
    cpu_us: Math.round((used.user + used.system) / commits),
    sys_us: Math.round(used.system / commits),
    written_kb: Math.round((bytesWritten() - written) / commits / 1024),
  };
}

async function lmdbCase(dir: string, pageSize: number, value: Buffer): Promise<Case> {
  const root: RootDatabase = openEnv(join(dir, `journal-${pageSize}.mdb`), false, pageSize);
  const binary = { keyEncoding: 'binary', encoding: 'binary' } as const;
  const journal = root.openDB<Buffer, Buffer>('journal', binary);
  const timeIndex = root.openDB<Buffer, Buffer>('time-index', binary);
  const empty = Buffer.alloc(0);
  let reader: Transaction | null = null;
  const result = await timeCommits(`LMDB, ${pageSize / 1024} KB pages`, (i) => {
    if (i % readerCommits === 0) {
      reader?.done();
      reader = root.useReadTransaction();
      journal.get(sequenceKey(0), { transaction: reader });
    }
    const key = sequenceKey(1 + i * 256);
    root.transactionSync(() => {
      journal.putSync(key, value);
      timeIndex.putSync(Buffer.concat([key, key]), empty);
    });
  });
  (reader as Transaction | null)?.done();
  void root.close();
  return result;
}

/** The floor: the batch written into a zero-filled file (no metadata changes), then fdatasync. */
async function fileCase(dir: string, value: Buffer): Promise<Case> {
  const fd = openSync(join(dir, 'append.log'), 'w+');
  const step = Math.ceil(value.length / 4096) * 4096;
  const fileBytes = step * (warmup + commits);
  const zeros = Buffer.alloc(1 << 20);
  for (let at = 0; at < fileBytes; at += zeros.length) writeSync(fd, zeros, 0, zeros.length, at);
  fdatasyncSync(fd);
  const result = await timeCommits('preallocated file, one fdatasync', (i) => {
    writeSync(fd, value, 0, value.length, i * step);
    fdatasyncSync(fd);
  });
  closeSync(fd);
  return result;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-journal-bench-'));
  removeOnExit(dir); // on any exit (Ctrl-C: then 130) the folder goes (13 MB at the CI size)
  const value = Buffer.alloc(batchBytes, 0x5a);
  const cases: Case[] = [];
  try {
    for (const pageSize of [4_096, 16_384, 65_536])
      cases.push(await lmdbCase(dir, pageSize, value));
    cases.push(await fileCase(dir, value));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const host = await machine();
  printTable(
    `bench:journal (${small ? 'small' : 'default'}): ${commits} commits of ${batchBytes} bytes ` +
      `each, a reader renewed every ${readerCommits}; journal pages ` +
      `${journalPageSizeBytes / 1024} KB; ${machineLine(host)}`,
    cases.map((c) => ({
      case: c.name,
      'p50 µs': c.p50_us,
      'p99 µs': c.p99_us,
      'max µs': c.max_us,
      'CPU µs/commit': c.cpu_us,
      'of which system': c.sys_us,
      'KB written/commit': c.written_kb,
    })),
  );
  const figures = {
    bench: 'journal',
    size: small ? 'small' : 'default',
    cpu_steal_pct: host.cpu_steal_pct,
    commits,
    batch_bytes: batchBytes,
    reader_commits: readerCommits,
    journal_page_bytes: journalPageSizeBytes,
    cases,
    machine: host,
  };
  console.log(JSON.stringify(figures));
}

await main();
