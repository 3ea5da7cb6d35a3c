/**
 * docker/ for real, with podman: these machines have no Docker engine, so docker/podman.sh
 * installs podman from Debian's packages and builds the base image the Dockerfile starts from.
 *
 *   docker/podman.sh build ──▶ localhost/bourse:local (two stages, runs as `node`)
 *   docker/podman.sh compose up -d bourse-1 bourse-2 bourse-3
 *       ──▶ three containers on compose's network, members found by their service names
 *
 * Then, as an operator would: the members elect one primary; the image's HEALTHCHECK passes in
 * each container; the bench service runs against the members by name with nothing rejected;
 * SIGKILL of the primary's container elects another that keeps every committed command, and
 * the old primary comes back as a standby; compose stop ends each member cleanly (exit 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from '../harness/wait.js';
import { statusName } from '../../src/protocol/status.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const script = join(root, 'docker', 'podman.sh');
const project = `bourse-test-${process.pid}`;
const image = 'localhost/bourse:local';
const members = ['bourse-1', 'bourse-2', 'bourse-3'];

interface Health {
  role: string;
  member: number;
  term: number;
  committedSequence: number;
}

/** docker/podman.sh with `args`; its output is kept for the assertion messages. */
function podman(args: string[], env: Record<string, string>, timeoutMs = 180_000) {
  const r = spawnSync('bash', [script, ...args], {
    cwd: root,
    env: { ...process.env, BOURSE_PROJECT: project, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
  const text = `${r.stdout}\n${r.stderr}`.slice(-6000);
  return { status: r.status, stdout: r.stdout, text };
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => {
      const server = createServer();
      return new Promise<typeof server>((done) =>
        server.listen(0, '127.0.0.1', () => done(server)),
      );
    }),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return ports;
}

async function health(port: number): Promise<Health | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    return r.ok ? ((await r.json()) as Health) : null;
  } catch {
    return null;
  }
}

/** The container compose made for `service` (named by its labels, not by a naming scheme). */
function container(service: string, env: Record<string, string>): string {
  const filters = [
    `--filter=label=com.docker.compose.project=${project}`,
    `--filter=label=com.docker.compose.service=${service}`,
  ];
  const r = podman(['podman', 'ps', '-a', ...filters, '--format={{.Names}}'], env);
  assert.equal(r.status, 0, r.text);
  const names = r.stdout.trim().split('\n').filter(Boolean);
  assert.equal(names.length, 1, `one container for ${service}: ${names}`);
  return names[0];
}

function checkImage(): void {
  const format = '--format={{.Config.User}}|{{json .Config.Healthcheck.Test}}';
  const inspect = podman(['podman', 'image', 'inspect', format, image], {});
  assert.equal(inspect.status, 0, inspect.text);
  const [user, healthcheck] = inspect.stdout.trim().split('|');
  assert.equal(user, 'node', 'the image runs as the unprivileged user node');
  assert.match(healthcheck, /\/health/, 'the image has a HEALTHCHECK on /health');
  // The final stage: compiled output and production dependencies only, code not writable.
  const probe =
    'id -u; test -e src && echo src; test -e node_modules/typescript && echo devDependencies;' +
    ' touch dist/x 2>/dev/null && echo writable; test -f dist/src/main.js && echo main';
  const run = podman(['podman', 'run', '--rm', '--entrypoint=sh', image, '-c', probe], {});
  assert.equal(run.status, 0, run.text);
  assert.deepEqual(run.stdout.trim().split('\n'), ['1000', 'main']);
}

/** Polls the members' /health until one is primary and the others follow it in its term. */
async function onePrimary(ports: number[], what: string, skip = -1): Promise<Health> {
  let found: Health | null = null;
  await until(
    what,
    async () => {
      const all = await Promise.all(ports.map((p, i) => (i === skip ? null : health(p))));
      const primaries = all.filter((h) => h?.role === 'primary');
      const standbys = all.filter((h) => h?.role === 'standby');
      const term = primaries[0]?.term;
      const follow = standbys.every((h) => h!.term === term);
      if (primaries.length !== 1 || !follow || primaries.length + standbys.length < 2) return false;
      found = primaries[0]!;
      return ports.length - (skip >= 0 ? 1 : 0) === primaries.length + standbys.length;
    },
    90_000,
  );
  return found!;
}

/**
 * The bench service against the running members. --no-deps: podman-compose 1.0.3 otherwise
 * runs `up` for each member first, which rebuilds the image once per member (30-50 s of cached
 * build steps) before it finds them running.
 */
function benchRuns(env: Record<string, string>): void {
  const bench = podman(['compose', 'run', '--rm', '--no-deps', 'bench'], env, 300_000);
  assert.equal(bench.status, 0, `the bench service runs:\n${bench.text}`);
  const last = bench.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"bench"'));
  assert.ok(last, `the bench ends with its JSON line:\n${bench.text}`);
  const figures = JSON.parse(last) as Record<string, number>;
  const status = statusName(figures.rejected_status);
  assert.equal(figures.rejected, 0, `nothing rejected (${status}):\n${bench.text}`);
  assert.ok(figures.commands_per_s > 0, last);
}

async function failover(ports: number[], env: Record<string, string>): Promise<void> {
  const before = await onePrimary(ports, 'the cluster is settled before the kill');
  assert.ok(before.committedSequence > 0, 'the bench committed commands');
  const index = before.member - 1;
  const name = container(members[index], env);
  const kill = podman(['podman', 'kill', '--signal=KILL', name], env);
  assert.equal(kill.status, 0, kill.text);
  const after = await onePrimary(ports, 'another member takes over', index);
  assert.notEqual(after.member, before.member);
  assert.ok(after.term > before.term, 'the new primary opened a new term');
  assert.ok(after.committedSequence >= before.committedSequence, 'nothing committed is lost');
  const start = podman(['podman', 'start', name], env);
  assert.equal(start.status, 0, start.text);
  await until(
    'the old primary is back as a standby, caught up',
    async () => {
      const h = await health(ports[index]);
      return (
        h?.role === 'standby' &&
        h.term >= after.term &&
        h.committedSequence >= before.committedSequence
      );
    },
    90_000,
  );
}

/**
 * compose stop: SIGTERM, then SIGKILL after the services' stop_grace_period (podman-compose
 * 1.0.3 ignores it and allows 10 s, so each container is stopped here with the file's grace).
 * A member journals what it accepted, and may finish a snapshot, before it exits 0.
 */
function stopAll(env: Record<string, string>): void {
  const file = readFileSync(join(root, 'docker', 'compose.yml'), 'utf8');
  const grace = Number.parseInt(/stop_grace_period: (\d+)s/.exec(file)![1], 10);
  for (const service of members) {
    const name = container(service, env);
    const started = Date.now();
    const stop = podman(['podman', 'stop', `--time=${grace}`, name], env);
    const ms = Date.now() - started;
    assert.equal(stop.status, 0, stop.text);
    const state = podman(['podman', 'inspect', '--format={{.State.ExitCode}}', name], env);
    const logs = podman(['podman', 'logs', '--tail=5', name], env).text;
    assert.equal(state.stdout.trim(), '0', `${service} stopped cleanly (${ms} ms): ${logs}`);
    console.log(`${service}: stopped in ${ms} ms`);
  }
}

test(
  'docker/: the image builds; compose runs a cluster that serves, fails over and stops',
  {
    timeout: 1_200_000,
  },
  async () => {
    const build = podman(['build'], {}, 900_000);
    assert.equal(build.status, 0, `docker/podman.sh build:\n${build.text}`);
    checkImage();
    const ports = await freePorts(3);
    const env = Object.fromEntries(ports.map((p, i) => [`BOURSE_PORT_${i + 1}`, String(p)]));
    try {
      // Built just above: podman-compose would build it again, once per member.
      const up = podman(['compose', 'up', '-d', '--no-build', ...members], env);
      assert.equal(up.status, 0, up.text);
      await onePrimary(ports, 'the members elect one primary');
      for (const service of members) {
        const check = podman(['podman', 'healthcheck', 'run', container(service, env)], env);
        assert.equal(check.status, 0, `HEALTHCHECK passes in ${service}: ${check.text}`);
      }
      benchRuns(env);
      await failover(ports, env);
      stopAll(env);
    } finally {
      podman(['compose', 'down', '-v'], env);
      // podman-compose 1.0.3's down leaves the project's network (and its subnet) behind.
      const label = `--filter=label=com.docker.compose.project=${project}`;
      const networks = podman(['podman', 'network', 'ls', '-q', label], env).stdout;
      for (const n of networks.split('\n').filter(Boolean)) {
        podman(['podman', 'network', 'rm', '-f', n], env);
      }
    }
  },
);
