#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner, whose summary
// (tests, pass, fail) CI reads. `npm test` builds first. Extra arguments pass through, e.g.
//   npm test -- --test-name-pattern=ledger
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, 'dist', 'test');

function find(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...find(path));
    else if (entry.name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const files = find(testRoot).sort().map((f) => relative(root, f));
if (files.length === 0) {
  console.error('run-tests: no test files under dist/test; did the build run?');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', ...process.argv.slice(2), ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
