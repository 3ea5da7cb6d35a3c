/**
 * ScrapeCache: one computation of /metrics for scrapes that arrive together or within its
 * age, on a clock of the test's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScrapeCache } from '../../../src/pipeline/scrape-cache.js';

test('scrapes during a computation wait for it; within the age they get its text', async () => {
  let nowMs = 0;
  let computed = 0;
  const cache = new ScrapeCache(
    async () => {
      computed++;
      await new Promise((resolve) => setImmediate(resolve));
      return `text ${computed}`;
    },
    1000,
    () => nowMs,
  );
  const texts = await Promise.all(Array.from({ length: 100 }, () => cache.text()));
  assert.deepEqual(new Set(texts), new Set(['text 1']));
  assert.equal(computed, 1);
  assert.equal(cache.computed, 1);
  nowMs = 999;
  assert.equal(await cache.text(), 'text 1', 'younger than the age: the same text');
  nowMs = 1000;
  assert.equal(await cache.text(), 'text 2', 'as old as the age: computed again');
  assert.equal(cache.computed, 2);
});

test('a failed computation fails its waiters and is not kept', async () => {
  let fail = true;
  const cache = new ScrapeCache(
    async () => {
      if (fail) throw new Error('registry failed');
      return 'text';
    },
    1000,
    () => 0,
  );
  const waiting = [cache.text(), cache.text()];
  for (const w of waiting) await assert.rejects(w, /registry failed/);
  fail = false;
  assert.equal(await cache.text(), 'text', 'the next scrape computes again');
  assert.equal(cache.computed, 2);
});
