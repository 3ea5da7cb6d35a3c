/**
 * The benches' `--name N` flags: a bad value stops the bench with a message that names the flag
 * and what it takes, instead of running with NaN (bench:pipeline did, before it used flags.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { argsProblem, parseFlag as flag, usageText } from '../../../bench/lib/flags.js';
import { withArgv } from '../../harness/bench-argv.js';

test('bench flags: the value given, the fallback when absent, an error when not a count', () => {
  assert.equal(
    withArgv(['--rate', '40000'], () => flag('--rate', 5)),
    40000,
  );
  assert.equal(
    withArgv(['--small'], () => flag('--rate', 5)),
    5,
  );
  assert.equal(
    withArgv(['--seconds', '0'], () => flag('--seconds', 5, 0)),
    0,
  );
  for (const bad of ['abc', '1.5', '-3', '0', '']) {
    assert.throws(
      () => withArgv(['--rate', bad], () => flag('--rate', 5)),
      new RegExp(`--rate takes a whole number from 1, not ${bad}`),
    );
  }
  assert.throws(() => withArgv(['--rate'], () => flag('--rate', 5)), /--rate takes/);
});

test('a bench given a bad flag says so and exits 64, without a stack trace', () => {
  const script = new URL('../../../bench/macro/pipeline.bench.js', import.meta.url).pathname;
  const run = spawnSync(process.execPath, [script, '--small', '--rate', '0'], { encoding: 'utf8' });
  assert.equal(run.status, 64);
  assert.equal(run.stderr.trim(), 'bench: --rate takes a whole number from 1, not 0');
});

const usage = {
  run: 'npm run bench:x --',
  switches: { '--small': 'the CI size' },
  values: { '--rate': 'commands/s' },
};

test('bench arguments: only the flags a bench takes, each value-taking one with its value', () => {
  assert.equal(argsProblem([], usage), null);
  assert.equal(argsProblem(['--small', '--rate', '5'], usage), null);
  assert.equal(argsProblem(['--rate', '--small'], usage), null, '--rate checks its own value');
  for (const [args, problem] of [
    [['--smal'], /^'--smal' is not an option of this bench \(it takes --small, --rate\)$/],
    [['--rate=5'], /^'--rate=5' is not an option/],
    [['small'], /^'small' is not an option/],
    [['constructor'], /^'constructor' is not an option/],
    [['--small', '--rate'], /^--rate takes a value$/],
  ] as const) {
    assert.match(argsProblem(args, usage) ?? '', problem, args.join(' '));
  }
  assert.equal(
    usageText(usage),
    'usage: npm run bench:x -- [--small] [--rate N]\n  --small   the CI size\n' +
      '  --rate N  commands/s\n',
  );
});

/** Every bench script, as `npm run bench:*` (or node) runs it. */
const benches = [
  'macro/engine.bench.js',
  'macro/pipeline.bench.js',
  'macro/e2e.bench.js',
  'macro/replicated.bench.js',
  'macro/remote.bench.js',
  'macro/engine-worst.bench.js',
  'macro/reconnect-storm.bench.js',
  'micro/snapshot.bench.js',
  'soak/simulation.bench.js',
  'fuzz/protocol.fuzz.js',
  'micro/journal-commit.bench.js',
  'micro/replication/datagram-checksum.bench.js',
  'peers/postgres-transfers.js',
];

/**
 * Runs a bench in a process group of its own for at most 60 s, then kills the group: one that
 * ignored the arguments ran its large size (members and client processes included).
 */
async function runBench(
  script: string,
  args: string[],
): Promise<{ code: number | null; out: string; err: string }> {
  const path = new URL(`../../../bench/${script}`, import.meta.url).pathname;
  const child = spawn(process.execPath, [path, ...args], { detached: true });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const deadline = new Promise<'late'>((resolve) => setTimeout(resolve, 60_000, 'late').unref());
  try {
    const code = await Promise.race([exited, deadline]);
    return { code: code === 'late' ? null : code, out, err };
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
  }
}

for (const script of benches) {
  test(`${script}: a flag it does not take, and --help, run nothing`, async () => {
    const typo = await runBench(script, ['--smal']);
    assert.equal(typo.code, 64, `exit 64, not the large size run: ${typo.err}`);
    assert.match(typo.err, /^bench: '--smal' is not an option of this bench \(it takes --small/);
    assert.match(typo.err, /\nusage: /);
    assert.equal(typo.out, '', 'no bench output');
    const help = await runBench(script, ['--help']);
    assert.equal(help.code, 0, help.err);
    assert.match(help.out, /^usage: \S.* \[--small\]/);
    assert.match(help.out, /\n {2}--small +\S/);
    assert.doesNotMatch(help.out, /\{"bench"/, 'the usage, not a run');
  });
}

test('bench:peer-postgres refuses more connections than its server takes, without a stack', () => {
  const script = new URL('../../../bench/peers/postgres-transfers.js', import.meta.url).pathname;
  const run = spawnSync(process.execPath, [script, '--small', '--connections', '200'], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 64);
  assert.equal(
    run.stderr.trim(),
    'bench: --connections takes a whole number from 1 to 96, not 200',
  );
});
