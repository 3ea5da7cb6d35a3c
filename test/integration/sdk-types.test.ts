/**
 * The SDK as a TypeScript user gets it: a strict project that imports 'bourse' (the package,
 * through its `exports`) type-checks README's calls against the declarations the build emits.
 * Before, the package shipped no declarations (TS7016 for any strict project), and the exported
 * `CommandKind`'s members did not type-check as `submit`'s kind (typed with the hot path's
 * const enum). The fixture is a .txt, so that the project's own build does not compile it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeDir, tempDataDir } from '../harness/node-driver.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const tsc = join(root, 'node_modules', '.bin', 'tsc');

/** Type-checks `source` as app.ts of a strict project depending on bourse; tsc's output. */
function check(source: string): { code: number | null; out: string } {
  const dir = tempDataDir();
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'bourse'));
    writeFileSync(join(dir, 'package.json'), '{"name":"user","type":"module","private":true}');
    const compilerOptions = {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      types: [],
      typeRoots: [join(root, 'node_modules', '@types')],
    };
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions, files: ['app.ts'] }),
    );
    writeFileSync(join(dir, 'app.ts'), source);
    const r = spawnSync(tsc, ['-p', dir], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout + r.stderr };
  } finally {
    removeDir(dir);
  }
}

test("a strict TypeScript project type-checks README's SDK calls against the package", () => {
  const app = readFileSync(join(root, 'test', 'fixtures', 'sdk-consumer.ts.txt'), 'utf8');
  const good = check(app);
  assert.equal(good.code, 0, good.out);
  // The check is real: a call missing a field is an error.
  const bad = check(`${app}\nawait client.transfer({ from: 1, to: 2, asset: 1 });\n`);
  assert.notEqual(bad.code, 0);
  assert.match(bad.out, /Property 'amount' is missing/);
});
