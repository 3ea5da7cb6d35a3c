/**
 * `bourse start` checks its client port before it makes its folder, but binds it only once the
 * journal is open and replayed. A port taken in between failed the start (exit 69) and left
 * the folder and journal it had made. The race is forced, not timed: the start is stopped
 * (SIGSTOP) as soon as its folder appears (inotify), the port is taken, and it goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, watch } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeDir, tempDataDir } from '../harness/node-driver.js';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** This test's client port (the helpers' block 30600-30799). */
const port = 30_650;

/** Binds the port; resolves with the server, or null when it is taken already. */
function take(): Promise<Server | null> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(null));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

interface Raced {
  /** The start bound the port before it was stopped: the race was not forced. */
  lost: boolean;
  code: number | null;
  err: string;
}

/**
 * Starts a node on `data` (missing: made by the start inside `watched`), takes the port once
 * `made` appears in `watched`, then lets the start go on to its bind; resolves at its exit.
 */
async function startRaced(watched: string, made: string, data: string): Promise<Raced> {
  const args = [main, 'start', '--data', data, '--host', '127.0.0.1', '--port', String(port)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const appeared = new Promise<void>((resolve) => {
    const watcher = watch(watched, (_event, name) => {
      if (name !== made) return;
      child.kill('SIGSTOP'); // between its folder made and its bind
      watcher.close();
      resolve();
    });
  });
  const bound = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await Promise.race([appeared, exited]);
  const server = await take();
  child.kill('SIGCONT');
  if (server === null) child.kill('SIGTERM'); // it listens already: this try proves nothing
  const code = await exited;
  clearTimeout(bound);
  server?.close();
  return { lost: server === null, code, err };
}

test('start: its port taken after the check fails it (69) and removes what it made', async () => {
  const dir = tempDataDir();
  try {
    let forced = 0;
    for (let k = 0; k < 5 && forced === 0; k++) {
      const r = await startRaced(dir, `new-${k}`, join(dir, `new-${k}`, 'node'));
      if (r.lost) continue;
      forced++;
      assert.equal(r.code, 69, r.err);
      assert.match(r.err, new RegExp(`cannot listen on 127.0.0.1:${port}: the port is in use`));
      assert.equal(existsSync(join(dir, `new-${k}`)), false, 'nothing left behind');
      assert.match(r.err, new RegExp(`removed ${dir}/new-${k}, which this start made`));
    }
    assert.equal(forced, 1, 'the race was forced in one of 5 tries');
    // An empty folder (a new file system's, lost+found kept) is emptied of what it made.
    const mount = join(dir, 'mount');
    mkdirSync(join(mount, 'lost+found'), { recursive: true });
    let emptied = false;
    for (let k = 0; k < 5 && !emptied; k++) {
      const r = await startRaced(mount, 'journal.mdb', mount);
      if (r.lost) continue;
      emptied = true;
      assert.equal(r.code, 69, r.err);
      assert.deepEqual(readdirSync(mount), ['lost+found'], 'only what was there before');
    }
    assert.ok(emptied, 'the race was forced in one of 5 tries');
  } finally {
    removeDir(dir);
  }
});
