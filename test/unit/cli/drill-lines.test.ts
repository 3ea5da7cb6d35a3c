/**
 * What a drill says of each round on a terminal: the line (who was killed, the takeover) above
 * its progress bar, which is drawn again below it. Before, a terminal got the bar alone: the
 * operator never saw who was primary at each kill, nor how long each takeover took.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sayer } from '../../../src/cli/drill.js';
import { progressBar } from '../../../src/cli/output.js';

/** Runs `body` with stderr taken for a terminal; returns what was written to it. */
function onTerminal(body: () => void): string {
  const tty = process.stderr.isTTY;
  const write = process.stderr.write;
  let said = '';
  process.stderr.isTTY = true;
  process.stderr.write = ((text: string) => ((said += text), true)) as typeof write;
  try {
    body();
  } finally {
    process.stderr.write = write;
    process.stderr.isTTY = tty;
  }
  return said;
}

test('on a terminal, each round is a line above the bar', () => {
  const line = 'SIGKILL 1 at 2026-12-05T05:10:39.971Z: member 3; the next result after 337 ms';
  const said = onTerminal(() => {
    const bar = progressBar('drill: kills', 3);
    sayer(bar)(line);
    bar.update(1);
    bar.stop();
  });
  // Its line is saved (ESC 7) as the one the bar's stop goes back to (ESC 8): the one saved
  // at its start was above the lines said, and the table after overwrote them.
  const at = said.indexOf(`drill: ${line}\n\x1b7`);
  assert.ok(at >= 0, JSON.stringify(said));
  assert.match(said.slice(at), /drill: kills \[/, 'the bar is drawn again below it');
  assert.equal(said.lastIndexOf('\x1b7'), at + `drill: ${line}\n`.length);
});

test('off a terminal, each round is a plain line, and no bar', (t) => {
  const tty = process.stderr.isTTY;
  process.stderr.isTTY = false;
  t.after(() => (process.stderr.isTTY = tty));
  let said = '';
  t.mock.method(process.stderr, 'write', (text: string) => ((said += text), true));
  const bar = progressBar('drill: cuts', 2);
  sayer(bar)('cut 1 (primary-off): member 2');
  bar.update(1);
  bar.stop();
  t.mock.restoreAll();
  assert.equal(said, 'drill: cut 1 (primary-off): member 2\n');
});
