/**
 * LoginFailures: totals by reason, and one summary line per interval however many failed,
 * naming the addresses that failed most (their map bounded), never more than counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loginFailureAddressesMax } from '../../../src/constants.js';
import { LoginFailures } from '../../../src/gateway/login-failures.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('many failures in an interval make one line; the next interval its own', async () => {
  const lines: string[] = [];
  const failures = new LoginFailures((line, level) => lines.push(`${level} ${line}`), 50);
  for (let i = 0; i < 5_000; i++) failures.note('wrong_secret', '10.0.0.1');
  for (let i = 0; i < 300; i++) failures.note('malformed', `10.0.1.${i % 3}`);
  failures.note('unknown_key', '10.0.0.9');
  await sleep(120);
  assert.deepEqual(lines, [
    'warn logins refused in the last 0.05 s: 5301 (malformed 300, unknown_key 1, wrong_secret ' +
      '5000); from 5 addresses, most: 10.0.0.1 5000, 10.0.1.0 100, 10.0.1.1 100',
  ]);
  assert.equal(failures.total('wrong_secret'), 5_000);
  assert.equal(failures.total('timeout'), 0);
  await sleep(120);
  assert.equal(lines.length, 1, 'nothing failed since: no line, no timer');
  failures.note('timeout', '10.0.0.2');
  failures.stop(); // the node stops: the line now
  assert.equal(lines.length, 2);
  assert.match(lines[1], /: 1 \(timeout 1\); from 1 address, most: 10\.0\.0\.2 1$/);
  assert.equal(failures.total('wrong_secret'), 5_000, 'totals stay');
});

test('addresses past the bound are counted together', () => {
  const lines: string[] = [];
  const failures = new LoginFailures((line) => lines.push(line), 60_000);
  for (let i = 0; i < loginFailureAddressesMax + 10; i++) failures.note('no_key', `a${i}`);
  failures.note('no_key', 'a0');
  failures.stop();
  assert.equal(lines.length, 1);
  assert.match(lines[0], /most: a0 2, a1 1, a2 1, 10 from further addresses$/);
});
