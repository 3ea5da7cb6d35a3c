/**
 * bench:remote's first contact with the node it is pointed at. A node that is not up, or an
 * address that is none, ended the bench with the SDK's or the ws library's stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { freePort } from '../../../src/cli/ports.js';

const script = new URL('../../../bench/macro/remote.bench.js', import.meta.url).pathname;

function remote(...args: string[]): { code: number | null; err: string; out: string } {
  const run = spawnSync(process.execPath, [script, '--small', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  return { code: run.status, err: run.stderr, out: run.stdout };
}

test('bench:remote against an address where nothing listens: one line, exit 69', async () => {
  const url = `ws://127.0.0.1:${await freePort('tcp')}/`;
  const r = remote('--members', url);
  assert.equal(r.code, 69, r.err);
  assert.equal(
    r.err,
    `bench:remote: cannot start the load: ${url}: nothing listens there (ECONNREFUSED): ` +
      'is the node up?\n',
  );
  assert.equal(r.out, '');
});

test('bench:remote given a member that is no ws:// address: named, exit 64', async () => {
  const port = await freePort('tcp'); // nothing there, should the check not come first
  for (const bad of ['nonsense', `http://127.0.0.1:${port}/`, 'ws://']) {
    const r = remote('--members', `ws://127.0.0.1:${port}/,${bad}`);
    assert.equal(r.code, 64, r.err);
    assert.equal(r.err, `bench:remote: --members: '${bad}' is not a ws:// or wss:// address\n`);
  }
});
