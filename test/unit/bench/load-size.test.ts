import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSize } from '../../../bench/lib/e2e-load.js';
import { withArgv } from '../../harness/bench-argv.js';

// The load benches' open loops (e2e, replicated, remote) pace with the 500 µs clock unless told
// otherwise (bench/RESULTS.md, forty-third session); the 1 ms timer is --tick-us 0.
test('the open loops tick on the pacer by default, on the timer with --tick-us 0', () => {
  assert.equal(
    withArgv(['--small'], () => loadSize(true).openTickUs),
    500,
  );
  assert.equal(
    withArgv(['--small', '--tick-us', '0'], () => loadSize(true).openTickUs),
    0,
  );
  assert.equal(
    withArgv([], () => loadSize(false).openTickUs),
    500,
  );
});
