/**
 * The bourse CLI run to its end from a test: one helper for the CLI test files, which each
 * carried their own copy of the same spawnSync wrapper; and, for `bourse cluster` and `bourse
 * member`, one run to its exit while the test goes on, and a port taken from them.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { readable } from './log-lines.js';

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

/**
 * Runs `bourse` to its exit; resolves with its code and output (each JSON log line as its
 * message). With `stopAfterMs`, SIGTERM that long after its first output (its handler is in
 * place by then).
 */
export function runBourseToExit(
  args: string[],
  stopAfterMs = 0,
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [bourseMain, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const heard = (d: Buffer): void => {
    if (out === '' && stopAfterMs > 0) setTimeout(() => child.kill('SIGTERM'), stopAfterMs);
    out += d.toString();
  };
  child.stdout.on('data', heard);
  child.stderr.on('data', heard);
  // A cluster's or member's failure is a JSON line when stderr is no terminal: its msg here.
  return new Promise((resolve) =>
    child.once('close', (code) => resolve({ code, out: readable(out) })),
  );
}

/** Listens on `port` as soon as it is free (a killed member's), within `ms`. */
export async function takePort(server: Server, port: number, ms = 1_000): Promise<void> {
  for (const deadline = Date.now() + ms; ;) {
    const error = await new Promise<Error | null>((resolve) => {
      server.once('error', resolve);
      server.listen(port, '127.0.0.1', () => resolve(null));
    });
    server.removeAllListeners('error');
    if (error === null) return;
    assert.ok(Date.now() < deadline, `port ${port} not freed: ${error.message}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
