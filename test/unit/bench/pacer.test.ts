/** The open loop's finer clock: each tick() waits for a tick of its worker, not one before. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pacer } from '../../../bench/lib/pacer.js';

test('pacer: tick() resolves at a new tick of the worker, every time', async () => {
  const pacer = new Pacer(200);
  try {
    let seen = pacer.ticks;
    for (let i = 0; i < 20; i++) {
      await pacer.tick();
      const now = pacer.ticks;
      assert.ok(now > seen, 'a tick went by');
      seen = now;
    }
  } finally {
    await pacer.stop();
  }
});

test('pacer: stop() ends its worker and ticks no more', async () => {
  const pacer = new Pacer(100);
  await pacer.tick();
  await pacer.stop();
  const stopped = pacer.ticks;
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(pacer.ticks, stopped, 'no tick after stop');
});
