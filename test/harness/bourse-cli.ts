/**
 * The bourse CLI run to its end from a test: one helper for the CLI test files, which each
 * carried their own copy of the same spawnSync wrapper.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** dist/src/main.js: what `bourse` runs. */
export const bourseMain = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** A finished run: its exit code (128 if a signal ended it, -1 if it never ran) and output. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs `bourse args` (as `uid`, when given) for at most `timeoutMs`. */
export function runBourse(
  args: readonly string[],
  options: { uid?: number; timeoutMs?: number } = {},
): CliRun {
  const as = options.uid === undefined ? {} : { uid: options.uid, gid: options.uid };
  const r = spawnSync(process.execPath, [bourseMain, ...args], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    ...as,
  });
  return { code: r.status ?? (r.signal === null ? -1 : 128), out: r.stdout, err: r.stderr };
}
