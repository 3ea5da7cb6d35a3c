/**
 * docker/compose.yml without a container engine: this test does what compose would do, with
 * local processes on loopback, to prove the configuration works (container.test.ts runs the
 * same file for real, with podman).
 *
 *   compose.yml ──parse (YAML, merge keys, ${VAR-default})──▶ services
 *   Dockerfile ──ENTRYPOINT──▶ the program each service's `command` is given to
 *   each service ──▶ its own loopback address (127.77.0.x), as compose's network gives each a
 *                    name; the service names in docker/cluster.json and in the bench's
 *                    --members are rewritten to those addresses (what compose's DNS does)
 *   named volumes ──▶ temporary folders; bind mounts ──▶ the files they name
 *   --listen 0.0.0.0 (all of a container's addresses) ──▶ the service's own address
 *
 * Then: the three members form a cluster with one primary, the image's HEALTHCHECK passes on
 * each, the bench runner's command runs against them and prints its figures with nothing
 * rejected, and SIGTERM (compose stop) ends every member cleanly within stop_grace_period.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  statSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { until } from '../harness/wait.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dockerDir = join(root, 'docker');

interface Service {
  image?: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: string[];
  stop_grace_period?: string;
}

/** Compose's interpolation: ${NAME}, ${NAME-default} and ${NAME:-default}. */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\{(\w+)(?:(:?)-([^}]*))?\}/g, (_, name, colon, fallback) => {
    const value = env[name as string];
    if (value === undefined || (colon === ':' && value === '')) return (fallback as string) ?? '';
    return value;
  });
}

function readCompose(env: Record<string, string | undefined>): Record<string, Service> {
  const text = interpolate(readFileSync(join(dockerDir, 'compose.yml'), 'utf8'), env);
  const doc = parse(text, { merge: true }) as { services: Record<string, Service> };
  return doc.services;
}

/** The image's ENTRYPOINT, HEALTHCHECK command and USER (the exec forms of the last stage). */
function readDockerfile(): { entrypoint: string[]; healthcheck: string[]; user: string } {
  const text = readFileSync(join(dockerDir, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, '');
  const stages = text.split(/^FROM /m);
  assert.ok(stages.length >= 3, 'the Dockerfile builds in stages');
  const last = stages[stages.length - 1];
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(last);
  const health = /^HEALTHCHECK .*? CMD (.*)$/m.exec(last);
  const user = /^USER (\S+)$/m.exec(last);
  assert.ok(entry && health && user, 'the final stage has ENTRYPOINT, HEALTHCHECK and USER');
  const healthcheck = health[1].split(' ');
  const script = healthcheck.slice(2).join(' ');
  return {
    entrypoint: JSON.parse(entry[1]) as string[],
    healthcheck: [healthcheck[0], healthcheck[1], script],
    user: user[1],
  };
}

/** A process for a service: `program` run from the project root, its output kept. */
function run(argv: string[], env: Record<string, string>, lines: string[]): ChildProcess {
  const [program, ...args] = argv;
  assert.equal(program, 'node', 'services run node');
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  void exited(child); // watched from its start: its pipes may close before anyone asks
  return child;
}

const closes = new WeakMap<ChildProcess, Promise<number | null>>();

/** Its exit code, once its pipes are closed too: 'exit' can come first, its last lines unread. */
function exited(child: ChildProcess): Promise<number | null> {
  let closed = closes.get(child);
  if (closed === undefined) {
    closed = new Promise((done) => child.once('close', (code) => done(code)));
    closes.set(child, closed);
  }
  return closed;
}

async function health(host: string, port: number): Promise<{ role: string; accepting: boolean }> {
  try {
    const r = await fetch(`http://${host}:${port}/health`, { signal: AbortSignal.timeout(500) });
    return (await r.json()) as { role: string; accepting: boolean };
  } catch {
    return { role: 'unreachable', accepting: false };
  }
}

test('interpolate: compose variables with and without defaults', () => {
  assert.equal(interpolate('a ${X-1} ${Y:-2} ${Z}', { X: '', Y: '' }), 'a  2 ');
  assert.equal(interpolate('${X-1}${Y-2}', { X: '0' }), '02');
});

test('docker/compose.yml runs as local processes on loopback', { timeout: 120_000 }, async () => {
  const services = readCompose({});
  const image = readDockerfile();
  assert.notEqual(image.user, 'root', 'the image runs as a non-root user');
  const members = ['bourse-1', 'bourse-2', 'bourse-3'];
  assert.deepEqual(Object.keys(services).sort(), ['bench', ...members]);
  const address = new Map(members.map((name, i) => [name, `127.77.0.${i + 11}`]));
  const renamed = (text: string) => text.replace(/bourse-\d/g, (n) => address.get(n) ?? n);

  const temp = mkdtempSync(join(tmpdir(), 'bourse-compose-'));
  const lines: string[] = [];
  const children = new Map<string, ChildProcess>();
  try {
    // What each member's cluster.json bind mount holds, with compose's names resolved.
    const cluster = JSON.parse(renamed(readFileSync(join(dockerDir, 'cluster.json'), 'utf8')));
    const clusterPath = join(temp, 'cluster.json');
    writeFileSync(clusterPath, JSON.stringify(cluster));
    for (const name of members) {
      const s = services[name];
      assert.equal(s.image, 'bourse:local');
      assert.ok(s.stop_grace_period, 'members get time to stop cleanly');
      const mounts = new Map<string, string>();
      for (const volume of s.volumes ?? []) {
        const [from, to] = volume.split(':');
        if (from === './cluster.json') mounts.set(to, clusterPath);
        else mounts.set(to, join(temp, from)); // a named volume: its own folder (shared by name)
        if (from !== './cluster.json') mkdirSync(join(temp, from), { recursive: true });
      }
      // A path in a mount is that path in its folder.
      const mounted = (a: string): string | undefined => {
        for (const [to, from] of mounts)
          if (a.startsWith(`${to}/`)) return from + a.slice(to.length);
        return mounts.get(a);
      };
      // 0.0.0.0 in a container is every address of its own network namespace: here, the
      // service's own loopback address (three members cannot all take 0.0.0.0:9001).
      const own = (a: string) => (a === '0.0.0.0' ? address.get(name)! : a);
      const argv = (s.command ?? []).map((a) => mounted(a) ?? own(a));
      assert.ok(
        argv.some((a) => a.startsWith(temp)),
        `${name}'s volumes are used`,
      );
      children.set(name, run([...image.entrypoint, ...argv], s.environment ?? {}, lines));
    }

    const self = cluster.members as { id: number; host: string; port: number }[];
    // One secret, made by the first member to start, read by the others from the shared volume.
    const secret = join(temp, 'bourse-secret', 'replication.key');
    await until('the replication secret is made', () => existsSync(secret));
    assert.equal(statSync(secret).mode & 0o777, 0o600);
    await until(
      'one primary accepting, two standbys',
      async () => {
        const seen = await Promise.all(self.map((m) => health(m.host, m.port)));
        const primaries = seen.filter((h) => h.role === 'primary' && h.accepting).length;
        return primaries === 1 && seen.filter((h) => h.role === 'standby').length === 2;
      },
      30_000,
    );
    for (const m of self) {
      const [node, flag, script] = image.healthcheck;
      const check = spawn(process.execPath, [flag, script.replace('127.0.0.1', m.host)], {
        stdio: 'ignore',
      });
      assert.equal(node, 'node');
      assert.equal(await exited(check), 0, `HEALTHCHECK passes on member ${m.id}`);
    }

    const bench = services.bench;
    assert.deepEqual(bench.depends_on, members);
    const benchLines: string[] = [];
    const runner = run(
      [...(bench.entrypoint ?? []), ...(bench.command ?? []).map(renamed)],
      {},
      benchLines,
    );
    assert.equal(await exited(runner), 0, `the bench runs:\n${benchLines.join('\n')}`);
    const figures = JSON.parse(benchLines[benchLines.length - 1]) as Record<string, unknown>;
    assert.equal(figures.bench, 'remote');
    assert.equal(figures.members, 3);
    assert.ok((figures.commands_per_s as number) > 0, 'durable results came back');
    assert.equal(figures.rejected, 0, 'nothing rejected');

    // compose stop: SIGTERM, then SIGKILL after stop_grace_period.
    const stopped = [...children.values()].map((c) => {
      c.kill('SIGTERM');
      return exited(c);
    });
    const grace = Number.parseInt(services[members[0]].stop_grace_period!, 10) * 1000;
    const timer = setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), grace);
    const codes = await Promise.all(stopped);
    clearTimeout(timer);
    assert.deepEqual(codes, [0, 0, 0], 'every member stops cleanly');
  } catch (error) {
    console.error(lines.join('\n'));
    throw error;
  } finally {
    for (const c of children.values()) if (c.exitCode === null) c.kill('SIGKILL');
    await Promise.all([...children.values()].map(exited));
    rmSync(temp, { recursive: true, force: true });
  }
});
