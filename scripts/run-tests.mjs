#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner, whose summary
// (tests, pass, fail) CI reads. `npm test` builds first. Extra arguments pass through, e.g.
//   npm test -- --test-name-pattern=ledger
//
// Two queues run side by side, each one file at a time (a core each on the 2-core machines):
//
//   serial:  integration files that start processes or clusters (they import node:child_process,
//            the cluster driver, a drill or the process helpers): members, drills, benches and
//            containers time elections, takeovers and exits, so no two of these run at once;
//   light:   the rest (unit, simulation, tidy, integration on one in-process node), and the
//            files named in oneShot below.
//
// Each queue's spec output is passed on line by line as it comes; their two summaries are
// taken out and added up into one, in the spec reporter's form, at the end.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, 'dist', 'test');

function find(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...find(path));
    else if (entry.name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

/** Imports that start processes or a cluster. */
const starters = [
  'node:child_process',
  '/harness/cluster-driver.js',
  '/harness/processes.js',
  '/src/cli/drill.js',
  '/src/cli/drill-partition.js',
];

/**
 * Files that start processes, but only one-shot tools (bourse replay, verify, inspect, keys,
 * backup on folders of their own, a node at most until it is ready; tsc): nothing in them
 * elects, loads or times anything. A file renamed falls back to the serial queue.
 * member-cli: one `bourse member` at a time, refused at its start or stopped by a signal (no
 * majority, no load, no takeover timed; 22 s of the serial queue in CI, as cluster-cli's).
 */
const oneShot = [
  'cli',
  'cli-backup',
  'cli-capacity-memory',
  'cli-damaged-files',
  'cli-keys',
  'cli-lock-tool',
  'cli-verify-snapshots',
  'journal-audit',
  'member-cli',
  'run-tests',
  'sdk-types',
].map((name) => `integration/${name}.test.js`);

/** A file outside unit/ whose imports say it starts processes or a cluster. */
function serial(path) {
  const name = relative(testRoot, path);
  if (name.startsWith('unit/') || oneShot.includes(name)) return false;
  const imports = readFileSync(path, 'utf8').matchAll(/^import .* from '([^']+)';$/gm);
  return [...imports].some(([, from]) => starters.some((s) => from.endsWith(s)));
}

/**
 * A compiled test whose source is gone (deleted or renamed since dist/ was built: tsc removes
 * no output) is not run: it ran the old test against the new code, in whichever queue, and
 * failed or passed for nothing (lmdb-meta-growing.test.js, say, in a dist/ built before its
 * source was deleted). Each is named; a tree without test/ (sources not shipped) runs all.
 */
const sourceOf = (f) => join(root, 'test', relative(testRoot, f)).replace(/\.js$/, '.ts');
const found = find(testRoot).sort();
const sourced = !existsSync(join(root, 'test'))
  ? found
  : found.filter((f) => existsSync(sourceOf(f)));
for (const stale of found.filter((f) => !sourced.includes(f))) {
  console.error(`run-tests: ${relative(root, stale)} not run: its source is gone (rebuild dist/)`);
}
const files = sourced;
if (files.length === 0) {
  console.error('run-tests: no test files under dist/test; did the build run?');
  process.exit(1);
}
/**
 * The benches' smoke test last in the serial queue: its benches are CPU-bound, and took twice
 * as long (49 -> 110 s) beside the other queue, which is done by then. The other files of the
 * serial queue mostly wait (elections, timers, signals) and barely slowed. node's runner sorts
 * the files it is given (bench-smoke.test.js sorts first), so these run in a second `node
 * --test` of their own once the first has ended: a queue is a list of runs, one after another.
 */
const serialLast = ['bench-smoke.test.js'];
const lastInQueue = (f) => serialLast.includes(relative(testRoot, f));
const serialQueue = [
  files.filter((f) => serial(f) && !lastInQueue(f)),
  files.filter((f) => serial(f) && lastInQueue(f)),
].filter((run) => run.length);
const queues = [serialQueue, [files.filter((f) => !serial(f))]].filter((q) => q[0]?.length);

/**
 * A bound on each file (and each test without its own): node's runner waits for a test file's
 * process to exit, so a file that left a handle open (a timer, a socket, a child) after its
 * tests held `npm test` for ever, with no line naming it (the old one-queue runner too). Past
 * the bound the file is stopped and listed among the failing tests, 'test timed out after ...
 * ms', and the exit code is 1. The longest files take about 2 min here under load; a
 * `--test-timeout` given to npm test is used instead. BOURSE_TEST_TIMEOUT_MS: tests of this.
 */
const fileTimeoutMs = Number(process.env.BOURSE_TEST_TIMEOUT_MS ?? 20 * 60_000);
const timeoutGiven = process.argv.slice(2).some((a) => a.startsWith('--test-timeout'));
const timeout = timeoutGiven ? [] : [`--test-timeout=${fileTimeoutMs}`];

const summaryKeys = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];
const summaryLine = /^\u2139 (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/;

/**
 * Runs one `node --test` of a queue and passes its output on, less its summary (the block of
 * summary lines that ends with duration_ms; failing tests are listed after it), which it
 * resolves with.
 */
function runFiles(files) {
  const args = ['--test', '--test-reporter=spec', ...timeout, ...process.argv.slice(2)];
  const child = spawn(process.execPath, [...args, ...files.map((f) => relative(root, f))], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let partial = '';
  let held = []; // summary lines so far: printed after all if another line follows them
  let counts = null;
  const take = (text) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop();
    let out = '';
    for (const line of lines) {
      const summary = summaryLine.exec(line);
      if (summary === null) {
        out += held.map((h) => `${h}\n`).join('') + `${line}\n`;
        held = [];
        continue;
      }
      held.push(line);
      if (summary[1] !== 'duration_ms') continue;
      const block = Object.fromEntries(held.map((l) => summaryLine.exec(l).slice(1)));
      if (counts === null && summaryKeys.every((k) => k in block)) [counts, held] = [block, []];
    }
    if (out !== '') process.stdout.write(out);
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', take);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      take('\n'); // the last line, if it had no newline
      if (held.length > 0) process.stdout.write(held.map((h) => `${h}\n`).join(''));
      resolve({ code: code ?? (signal === null ? 1 : 128), counts });
    });
  });
}

/** Runs a queue's runs one after another; their counts are added up, the first failure kept. */
async function runQueue(runs) {
  const results = [];
  for (const files of runs) results.push(await runFiles(files));
  const counts = results.every((r) => r.counts !== null) ? sum(results) : null;
  return { code: results.find((r) => r.code !== 0)?.code ?? 0, counts };
}

/** The summary counts of several runs, added up. */
function sum(results) {
  const add = (key) => results.reduce((n, r) => n + Number(r.counts[key]), 0);
  return Object.fromEntries(summaryKeys.map((key) => [key, add(key)]));
}

const started = performance.now();
const results = await Promise.all(queues.map(runQueue));
if (results.every((r) => r.counts !== null)) {
  const counts = sum(results);
  for (const key of summaryKeys) process.stdout.write(`\u2139 ${key} ${counts[key]}\n`);
  process.stdout.write(`\u2139 duration_ms ${performance.now() - started}\n`);
}
process.exit(results.find((r) => r.code !== 0)?.code ?? 0);
