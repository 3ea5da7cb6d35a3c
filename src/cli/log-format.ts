/**
 * The CLI's own lines on stderr where they share the stream with the members' logs: `bourse
 * cluster`'s supervisor lines, and the line `bourse cluster` or `bourse member` fails with.
 * Text for a person at a terminal; JSON lines of the members' own shape (pino's: level, time,
 * pid, fields, msg) for a collector, which then reads one format:
 *
 *   {"level":"warn","time":"2026-12-05T12:00:00.000Z","pid":4242,"name":"bourse cluster",
 *    "member":3,"event":"exited","code":74,"signal":null,"ranMs":5230,"restartMs":1000,
 *    "msg":"member 3 exited (exit code 74: disk full or failing); starting it again in 1 s"}
 *
 * JSON when asked (--log-format json, BOURSE_LOG_FORMAT=json) or, unasked, when stderr is
 * not a terminal; text when asked, or on a terminal. Before, the supervisor's text lines came
 * between its members' JSON lines on the same stream, and a collector had to parse both.
 */
import type { LogFormat } from './choices.js';

export type OwnLevel = 'info' | 'warn' | 'error' | 'fatal';

/** --log-format's variable (config.ts), set for the members a supervisor starts. */
export const logFormatVariable = 'BOURSE_LOG_FORMAT';

/** The running command's format and the fields of its every JSON line, once it chose. */
let chosen: { format: LogFormat; fields: Record<string, unknown> } | null = null;

/** The format asked for, else by stderr: JSON unless it is a terminal. */
export function resolveLogFormat(asked: LogFormat | undefined): LogFormat {
  return asked ?? (process.stderr.isTTY === true ? 'text' : 'json');
}

/** Sets the running command's format (and fields on each JSON line); returns the format. */
export function chooseLogFormat(
  asked: LogFormat | undefined,
  fields: Record<string, unknown> = {},
): LogFormat {
  chosen = { format: resolveLogFormat(asked), fields };
  return chosen.format;
}

/** The format the running command chose, or null when it chose none (its lines are text). */
export function chosenLogFormat(): LogFormat | null {
  return chosen?.format ?? null;
}

/**
 * Writes one line on stderr: `prefix: message` as text, or a JSON line at `level` with the
 * command's fields and `fields`. Unchosen, the format follows stderr (resolveLogFormat).
 */
export function writeOwnLine(
  prefix: string,
  message: string,
  level: OwnLevel = 'info',
  fields: Record<string, unknown> = {},
): void {
  const format = chosen?.format ?? resolveLogFormat(undefined);
  if (format === 'text') {
    process.stderr.write(`${prefix}: ${message}\n`);
    return;
  }
  const time = new Date().toISOString();
  const line = { level, time, pid: process.pid, ...chosen?.fields, ...fields, msg: message };
  process.stderr.write(JSON.stringify(line) + '\n');
}
