/** Polling for a condition in tests, bounded in time: a timeout fails with what was awaited. */
import assert from 'node:assert/strict';

/** Polls `find` until it gives a value, and returns that value. */
export async function found<T>(what: string, find: () => T | undefined, ms = 10_000): Promise<T> {
  let value: T | undefined;
  await until(what, () => (value = find()) !== undefined, ms);
  return value as T;
}

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
