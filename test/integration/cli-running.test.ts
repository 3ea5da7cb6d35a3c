/**
 * `bourse start` and `bourse bench` as running processes: signals stop them cleanly (and what a
 * bench started), and a second node on a port a running one holds is refused. Apart from
 * cli.test.ts, whose commands run once and end: npm test runs that one beside the serial queue
 * (scripts/run-tests.mjs), and these, whose processes run and are timed, in it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { dataWith } from '../harness/journaled-folder.js';
import { alive, awaitChildren } from '../harness/processes.js';
import { until } from '../harness/wait.js';
import { freePort } from '../../src/cli/ports.js';
import { keysReloadPollMs } from '../../src/constants.js';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/**
 * \`bourse bench\` stopped by SIGTERM (or Ctrl-C from outside a terminal) passes the signal on:
 * the bench stops its load processes and removes its node's folder, and no report is written.
 * Before, the CLI died alone and its bench ran on, with four client processes, for a minute.
 */
for (const group of [false, true]) {
  // Ctrl-C on a terminal signals the whole process group: the bench got SIGINT twice (its own,
  // and the CLI's), and the second killed it during its clean-up: its folder stayed.
  const how = group ? 'SIGINT to its process group (Ctrl-C)' : 'SIGTERM';
  test(`bench: ${how} ends the bench and what it started, and writes no report`, async (t) => {
    const out = tempDataDir();
    // A temp folder of its own: another bench on the machine makes and removes bourse-e2e-*.
    const tmp = tempDataDir();
    const folders = (): string[] => readdirSync(tmp).filter((n) => n.startsWith('bourse-e2e-'));
    const before = folders();
    const size = group ? ['--small'] : []; // small: where it was seen (2 clients)
    const cli = spawn(process.execPath, [main, 'bench', 'e2e', ...size, '--out', out], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: group, // a process group of its own, as a terminal's job
      env: { ...process.env, TMPDIR: tmp },
    });
    let stderr = '';
    cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    const started: number[] = [];
    t.after(() => {
      for (const pid of [cli.pid!, ...started].filter(alive)) process.kill(pid, 'SIGKILL');
      removeDir(out);
      removeDir(tmp);
    });
    started.push(...(await awaitChildren(cli.pid!, 'e2e.bench.js', 1)));
    const clients = group ? 2 : 4;
    started.push(...(await awaitChildren(started[0], 'e2e-client.js', clients, 60_000)));
    assert.equal(folders().length, before.length + 1, "the bench's node folder, in its TMPDIR");
    if (group) process.kill(-cli.pid!, 'SIGINT');
    else cli.kill('SIGTERM');
    const signal = group ? 'SIGINT' : 'SIGTERM';
    assert.equal(await exited, group ? 130 : 143, stderr);
    assert.match(stderr, new RegExp(`bench: interrupted \\(${signal}\\); no report written`));
    await until('the bench and its clients exit', () => !started.some(alive), 5_000);
    assert.deepEqual(readdirSync(out), [], 'no report');
    assert.deepEqual(folders(), before, "the bench's node folder is removed");
  });
}

/**
 * A second node on the port of a running one is refused. uWS binds with SO_REUSEPORT by
 * default: the second node bound the port too, and the kernel split new connections between
 * the two (clients, /health and /metrics each reached one ledger or the other).
 */
test('a second node on the port a running node holds: exit 69', async () => {
  const dir = tempDataDir();
  const port = String(await freePort('tcp'));
  const args = [main, 'start', '--data', join(dir, 'a'), '--port', port];
  const first = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  first.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise((resolve) => first.once('exit', resolve));
  try {
    await until('the first node is ready', () => out.includes('ready'), 30_000);
    const second = spawnSync(
      process.execPath,
      [main, 'start', '--data', join(dir, 'b'), '--port', port],
      {
        encoding: 'utf8',
        timeout: 20_000, // the old build ran on, sharing the port
      },
    );
    assert.equal(second.status, 69, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`cannot listen on 127.0.0.1:${port}: the port is in use`),
    );
  } finally {
    first.kill('SIGTERM');
    await exited;
    removeDir(dir);
  }
});

/**
 * A SIGTERM (or Ctrl-C) while a node is still starting (a long replay) stops it cleanly once
 * started: it is listened for from before the start. Before, the handler came after it, and a
 * signal in between killed the node at once (exit by signal, not 0; a CI flake of a member
 * stopped 1.5 s after its launch).
 */
test('a SIGTERM while the node starts stops it cleanly once started', async () => {
  const dir = tempDataDir();
  const port = await freePort('tcp');
  try {
    const { child, said, exited } = await startingNode(dir, port);
    assert.equal(await accepting(port), false, 'the node is still starting');
    child.kill('SIGTERM');
    assert.equal(await exited, 0, said());
    assert.match(said(), /stopped cleanly; journal durable through sequence \d+/);
  } finally {
    removeDir(dir);
  }
});

/**
 * A second stop signal while the node starts stops it at once, and says what that leaves:
 * nothing acknowledged, the folder as a crash leaves it, which the next start recovers. Before,
 * the first signal's listener was gone and a second Ctrl-C killed it without a word (exit by
 * signal). Both signals are sent while the process is stopped (SIGSTOP), so that both come
 * before it is ready whatever the machine's load (two SIGINTs would merge: one pending); and
 * the old code ignored a SIGTERM after a SIGINT (its own listener), with no word either.
 */
test('a second stop signal while the node starts: stopped at once, and said', async () => {
  const dir = await dataWith(40);
  const port = await freePort('tcp');
  try {
    const { child, said, exited } = await startingNode(dir, port);
    child.kill('SIGSTOP');
    child.kill('SIGINT');
    child.kill('SIGTERM');
    child.kill('SIGCONT');
    const code = await exited;
    const out = said();
    // Either comes first: a signal goes to any of the process's threads (its workers').
    const [first, second] = code === 143 ? ['SIGINT', 'SIGTERM'] : ['SIGTERM', 'SIGINT'];
    assert.equal(code, second === 'SIGTERM' ? 143 : 130, out);
    assert.doesNotMatch(out, /ready; Ctrl-C stops cleanly/);
    const starting = new RegExp(`^${first} while starting: stopping as soon as the node has`, 'm');
    assert.match(out, starting);
    const line = out.split('\n').find((l) => l.startsWith(`${second} again: `)) ?? '';
    assert.match(line, /stopped before ready; no client was let in, nothing acknowledged; /, out);
    assert.match(line, /is as a crash leaves it .*, and the next start recovers it$/);
    const again = spawnSync(process.execPath, [main, 'verify', '--data', dir], {
      encoding: 'utf8',
    });
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /^verify: ok: /);
  } finally {
    removeDir(dir);
  }
});

/**
 * Once ready, the first stop signal says that it stops cleanly and what a second one does; the
 * second stops the process at once, and says what that leaves (nothing acknowledged lost, the
 * folder as a crash leaves it). Before, the second was only told that the stop was under way,
 * and a stop that hung took kill -9. Both are sent while the process is stopped (SIGSTOP), so
 * that the second comes while the clean stop runs, whatever the machine's load.
 */
test('a second stop signal once ready: stopped at once, and said', async () => {
  const dir = await dataWith(40);
  const args = [main, 'start', '--data', dir, '--port', '0'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await until('the node is ready', () => out.includes('ready; Ctrl-C stops cleanly'), 30_000);
    assert.match(out, /^ready; Ctrl-C stops cleanly \(a second Ctrl-C: at once, as a crash/m);
    child.kill('SIGSTOP');
    child.kill('SIGINT');
    child.kill('SIGTERM');
    child.kill('SIGCONT');
    const code = await exited;
    // Either comes first: a signal goes to any of the process's threads (its workers').
    const [first, second] = code === 143 ? ['SIGINT', 'SIGTERM'] : ['SIGTERM', 'SIGINT'];
    assert.equal(code, second === 'SIGTERM' ? 143 : 130, out);
    assert.match(out, new RegExp(`^${first}: stopping cleanly \\(what the node accepted `, 'm'));
    assert.match(out, /; a second SIGINT or SIGTERM \(Ctrl-C again\) stops it at once, as a /);
    const line = out.split('\n').find((l) => l.startsWith(`${second} again: `)) ?? '';
    assert.match(line, /stopped at once, the clean stop not finished; nothing acknowledged /, out);
    assert.match(line, new RegExp(`; ${dir} is as a crash leaves it, and the next start `));
    assert.doesNotMatch(out, /stopped cleanly/);
    const again = spawnSync(process.execPath, [main, 'verify', '--data', dir], {
      encoding: 'utf8',
    });
    assert.equal(again.status, 0, again.stdout + again.stderr);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // failed
    removeDir(dir);
  }
});

/**
 * A node whose stdout's reader is gone (`bourse start | head -1` after its line, a `tee` that
 * died) goes on, and stops cleanly. It ended at once, exit 0, at its next line on stdout (the
 * banner, a stop's line), as a crash would, since main.ts ended every command at EPIPE.
 */
test('start whose stdout is gone: a stop signal while it starts stops it cleanly', async () => {
  const dir = tempDataDir();
  const port = await freePort('tcp');
  try {
    const { child, said, exited } = await startingNode(dir, port, true);
    child.kill('SIGINT');
    assert.equal(await exited, 0, said());
    const log = said();
    assert.match(log, /"msg":"SIGINT while starting: stopping as soon as the node has started/);
    assert.match(log, /"msg":"started: journal at sequence 0/);
    assert.match(log, /"msg":"stopping"/, 'stopped, not ended at its banner');
    assert.doesNotMatch(log, /EPIPE|Error/);
  } finally {
    removeDir(dir);
  }
});

/**
 * `bourse start` on `dir` and `port`, once it logged its first line; its output so far (its
 * log only when `stdoutGone`: its stdout's reader closed at once).
 */
async function startingNode(
  dir: string,
  port: number,
  stdoutGone = false,
): Promise<{ child: ChildProcess; said: () => string; exited: Promise<number | null> }> {
  const args = [main, 'start', '--data', dir, '--port', String(port)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  if (stdoutGone)
    child.stdout.destroy(); // its reader gone: `bourse start | true`
  else child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  await until('its first log line', () => out.includes('"msg":"starting on'), 20_000);
  return { child, said: () => out, exited };
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('start prints where it stands and stops cleanly on Ctrl-C', async () => {
  const dir = await dataWith(300);
  try {
    const child = spawn(process.execPath, [main, 'start', '--data', dir, '--port', '0'], {
      stdio: 'pipe',
    });
    let out = '';
    let err = '';
    let sent = false;
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (sent || !out.includes('ready')) return;
      sent = true; // one Ctrl-C: a second one would kill it, as it should
      // After a look at keys.json or two (keysReloadPollMs): no keys is no news.
      setTimeout(() => child.kill('SIGINT'), 2 * keysReloadPollMs);
    });
    const code = await new Promise((resolve) => child.once('close', resolve));
    assert.equal(code, 0);
    assert.match(out, /^bourse \d+\.\d+\.\d+$/m);
    assert.match(out, /role: +primary/);
    assert.match(out, new RegExp(`data: +${dir}`));
    assert.match(out, /journal: +sequence \d+/);
    assert.match(out, /stopped cleanly; journal durable through sequence \d+/);
    // Its log: pino JSON lines on stderr, each with a level, a message and its role.
    const lines = err.split('\n').filter((l) => l !== '');
    assert.ok(lines.length >= 2, err);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const line of logged) {
      assert.ok(['info', 'warn', 'error'].includes(line.level as string), JSON.stringify(line));
      assert.equal(typeof line.msg, 'string');
      assert.equal(line.role, 'primary');
      assert.ok(!Number.isNaN(Date.parse(line.time as string)));
    }
    assert.ok(logged.some((l) => /development mode/.test(l.msg as string)));
    // Only that line names keys.json: polling a file that is not there is no news.
    assert.equal(logged.filter((l) => /keys\.json/.test(l.msg as string)).length, 1, err);
    assert.ok(logged.some((l) => l.msg === 'stopping'));
  } finally {
    removeDir(dir);
  }
});

/**
 * `--host ::1` served on IPv6, but start printed `ws://::1:PORT/`, a URL nothing parses (the
 * SDK's connect, `new URL`, curl): an IPv6 address goes in brackets in a URL.
 */
test('start on an IPv6 address prints URLs that parse and reach it', async () => {
  const dir = tempDataDir();
  try {
    const args = [main, 'start', '--data', dir, '--host', '::1', '--port', '0'];
    const child = spawn(process.execPath, args, { stdio: 'pipe' });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const closed = new Promise((resolve) => child.once('close', resolve));
    try {
      await until('the node is ready', () => out.includes('ready'), 30_000);
      const clients = new URL(/^clients: +(\S+)/m.exec(out)?.[1] ?? '');
      assert.equal(clients.hostname, '[::1]');
      const health = new URL(/^health: +(\S+)/m.exec(out)?.[1] ?? '');
      assert.equal(health.port, clients.port);
      assert.equal((await fetch(health)).status, 200, 'its /health answers');
      assert.ok(new URL(/^dashboard: +(\S+)/m.exec(out)?.[1] ?? '').port === clients.port);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await closed, 0, out);
  } finally {
    removeDir(dir);
  }
});
