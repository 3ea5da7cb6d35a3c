/**
 * An SDK client in a process of its own, for tests of what a closed client leaves running: it
 * connects to `url` (with `options`, JSON), says "open", and on a line on its stdin closes and
 * says "closed". Nothing of a closed client may then keep its process alive.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

export interface ClientProcess {
  /** What it wrote so far (stdout and stderr). */
  out: () => string;
  /**
   * Closes the client and asserts that its process then ends by itself, exit 0, within
   * `boundMs` (else it is killed and the assert fails).
   */
  closeAndExit: (boundMs?: number) => Promise<void>;
  kill: () => void;
}

export function clientProcess(url: string, options: object = {}): ClientProcess {
  const module = new URL('../../src/client/client.js', import.meta.url).href;
  const connectOptions = JSON.stringify({ clientId: 7, ...options });
  const script = [
    `const { BourseClient } = await import(${JSON.stringify(module)});`,
    `const client = await BourseClient.connect(${JSON.stringify(url)}, ${connectOptions});`,
    "process.stdout.write('open\\n');",
    "process.stdin.once('data', async () => {",
    '  process.stdin.destroy();',
    '  await client.close();',
    "  process.stdout.write('closed\\n');",
    '});',
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const closeAndExit = async (boundMs = 20_000): Promise<void> => {
    let killed = false;
    const bound = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, boundMs);
    child.stdin.write('close\n');
    const code = await exited;
    clearTimeout(bound);
    assert.ok(!killed, `its process still ran ${boundMs} ms after close(): ${out}`);
    assert.equal(code, 0, out);
    assert.match(out, /closed\n/);
  };
  return { out: () => out, closeAndExit, kill: () => child.kill('SIGKILL') };
}
