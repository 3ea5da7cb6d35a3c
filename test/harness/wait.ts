/** Polling for a condition in tests, bounded in time: a timeout fails with what was awaited. */
import assert from 'node:assert/strict';

export async function until(
  what: string,
  done: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    assert.ok(Date.now() < deadline, `timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
