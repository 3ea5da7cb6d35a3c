/**
 * A drill on a terminal draws a progress bar on stderr. A drill that failed (the SDK gave up,
 * no primary, no convergence) left the bar running: its redraw timer held the process, which
 * printed its error and then never exited, and the terminal kept its line wrapping off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient } from '../../src/client/client.js';
import { drill } from '../../src/cli/drill.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDataDir } from '../harness/node-driver.js';

test('a drill on a terminal that fails stops its progress bar', async (t) => {
  // The drill's folder goes in a TMPDIR of the test's own, removed whatever happens.
  const parent = tempDataDir();
  const tmp = process.env.TMPDIR;
  process.env.TMPDIR = parent;
  t.after(() => {
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
    removeDir(parent);
  });
  const tty = process.stderr.isTTY;
  process.stderr.isTTY = true;
  t.after(() => (process.stderr.isTTY = tty));
  let said = '';
  t.mock.method(process.stderr, 'write', (text: string | Uint8Array) => {
    said += String(text);
    return true;
  });
  // Every member runs and the SDK connects, but its first commands fail: the drill fails at
  // once. (A refused connect fails it too, but only after its retries: 15 s of waiting.) The
  // drill does not close its client when it fails; the test does.
  const clients: BourseClient[] = [];
  const connect = BourseClient.connect.bind(BourseClient);
  t.mock.method(BourseClient, 'connect', async (...args: Parameters<typeof connect>) => {
    const client = await connect(...args);
    clients.push(client);
    return client;
  });
  const refuse = () => Promise.reject(new Error('no session (test)'));
  t.mock.method(BourseClient.prototype, 'submitBatch', refuse);
  const options = { kills: 2, nodes: 3, seed: 1, accounts: 10, window: 4, verbose: true };
  await assert.rejects(drill(options), /no session \(test\)/);
  t.mock.restoreAll();
  await Promise.all(clients.map((client) => client.close()));
  assert.equal(clients.length, 1, 'the drill connected');
  // Its folder is kept (a failed drill's is), and named. The name was matched as 'logs are
  // in', which the message no longer says: every run left a folder in /tmp.
  const kept = /the members' logs and folders are in (\S+)/.exec(said)?.[1];
  assert.ok(kept !== undefined && kept.startsWith(parent), said);
  assert.ok(existsSync(join(kept, 'cluster.json')), 'the kept folder is the drill`s');
  assert.match(said, /drill: kills \[/, 'the bar was drawn');
  assert.ok(said.includes('\x1b[?7h'), 'the bar was stopped: line wrapping is on again');
});
