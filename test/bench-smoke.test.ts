/**
 * Benches cannot rot (STYLE rule 17): every bench runs here in its small size and must end with
 * one JSON line carrying its figures. No figure is judged here: speed lives in the benches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BourseNode } from '../src/pipeline/node.js';
import { engineConfigDefault } from '../src/constants.js';
import { singleNodeMode } from '../bench/lib/modes.js';
import { transportCounters } from '../bench/lib/transport-counters.js';

const dist = join(new URL('.', import.meta.url).pathname, '..');

function lastJson(script: string, args: string[]): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--expose-gc', join(dist, script), ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const lines = out.trim().split('\n');
  const figures = JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
  assertSteal(figures);
  return figures;
}

/** Every bench says how much CPU the host took away during its run (bench/lib/cpu-steal.ts). */
function assertSteal(figures: Record<string, unknown>): void {
  const steal = figures.cpu_steal_pct;
  assert.ok(steal !== undefined, 'the figures carry cpu_steal_pct');
  if (steal === null) return; // no /proc/stat on this system
  assert.ok(typeof steal === 'number' && steal >= 0 && steal <= 100, `steal ${steal}%`);
}

test('bench:engine --small runs and reports every figure the issue asks for', () => {
  const figures = lastJson('bench/macro/engine.bench.js', ['--small']);
  for (const key of [
    'bench',
    'commands_per_s',
    'cpu_ns_per_command',
    'orders_cpu_ns_per_command',
    'peer_orders_per_s',
    'ratio_vs_peer',
    'gc_pause_max_ms',
    'heap_growth_bytes',
    'events_per_s',
    'capacity_memory_mb',
    'result_checksum',
  ]) {
    assert.ok(key in figures, `missing ${key}`);
  }
  assert.equal(figures.bench, 'engine');
  assert.equal(typeof figures.commands_per_s, 'number');
  assert.ok((figures.commands_per_s as number) > 0);
  // CPU time a command, on this thread's clock where Linux gives it (lib/thread-cpu.ts).
  assert.equal(figures.cpu_clock, process.platform === 'linux' ? 'thread' : 'process');
  for (const key of ['cpu_ns_per_command', 'orders_cpu_ns_per_command']) {
    const ns = figures[key] as number;
    assert.ok(Number.isInteger(ns) && ns > 0, `${key} ${ns}`);
  }
});

test('bench:engine-worst --small times every worst case within its bound of events', () => {
  const figures = lastJson('bench/macro/engine-worst.bench.js', ['--small']);
  assert.equal(figures.bench, 'engine-worst');
  const config = figures.config as Record<string, number>;
  const cases = figures.cases as { name: string; count: number; events_max: number }[];
  assert.equal(cases.length, 9);
  for (const c of cases) {
    assert.ok(c.count > 0, `${c.name}: measured`);
    // One command's events: at most an order's fills and its head and expiry.
    assert.ok(c.events_max <= config.fillsPerCommandMax + 2, `${c.name}: ${c.events_max} events`);
  }
});

interface BenchReport {
  command: string;
  machine: { cores: number };
  figures: Record<string, unknown>;
  latency: { unit: string; points: { percentile: number; value: number }[] };
}

/** `bourse bench <scenario> --small`: its last line, and the report and plot it wrote. */
function viaBourse(scenario: string): {
  figures: Record<string, unknown>;
  report: BenchReport;
  svg: string;
} {
  const out = mkdtempSync(join(tmpdir(), 'bourse-bench-out-'));
  try {
    const main = join(dist, 'src/main.js');
    const stdout = execFileSync(
      process.execPath,
      [main, 'bench', scenario, '--small', '--out', out],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    const lines = stdout.trim().split('\n');
    const report = JSON.parse(readFileSync(join(out, `${scenario}-small.json`), 'utf8'));
    const svg = readFileSync(join(out, `${scenario}-small.svg`), 'utf8');
    return { figures: JSON.parse(lines[lines.length - 1]), report, svg };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test('bench:pipeline --small runs (through bourse bench) and reports every figure', () => {
  const { figures, report, svg } = viaBourse('pipeline');
  assert.deepEqual(report.figures, figures, 'the report holds the JSON line');
  assert.equal(report.command, 'bourse bench pipeline --small');
  assert.ok(report.machine.cores >= 1);
  const points = report.latency.points;
  assert.equal(report.latency.unit, 'us');
  assert.ok(points.length > 20, 'the curve has points');
  for (let i = 1; i < points.length; i++) {
    assert.ok(points[i].value >= points[i - 1].value, 'latency grows with the percentile');
  }
  // ...at the max, within the histogram's 3 significant digits (the encoding keeps buckets).
  const max = figures.max_us as number;
  const end = points[points.length - 1].value;
  assert.ok(end >= max && end <= max * 1.001, 'the curve ends at the max');
  assert.match(svg, /<path d="M[\d.]+,[\d.]+ L/);
  assert.match(svg, />99\.9%</);
  for (const key of [
    'bench',
    'commands_per_s',
    'p50_us',
    'p99_us',
    'p999_us',
    'open_loop_rate',
    'open_loop_answered_per_s',
    'replay_events_per_s',
    'restart_ms',
    'gc_pause_max_ms',
  ]) {
    assert.ok(key in figures, `missing ${key}`);
  }
  assert.equal(figures.bench, 'pipeline');
  assert.equal(figures.mode, singleNodeMode, 'one node, no replication: said');
  assertSteal(figures);
  assert.ok((figures.commands_per_s as number) > 0);
  assert.equal(figures.latency_samples, (figures.open_loop_rate as number) * 2, 'every command');
  assert.equal(figures.replay_events, figures.journaled_events, 'replay reads everything');
  assert.ok((figures.p999_us as number) <= (figures.max_us as number), 'p99.9 within the max');
});

test('bench:reconnect-storm --small runs and reports its figures', () => {
  const figures = lastJson('bench/macro/reconnect-storm.bench.js', ['--small']);
  assert.equal(figures.bench, 'reconnect-storm');
  assert.equal(figures.clients, 1_000);
  for (const key of ['grace_ms', 'connect_ms', 'restart_ms', 'back_50pct_ms', 'back_100pct_ms']) {
    assert.ok(key in figures, `missing ${key}`);
  }
  for (const key of ['sdk_reconnected', 'marked', 'back_in_time', 'not_back', 'storm_losses']) {
    assert.ok(key in figures, `missing ${key}`);
  }
});

test('bench:e2e --small runs and reports every figure the issue asks for', () => {
  const figures = lastJson('bench/macro/e2e.bench.js', ['--small', '--seconds', '1']);
  for (const key of [
    'bench',
    'commands_per_s',
    'open_loop_rate',
    'open_loop_answered_per_s',
    'p50_us',
    'p99_us',
    'p999_us',
    'connections',
  ]) {
    assert.ok(key in figures, `missing ${key}`);
  }
  assert.equal(figures.bench, 'e2e');
  assert.equal(figures.mode, singleNodeMode, 'one node, no replication: said');
  assert.ok((figures.commands_per_s as number) > 0);
  assert.equal(figures.rejected, 0, 'every transfer is funded');
  // A drop would resend, and a resend past the idempotency window is refused (the uWS bug).
  assert.equal(figures.client_reconnects, 0, 'no client connection dropped');
  assert.equal(figures.client_malformed_frames, 0, 'every frame from the node well formed');
  assert.equal(figures.idle_connections, 1_000, 'every idle session opened');
  assert.equal(figures.latency_samples, figures.open_loop_rate, 'every command (1 s)');
  // The clients' own collections while they measured (a pausing client is not the node).
  const gcCount = figures.open_client_gc_count as number;
  const gcMaxMs = figures.open_client_gc_max_ms as number;
  assert.ok(Number.isInteger(gcCount) && gcCount >= 0, 'client collections counted');
  assert.ok(gcMaxMs >= 0 && gcCount > 0 === gcMaxMs > 0, 'the longest pause goes with the count');
});

test('bench:fuzz --small runs, and the node survives every frame', () => {
  const figures = lastJson('bench/fuzz/protocol.fuzz.js', ['--small']);
  assert.equal(figures.bench, 'fuzz');
  assert.ok((figures.verifier_frames as number) > 0);
  assert.ok((figures.live_frames as number) > 0);
  assert.ok((figures.http_requests as number) > 0, 'random HTTP requests were sent');
  assert.equal(figures.node_survived, true);
});

test('bench:simulation --small soaks every fault mix, and every seed keeps history', () => {
  const figures = lastJson('bench/soak/simulation.bench.js', ['--small']);
  assert.equal(figures.bench, 'simulation');
  const mixes = figures.mixes as { mix: string; seeds: number; failed: number }[];
  assert.deepEqual(
    mixes.map((m) => m.mix),
    [
      ...['ci', 'misdeliver', 'hostile', 'pauses', 'chaos'],
      ...['clocks', 'disks', 'flapping', 'partitions', 'primary-pauses', 'storm'],
      ...['lost-disks', 'held-random', 'held', 'held-others', 'held-votes'],
      ...['standby-log', 'held-timeouts', 'group-commit'],
    ],
  );
  for (const m of mixes) assert.equal(m.seeds, 100, m.mix);
  assert.equal(figures.failed, 0);
});

test('bench:journal --small times commits at each LMDB page size and the file floor', () => {
  const figures = lastJson('bench/micro/journal-commit.bench.js', ['--small']);
  assert.equal(figures.bench, 'journal');
  const cases = figures.cases as Array<Record<string, number | string>>;
  assert.deepEqual(
    cases.map((c) => c.name),
    [
      'LMDB, 4 KB pages',
      'LMDB, 16 KB pages',
      'LMDB, 64 KB pages',
      'preallocated file, one fdatasync',
    ],
  );
  for (const c of cases) {
    for (const key of ['p50_us', 'p99_us', 'max_us', 'cpu_us', 'sys_us', 'written_kb']) {
      assert.equal(typeof c[key], 'number', `${c.name}: ${key}`);
    }
    assert.ok((c.p50_us as number) > 0 && (c.written_kb as number) > 0, `${c.name} wrote`);
  }
});

test('bench:snapshot --small writes and loads back an empty engine and one in use', () => {
  const figures = lastJson('bench/micro/snapshot.bench.js', ['--small']);
  assert.equal(figures.bench, 'snapshot');
  assert.equal(figures.size, 'small');
  const rows = figures.rows as Array<Record<string, number | string>>;
  assert.deepEqual(
    rows.map((r) => r.case),
    ['default, empty', 'default, 2000 accounts 4000 orders'],
  );
  for (const r of rows) {
    for (const key of ['state_used_mb', 'stored_kb', 'file_mb', 'write_ms', 'load_ms']) {
      assert.equal(typeof r[key], 'number', `${r.case}: ${key}`);
    }
  }
});

test('bench datagram-checksum --small times each checksum on the same datagrams', () => {
  const figures = lastJson('bench/micro/replication/datagram-checksum.bench.js', ['--small']);
  assert.equal(figures.bench, 'datagram-checksum');
  assert.equal(figures.size, 'small');
  const cases = figures.cases as Array<{ name: string; ns_per_datagram: number; hash: number }>;
  assert.deepEqual(
    cases.map((c) => c.name),
    ['zlib.crc32 (native CRC-32)', 'JS CRC-32C slice-by-8', 'JS FNV-1a by word (weak)'],
  );
  for (const c of cases) assert.ok(c.ns_per_datagram > 0 && Number.isInteger(c.hash), c.name);
});

test('bench datagram-mac --small times each way to make the MAC, at both sizes', () => {
  const figures = lastJson('bench/micro/replication/datagram-mac.bench.js', ['--small']);
  assert.equal(figures.bench, 'datagram-mac');
  const cases = figures.cases as Array<Record<string, unknown>>;
  assert.ok(cases.length > 0, 'cases measured');
  for (const c of cases) {
    for (const key of ['ns_small', 'ns_large']) {
      const ns = c[key];
      assert.ok(typeof ns === 'number' && ns > 0, `${String(c.name)} ${key} ${String(ns)}`);
    }
  }
});

test('bench book-views --small times the board against postMessage a view', () => {
  const figures = lastJson('bench/micro/book-views.bench.js', ['--small']);
  assert.equal(figures.bench, 'book-views');
  assert.equal(typeof figures.result_hash, 'number');
  const cases = figures.cases as Array<Record<string, unknown>>;
  assert.equal(cases.length, 2, 'the board and postMessage');
  for (const c of cases) {
    const ns = c.ns_per_view;
    assert.ok(typeof ns === 'number' && ns > 0, `${String(c.name)} ${String(ns)}`);
  }
});

test('bench cancel-reports --small drops the oldest ended report at every begin', () => {
  const figures = lastJson('bench/micro/cancel-reports.bench.js', ['--small']);
  assert.equal(figures.bench, 'cancel-reports');
  assert.equal(figures.result_hash, 20_001, '2,000 dropped, the first kept told Canceled');
  for (const key of ['firstUs', 'lastUs', 'meanUs']) {
    const us = figures[key];
    assert.ok(typeof us === 'number' && us > 0, key);
  }
});

test('bench nak-repair --small counts NAKs and resends in each scenario of trouble', () => {
  const figures = lastJson('bench/micro/replication/nak-repair.bench.js', ['--small']);
  assert.equal(figures.bench, 'nak-repair');
  const cases = figures.cases as Array<Record<string, unknown>>;
  const names = ['silent sender', 'resends lost', 'loss 5%', 'loss 10%'];
  assert.deepEqual(
    cases.map((c) => c.name),
    names,
  );
  const keys = ['naks', 'nak_windows_full', 'resent', 'resends_coalesced', 'datagrams', 'ms'];
  for (const c of cases) for (const key of keys) assert.equal(typeof c[key], 'number', key);
  assert.ok((cases[0].naks as number) > 0, 'the silent sender was NAKed');
});

test('bench datagram-size --small sends entries at each datagram size, in fewer datagrams', () => {
  const figures = lastJson('bench/micro/replication/datagram-size.bench.js', ['--small']);
  assert.equal(figures.bench, 'datagram-size');
  const cases = figures.cases as Array<Record<string, number>>;
  assert.deepEqual(
    cases.map((c) => c.chunk_bytes),
    [1384, 8932, 65467],
  );
  const keys = ['cpu_us_per_entry', 'datagrams_per_entry', 'naks', 'resent', 'lost', 'ms'];
  for (const c of cases) for (const key of keys) assert.equal(typeof c[key], 'number', key);
  assert.deepEqual(
    cases.map((c) => c.datagrams_per_entry),
    [10, 2, 1],
  );
});

test('bench group-commit --small times each entry to its status, each way of writing', () => {
  for (const way of [[], ['--sync'], ['--plain'], ['--log']]) {
    const figures = lastJson('bench/micro/replication/group-commit.bench.js', ['--small', ...way]);
    assert.equal(figures.bench, 'group-commit');
    assert.equal(figures.entries, 1_000, 'every entry reported stored');
    assert.ok((figures.p50_us as number) > 0 && (figures.p99_us as number) >= 0, String(way));
  }
});

test('bench standby-log-floor --small times an LMDB commit and a log append alike', () => {
  const figures = lastJson('bench/micro/replication/standby-log-floor.bench.js', ['--small']);
  assert.equal(figures.bench, 'standby-log-floor');
  assert.equal(figures.writes, 50);
  for (const key of ['lmdb_commit', 'log_append']) {
    assert.ok((figures[`${key}_p50_us`] as number) > 0, key);
    assert.ok((figures[`${key}_p99_us`] as number) >= (figures[`${key}_p50_us`] as number), key);
  }
});

test('bench:replicated --small runs three member processes and reports every figure', () => {
  const figures = lastJson('bench/macro/replicated.bench.js', ['--small', '--seconds', '1']);
  for (const key of ['bench', 'commands_per_s', 'p50_us', 'p99_us', 'p999_us', 'standbys']) {
    assert.ok(key in figures, `missing ${key}`);
  }
  assert.equal(figures.bench, 'replicated');
  assert.equal(figures.standbys, 2);
  assert.equal(figures.mode, 'quorum: durable on 2 of 3 members before each result');
  assert.ok((figures.commands_per_s as number) > 0);
  assert.equal(figures.rejected, 0, 'every transfer is funded');
  assert.equal(figures.client_reconnects, 0, 'no client connection dropped');
  assert.equal(figures.latency_samples, figures.open_loop_rate, 'every command (1 s)');
  for (const role of ['primary', 'standby']) {
    const all = figures[`cpu_us_per_command_${role}`] as number;
    const batch = figures[`batch_cpu_us_per_command_${role}`] as number;
    assert.ok(all > 0 && batch > 0, `${role}: CPU over the run and in the batched phase`);
  }
  // The breakdown: every stage timed in both open loops ([mean, p50, p99] µs).
  for (const key of ['stages_us', 'batch_stages_us']) {
    const stages = figures[key] as Record<string, number[]>;
    for (const [stage, [mean]] of Object.entries(stages)) assert.ok(mean >= 0, `${key}.${stage}`);
    assert.ok(stages.proposed_to_commit[0] > 0, `${key}: commits timed`);
  }
  // The open loop's slowest commands, found in the members' rows (stage-rows.ts), by stage.
  assert.ok((figures.open_tail_stage_found as number) > 0, 'the tail found in the rows');
  for (const stage of ['hop', 'to_standby', 'standby_write', 'status', 'to_result', 'whole']) {
    assert.equal(typeof figures[`open_tail_stage_${stage}_p50_us`], 'number', stage);
  }
  // The transport's counters, read from the members' /metrics after the load, by role.
  for (const [name] of transportCounters) {
    for (const role of ['primary', 'standbys']) {
      const v = figures[`repl_${name}_${role}`];
      assert.ok(typeof v === 'number' && Number.isInteger(v) && v >= 0, `repl_${name}_${role}`);
    }
  }
  for (const key of ['datagrams_sent', 'datagrams_received']) {
    assert.ok((figures[`repl_${key}_primary`] as number) > 0, `${key}: the primary's`);
    assert.ok((figures[`repl_${key}_standbys`] as number) > 0, `${key}: the standbys'`);
  }
});

test('bench:peer-postgres --small runs both peers, and each holds the no-overdraft rule', () => {
  const figures = lastJson('bench/peers/postgres-transfers.js', ['--small']);
  for (const key of [
    'bench',
    'postgres_transfers_per_s',
    'bourse_transfers_per_s',
    'ratio',
    'transfers',
    'stream_checksum',
    'machine',
  ]) {
    assert.ok(key in figures, `missing ${key}`);
  }
  assert.equal(figures.bench, 'peer-postgres');
  for (const side of ['postgres', 'bourse']) {
    assert.ok((figures[`${side}_transfers_per_s`] as number) > 0);
    assert.equal(figures[`${side}_conserved`], true, `${side}: balances conserved`);
    assert.equal(figures[`${side}_no_negative`], true, `${side}: no negative balance`);
    assert.equal(figures[`${side}_failed`], 0, `${side}: no transfer failed otherwise`);
    assert.ok((figures[`${side}_rejected`] as number) > 0, `${side}: the stream overdraws`);
  }
});

test('bench:remote --small against a node started here: its load and the mode', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-remote-smoke-'));
  const node = await BourseNode.start({
    dataDir: dir,
    config: { ...engineConfigDefault, accountCountMax: 1_016 },
    gateway: { host: '127.0.0.1', port: 0 },
  });
  try {
    const url = `ws://127.0.0.1:${node.gateway?.port}/`;
    const script = join(dist, 'bench/macro/remote.bench.js');
    const run = spawn(process.execPath, [script, '--small', '--seconds', '1', '--members', url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    run.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => run.once('exit', resolve));
    assert.equal(code, 0);
    const lines = out.trim().split('\n');
    assert.match(out, /^bench:remote \(small, single node, no replication\) against /m);
    const figures = JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
    assertSteal(figures);
    assert.equal(figures.bench, 'remote');
    assert.equal(figures.mode, singleNodeMode);
    assert.equal(figures.rejected, 0, 'every transfer is funded');
    assert.ok((figures.commands_per_s as number) > 0);
    assert.equal(figures.latency_samples, figures.open_loop_rate, 'every command (1 s)');
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
