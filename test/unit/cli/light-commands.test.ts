/**
 * Each `bourse` call is a fresh process, and module loading was two thirds of a light one's
 * time (~0.7 s each: `keys` loaded the whole pipeline through cluster.ts for the cluster
 * file's reader). What a light command loads at its start is its static imports: read here
 * from the built files, as node resolves them (relative paths; packages by name). A command's
 * heavy code is imported in its handler (program.ts), and these keep it so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../../src/', import.meta.url));

/** The files (relative to src/) and packages `file` loads before it runs, itself included. */
function staticLoads(file: string): Set<string> {
  const seen = new Set<string>();
  const visit = (path: string): void => {
    const name = relative(src, path);
    if (seen.has(name)) return;
    seen.add(name);
    const text = readFileSync(path, 'utf8');
    // Static imports only: `import(...)` runs when the code reaching it does.
    for (const [, from] of text.matchAll(/^(?:import|export)\s[^;]*?\bfrom\s+'([^']+)';/gms)) {
      if (from.startsWith('.')) visit(join(dirname(path), from));
      else if (!from.startsWith('node:')) seen.add(from);
    }
  };
  visit(join(src, file));
  return seen;
}

function assertLoadsNone(file: string, heavy: readonly string[]): void {
  const loads = staticLoads(file);
  assert.ok(loads.size > 1, `${file}: its imports were read`);
  for (const h of heavy) assert.ok(!loads.has(h), `${file} loads ${h} at its start`);
}

test('bourse verify, replay, inspect: the watching parent loads no command line', () => {
  // supervise.ts: the parent only spawns the child that runs the command.
  assertLoadsNone('main.js', ['cli/program.js', 'commander', 'cli/config.js']);
  assert.ok(staticLoads('main.js').has('cli/supervise.js'));
});

test('bourse keys loads no node, cluster member or server', () => {
  const heavy = ['pipeline/cluster-node.js', 'pipeline/node.js', 'cli/cluster.js'];
  assertLoadsNone('cli/keys.js', [...heavy, '@trufflesuite/uws-js-unofficial', 'prom-client']);
  assert.ok(staticLoads('cli/keys.js').has('cli/cluster-file.js'), 'it reads the cluster file');
});

test("every command's output helpers load the progress bar only for a terminal", () => {
  assertLoadsNone('cli/output.js', ['cli-progress']);
  assertLoadsNone('cli/program.js', ['cli-progress', 'lmdb', 'piscina', 'pino']);
});

test('bourse start loads the node only once its refusals passed (a folder, a port)', () => {
  assertLoadsNone('cli/start.js', ['pipeline/node.js', '@trufflesuite/uws-js-unofficial']);
});

test('bourse replay and inspect start no checking threads, nor load them', () => {
  for (const file of ['cli/replay.js', 'cli/inspect.js']) assertLoadsNone(file, ['piscina']);
});
