/**
 * `bourse bench <scenario>`: runs one bench (dist/bench/macro/<scenario>.bench.js) as a child
 * process, with a progress bar through its phases, prints its table and JSON line, and writes
 * a report to the results folder (bench/results by default):
 *   <scenario>-<size>[-<rate>].json  its figures, machine, command, latency percentiles;
 *   <scenario>-<size>[-<rate>].svg   the HDR percentile plot of its latency histogram.
 *
 *   bourse bench ──fork──► <scenario>.bench.js ──stdout: table, last line JSON──► report
 *        ▲                      │ IPC: {kind: 'bench-progress', done, total, label}
 *        └──────────────────────┘ file BOURSE_BENCH_HDR: the histogram, compressed
 */
import { fork } from 'node:child_process';
import {
  accessSync,
  constants as fs,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import { percentilePlot, percentilePoints } from './bench-plot.js';
import { ExitError, progressBar, UsageError, type Progress } from './output.js';
import { StorageCode, StorageError } from '../journal/journal-errors.js';
import { benchScenarios } from './choices.js';
import { signalExitCode } from './signals.js';
import { makeDirs } from '../journal/make-dirs.js';

export interface BenchOptions {
  small?: boolean;
  /** Open-loop rate, commands/s (pipeline, e2e, replicated). */
  rate?: number;
  /** Folder for the report. */
  out: string;
}

export interface BenchReport {
  figures: Record<string, unknown>;
  json: string;
  svg: string | null;
}

interface ExportedHistogram {
  unit: 'us' | 'ns';
  what: string;
  histogram: string;
}

/**
 * The highest open-loop rate a bench takes (commands/s): several times the most a node has
 * answered here (740,547 closed loop, bench/RESULTS.md). The open loop sends rate x its
 * seconds commands: a typo's 99999999999999 ran on, silent, for what would have been years.
 */
const benchRateMax = 5_000_000;

export async function bench(scenario: string, o: BenchOptions): Promise<BenchReport> {
  if (!(benchScenarios as readonly string[]).includes(scenario)) {
    throw new UsageError(`scenario '${scenario}': one of ${benchScenarios.join(', ')}`);
  }
  if (o.rate !== undefined && scenario === 'engine') {
    throw new UsageError('--rate: the engine bench has no open loop');
  }
  if (o.rate !== undefined && (o.rate < 1 || o.rate > benchRateMax)) {
    const most = benchRateMax.toLocaleString('en-US');
    throw new UsageError(`--rate: ${o.rate}: 1 to ${most} commands/s`);
  }
  const rate = o.rate === undefined ? [] : ['--rate', String(o.rate)];
  const args = [...(o.small ? ['--small'] : []), ...rate];
  try {
    reportFolder(o.out); // before the run: a bench of minutes, then no place for its report
  } catch (error) {
    // Exit 73 (can't create), not 64: the flag is well formed, the folder is not writable.
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new StorageError(
      StorageCode.DataUnwritable,
      `--out ${o.out}: cannot write reports there (${code})`,
    );
  }
  const scratch = scratchFolder();
  try {
    const hdrFile = join(scratch, 'histogram.json');
    const output = await runBench(scenario, args, hdrFile);
    const figures = lastJsonLine(output, scenario);
    const exported = readExported(hdrFile);
    return writeReport(scenario, o, args, figures, exported);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Makes the report folder (and missing parents: makeDirs) and checks it is writable. */
function reportFolder(dir: string): void {
  makeDirs(dir);
  accessSync(dir, fs.W_OK);
}

/** Runs the bench; resolves with its stdout (also passed through) once it exits cleanly. */
function runBench(scenario: string, args: string[], hdrFile: string): Promise<string> {
  const script = fileURLToPath(new URL(`../../bench/macro/${scenario}.bench.js`, import.meta.url));
  const execArgv = scenario === 'replicated' ? [] : ['--expose-gc']; // as its npm script
  const child = fork(script, args, {
    execArgv,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, BOURSE_BENCH_HDR: hdrFile },
  });
  let bar: Progress | null = null;
  let output = '';
  child.stdout!.setEncoding('utf8');
  // Held until the bar is gone: the bar redraws its line on stderr, the table goes to stdout.
  child.stdout!.on('data', (chunk: string) => (output += chunk));
  child.on('message', (m: { kind?: string; done?: number; total?: number }) => {
    if (m.kind !== 'bench-progress' || m.total === undefined) return;
    bar ??= progressBar(`bench ${scenario}`, m.total);
    bar.update(m.done ?? 0);
  });
  // Ctrl-C or SIGTERM goes on to the bench, which stops what it started (members, load
  // processes, its folder: bench/lib/bench-exit.ts); this process ends once the bench has.
  let interrupted: NodeJS.Signals | null = null;
  const passOn = (signal: NodeJS.Signals): void => {
    interrupted = signal;
    child.kill(signal);
  };
  process.on('SIGINT', passOn).on('SIGTERM', passOn);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', passOn).off('SIGTERM', passOn);
      (bar as Progress | null)?.stop();
      process.stdout.write(output);
      if (interrupted !== null) endInterrupted(interrupted, dirname(hdrFile));
      if (code === 0) return resolve(output);
      // Said as an internal error with a stack before; the bench's own output says why.
      const how = signal ?? `exit code ${code}`;
      const exit = code !== null && code >= 64 && code <= 78 ? code : 70;
      reject(new ExitError(`bench ${scenario} failed (${how}); its output above says why`, exit));
    });
  });
}

/** No report from a bench stopped halfway: says so, removes the scratch folder, exits. */
function endInterrupted(signal: NodeJS.Signals, scratch: string): never {
  rmSync(scratch, { recursive: true, force: true });
  process.stderr.write(`bench: interrupted (${signal}); no report written\n`);
  process.exit(signalExitCode(signal));
}

function lastJsonLine(output: string, scenario: string): Record<string, unknown> {
  const lines = output.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
  } catch {
    throw new Error(`bench ${scenario}: its last line is not its JSON figures`);
  }
}

function readExported(path: string): ExportedHistogram | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ExportedHistogram;
  } catch {
    return null; // the bench keeps no latency histogram
  }
}

function writeReport(
  scenario: string,
  o: BenchOptions,
  args: string[],
  figures: Record<string, unknown>,
  exported: ExportedHistogram | null,
): BenchReport {
  const rate = o.rate === undefined ? '' : `-${o.rate}`; // one report per rate drawn
  const name = `${scenario}-${o.small ? 'small' : 'large'}${rate}`;
  const at = new Date().toISOString();
  const cpu = cpus();
  const machine = { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, node: process.version };
  const histogram = exported === null ? null : hdr.decodeFromCompressedBase64(exported.histogram);
  const points = histogram === null ? [] : percentilePoints(histogram);
  const report = {
    scenario,
    at,
    command: ['bourse', 'bench', scenario, ...args].join(' '),
    machine: {
      ...machine,
      memory_gib: Math.round(totalmem() / 2 ** 30),
      cpu_steal_pct: figures.cpu_steal_pct ?? null,
    },
    figures,
    latency: exported === null ? null : { unit: exported.unit, what: exported.what, points },
  };
  const json = join(o.out, `${name}.json`);
  writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
  if (exported === null) return { figures, json, svg: null };
  const svg = join(o.out, `${name}.svg`);
  const title = `bourse bench ${scenario} (${o.small ? 'small' : 'large'}): ${exported.what}`;
  const offered = figures.open_loop_rate;
  const load = typeof offered === 'number' ? ` · ${offered.toLocaleString('en-US')}/s offered` : '';
  const samples = histogram!.totalCount.toLocaleString('en-US');
  const steal = figures.cpu_steal_pct; // the host's other guests took this share of the CPU
  const stolen = typeof steal === 'number' ? ` · ${steal}% CPU steal` : '';
  const on = `${machine.cpu}, ${machine.cores} cores · Node ${machine.node}${stolen}`;
  const subtitle = `${at.slice(0, 10)} · ${on} · ${samples} samples${load}`;
  writeFileSync(svg, percentilePlot(title, subtitle, exported.unit, points) + '\n');
  return { figures, json, svg };
}

/** A folder for the bench's histogram, in TMPDIR: one that cannot be made is named (exit 73). */
function scratchFolder(): string {
  try {
    return mkdtempSync(join(tmpdir(), 'bourse-bench-report-'));
  } catch (error) {
    const why = (error as Error).message;
    throw new StorageError(
      StorageCode.DataUnwritable,
      `cannot make a scratch folder in ${tmpdir()} (TMPDIR): ${why}`,
    );
  }
}
