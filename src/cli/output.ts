/**
 * How the CLI talks to people: plain tables on stdout, messages on stderr, and a progress bar on
 * stderr only when it is a terminal (so piped output and tests stay clean).
 */
import { createRequire } from 'node:module';
import { InvalidArgumentError } from 'commander';
import { ListenError } from '../gateway/listen-error.js';
import { writeFailure } from '../journal/journal-errors.js';
import { replaceFile } from '../gateway/replace-file.js';
import { readTimeUs } from '../protocol/time-us.js';

/**
 * Rows as aligned columns: a column of numbers (empty cells aside) to the right, any other to
 * the left (the drill's measures, keys' grants and dates were pushed right, ragged on their
 * left edge). `rule`: a line of dashes under the header (the benches': bench/lib/table.ts).
 */
export function table(rows: readonly Record<string, unknown>[], rule = false): string {
  if (rows.length === 0) return '(none)';
  const keys = Object.keys(rows[0]);
  const cells = rows.map((r) => keys.map((k) => String(r[k])));
  const widths = keys.map((k, i) => Math.max(k.length, ...cells.map((c) => c[i].length)));
  const numeric = keys.map((_, i) => cells.every((c) => c[i] === '' || numberCell.test(c[i])));
  const pad = (v: string, i: number): string =>
    numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]);
  const line = (values: string[]): string => values.map(pad).join('  ').trimEnd();
  const head = rule ? [line(keys), widths.map((w) => '-'.repeat(w)).join('  ')] : [line(keys)];
  return [...head, ...cells.map(line)].join('\n');
}

/** A number as the CLI prints one: digits, a sign, separators, a point; or '-' for none. */
const numberCell = /^(-|[-+]?[\d,._]*\d[\d,._]*)$/;

export interface Progress {
  update(value: number): void;
  /** Writes `line` on stderr: on a terminal, above the bar, which is drawn again below it. */
  say(line: string): void;
  stop(): void;
}

export function progressBar(label: string, total: number): Progress {
  const write = (line: string): void => void process.stderr.write(`${line}\n`);
  if (!process.stderr.isTTY) return { update: () => {}, say: write, stop: () => {} };
  // Loaded for a terminal's bar only: 30 ms of CPU of every `bourse` call otherwise.
  const cliProgress = createRequire(import.meta.url)(
    'cli-progress',
  ) as typeof import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total}`,
      stream: process.stderr,
      // Drawn again after a line said above it, unchanged as it is (else only once it moves).
      forceRedraw: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  const say = (line: string): void => {
    // The bar's line cleared and the line in its place; the bar's new line saved as the one
    // its stop goes back to (ESC 7, as its start did): it went back above the lines said.
    process.stderr.write(`\r\x1b[2K${line}\n\x1b7`);
    bar.render();
  };
  return { update: (v) => bar.update(v), say, stop: () => bar.stop() };
}

/** Parses a time given as ISO-8601 or as microseconds since the epoch (protocol/time-us.ts). */
export function parseTimeUs(text: string): number {
  const time = readTimeUs(text);
  if (time.problem !== null) throw new UsageError(`--to-time: ${time.problem}`);
  return time.us;
}

/**
 * A port that could not be bound, as the message for people (exit code 69, EX_UNAVAILABLE), or
 * null for any other error: the client port (uWS says only that it failed) or a UDP
 * replication port (node's error names the address, the port and why).
 */
export function bindFailure(error: unknown): string | null {
  if (error instanceof ListenError) {
    return `${error.message}: the port is in use, or the address is not this machine's`;
  }
  type SystemError = NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };
  const e = error as SystemError | null;
  if (e?.syscall === 'bind') return `cannot bind ${e.address}:${e.port} (udp): ${e.code}`;
  if (e?.syscall === 'getaddrinfo') return `cannot resolve ${e.hostname} to bind it: ${e.code}`;
  return null;
}

/** A commander argument parser from one that throws UsageError (commander names the flag). */
export const asOption =
  (parse: (name: string, text: string) => number) => (name: string) => (text: string) => {
    try {
      return parse(name, text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };

/** A wrong flag or value: exit code 64 (EX_USAGE) with the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure told by its message, with the exit code it ends in. */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A TCP or UDP port: 0 (any free one, where the flag allows it) to 65535. */
export function parsePort(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new UsageError(`${name}: '${text}' is not a port (0 to 65535)`);
  }
  return value;
}

/** A whole number of 1 or more (a 0 would mean "always": snapshots back to back). */
export function parsePositive(name: string, text: string): number {
  const value = wholeNumber(text);
  refuseTooLarge(name, text);
  if (value < 1) throw new UsageError(`${name}: '${text}' is not a whole number ≥ 1`);
  return value;
}

export function parseCount(name: string, text: string): number {
  const value = wholeNumber(text);
  refuseTooLarge(name, text);
  if (value < 0) throw new UsageError(`${name}: '${text}' is not a whole number ≥ 0`);
  return value;
}

/**
 * Digits past what a number holds exactly: said so. "--snapshot-events: '9999999999999999' is
 * not a whole number ≥ 1" was said of a whole number ≥ 1. @throws UsageError
 */
function refuseTooLarge(name: string, text: string): void {
  if (!/^\d+$/.test(text) || Number.isSafeInteger(Number(text))) return;
  const max = Number.MAX_SAFE_INTEGER;
  throw new UsageError(`${name}: '${text}' is too large (at most ${max})`);
}

/**
 * Decimal digits as a safe integer, or -1. `Number` also took '' (0: `--to-seq ""` replayed
 * nothing), '0x10', '1e3' and ' 7'.
 */
function wholeNumber(text: string): number {
  const value = /^\d{1,16}$/.test(text) ? Number(text) : -1;
  return Number.isSafeInteger(value) ? value : -1;
}

/** What a `bourse` exit code says (program.ts maps failures to them), for a supervisor's log. */
export function exitCodeMeaning(code: number): string {
  switch (code) {
    case 0:
      return 'stopped';
    case 64:
      return 'bad usage or settings';
    case 65:
      return 'data corrupt, of another schema or another member';
    case 66:
      return 'data missing';
    case 68:
      return 'host name unknown';
    case 69:
      return 'address or port unavailable';
    case 73:
      return 'data folder not writable';
    case 74:
      return 'disk full or failing';
    case 71:
      return 'a program it needs is missing or failed (flock)';
    case 75:
      return 'data folder in use';
    case 78:
      return 'not a bourse data folder';
    default:
      return 'internal error';
  }
}

/**
 * Writes `text` to `path` through a temporary file and a rename (a reader never sees half of
 * it); a disk's failure is told as such (writeFailure: 74 full, 73 read-only) and leaves
 * nothing behind.
 */
export function writeFileWhole(path: string, text: string): void {
  try {
    replaceFile(path, text);
  } catch (error) {
    throw writeFailure(error, path);
  }
}
