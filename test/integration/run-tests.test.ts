/**
 * scripts/run-tests.mjs (npm test's runner) on a tree of its own: a copy of the script beside
 * a dist/test with files chosen for each queue. Whatever a file does, npm test must end, and
 * end non-zero naming the file, when a test failed or a file never ended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeDir, tempDataDir } from '../harness/node-driver.js';

const script = fileURLToPath(new URL('../../../scripts/run-tests.mjs', import.meta.url));

/** How long a run of the runner may take before the test kills it (ms): a hung runner. */
const runBoundMs = 60_000;

/**
 * A tree with the runner and `files` (path under dist/test -> source), and under test/ the
 * sources named in `sources` (none: no test/ folder).
 */
function tree(files: Record<string, string>, sources: string[] = []): string {
  const root = tempDataDir();
  mkdirSync(join(root, 'scripts'));
  copyFileSync(script, join(root, 'scripts', 'run-tests.mjs'));
  for (const [path, source] of Object.entries(files)) {
    const at = join(root, 'dist', 'test', path);
    mkdirSync(join(at, '..'), { recursive: true });
    writeFileSync(at, source);
  }
  for (const path of sources) {
    const at = join(root, 'test', path.replace(/\.js$/, '.ts'));
    mkdirSync(join(at, '..'), { recursive: true });
    writeFileSync(at, '// the source\n');
  }
  return root;
}

/** Runs the tree's runner; killed (and said so) past runBoundMs. */
function run(root: string, env: Record<string, string> = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [join(root, 'scripts', 'run-tests.mjs')], {
    cwd: root,
    // Without NODE_TEST_CONTEXT: set in a test file's process, it makes a nested node --test
    // skip its files.
    env: { ...process.env, NODE_TEST_CONTEXT: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its queues' processes die with it
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (out += text));
  let killed = false;
  const bound = setTimeout(() => {
    killed = true;
    process.kill(-(child.pid as number), 'SIGKILL');
  }, runBoundMs);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(bound);
      resolve({ code, out, killed });
    });
  });
}

interface RunResult {
  code: number | null;
  out: string;
  /** It had not ended within runBoundMs. */
  killed: boolean;
}

const passing = "import test from 'node:test';\ntest('passes', () => {});\n";
const serialMark = "import { spawn } from 'node:child_process';\n"; // the serial queue's

test('a failing test in either queue makes the run fail, and the sums say so', async () => {
  for (const queue of ['serial', 'light']) {
    const failing = "import test from 'node:test';\ntest('fails', () => { throw 1; });\n";
    const root = tree({
      'integration/a.test.js': serialMark + (queue === 'serial' ? failing : passing),
      'unit/b.test.js': queue === 'light' ? failing : passing,
    });
    try {
      const r = await run(root);
      assert.equal(r.killed, false, r.out);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /^\u2139 tests 2$/m, r.out);
      assert.match(r.out, /^\u2139 fail 1$/m, r.out);
    } finally {
      removeDir(root);
    }
  }
});

/**
 * A file whose tests pass but which leaves a timer running never exits: node's runner waited
 * for it, and npm test with it, for ever (the runner was killed here at the test's bound).
 */
test('a file that never ends is stopped at the bound, named, and fails the run', async () => {
  const hangs =
    "import test from 'node:test';\ntest('leaves', () => { setInterval(() => {}, 1e3); });\n";
  const root = tree({
    'integration/never.test.js': serialMark + hangs,
    'unit/ok.test.js': passing,
  });
  try {
    const r = await run(root, { BOURSE_TEST_TIMEOUT_MS: '3000' });
    assert.equal(r.killed, false, `still running after ${runBoundMs} ms: ${r.out}`);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /never\.test\.js[^\n]*\n\s*'test timed out after 3000ms'/, r.out);
    assert.match(r.out, /^\u2139 cancelled 1$/m, r.out);
  } finally {
    removeDir(root);
  }
});

/**
 * tsc removes no output: a test deleted or renamed in test/ stayed in a dist/ built before, and
 * was run, the old test against the new code (here one that fails: the run failed for it).
 */
test('a compiled test whose source is gone is named and not run', async () => {
  const failing = "import test from 'node:test';\ntest('fails', () => { throw 1; });\n";
  const root = tree({ 'unit/gone.test.js': failing, 'unit/kept.test.js': passing }, [
    'unit/kept.test.js',
  ]);
  try {
    const r = await run(root);
    assert.equal(r.killed, false, r.out);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /dist\/test\/unit\/gone\.test\.js not run: its source is gone/, r.out);
    assert.match(r.out, /^\u2139 tests 1$/m, r.out);
  } finally {
    removeDir(root);
  }
});

/**
 * The benches' smoke test runs after every other file of the serial queue has ended, on a
 * machine the light queue has left by then. It ran first: node's runner sorts the files it is
 * given, and bench-smoke.test.js sorts before integration/ (95 s beside the light queue in CI,
 * against 49 alone).
 */
test("the benches' smoke test starts once the serial queue's other files have ended", async () => {
  const writes = (name: string): string =>
    "import test from 'node:test';\nimport { writeFileSync } from 'node:fs';\n" +
    `test('${name}', () => writeFileSync('${name}.ended', ''));\n`;
  const afterThem =
    "import test from 'node:test';\nimport { existsSync } from 'node:fs';\n" +
    "test('smoke', () => { if (!existsSync('a.ended') || !existsSync('z.ended')) throw 1; });\n";
  const root = tree({
    'bench-smoke.test.js': serialMark + afterThem,
    'integration/a.test.js': serialMark + writes('a'),
    'integration/z.test.js': serialMark + writes('z'),
    'unit/b.test.js': passing,
  });
  try {
    const r = await run(root);
    assert.equal(r.killed, false, r.out);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^\u2139 tests 4$/m, r.out);
    assert.match(r.out, /^\u2139 pass 4$/m, r.out);
  } finally {
    removeDir(root);
  }
});
