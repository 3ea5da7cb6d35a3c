/**
 * `bourse cluster`'s own lines (log-format.ts): text on a terminal or when asked, else JSON
 * lines of the members' shape (level, time, pid, fields, msg), so that a collector reading
 * the stream reads one format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { say } from '../../../src/cli/cluster-supervise.js';
import { chooseLogFormat, chosenLogFormat } from '../../../src/cli/log-format.js';

test('the supervisor says its lines as text or as JSON lines', (t) => {
  let said = '';
  t.mock.method(process.stderr, 'write', (text: string) => ((said += text), true));
  const tty = process.stderr.isTTY;
  try {
    process.stderr.isTTY = true;
    assert.equal(chooseLogFormat(undefined), 'text', 'unasked, on a terminal');
    say('member 2 started again', { member: 2, event: 'started' });
    assert.equal(said, 'bourse cluster: member 2 started again\n');
    process.stderr.isTTY = false;
    assert.equal(chooseLogFormat(undefined), 'json', 'unasked, into a pipe or a file');
    assert.equal(chooseLogFormat('text'), 'text', 'asked: --log-format, BOURSE_LOG_FORMAT');
    process.stderr.isTTY = true;
    assert.equal(chooseLogFormat('json'), 'json');
    assert.equal(chosenLogFormat(), 'json');
    said = '';
    say('member 2 exited', { member: 2, event: 'exited', code: 74 }, 'warn');
    assert.ok(said.endsWith('}\n') && !said.slice(0, -1).includes('\n'), 'one line');
    const line = JSON.parse(said) as Record<string, unknown>;
    assert.deepEqual(Object.keys(line), [
      'level',
      'time',
      'pid',
      'name',
      'member',
      'event',
      'code',
      'msg',
    ]);
    assert.equal(line.level, 'warn');
    assert.equal(new Date(line.time as string).toISOString(), line.time);
    assert.equal(line.pid, process.pid);
    assert.equal(line.name, 'bourse cluster');
    assert.equal(line.msg, 'member 2 exited');
  } finally {
    process.stderr.isTTY = tty;
    t.mock.restoreAll();
  }
});
