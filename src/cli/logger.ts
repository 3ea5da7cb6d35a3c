/**
 * The log of `bourse start` and `bourse member`: one JSON object per line on stderr (pino),
 * written synchronously, so that a line said just before a crash or a SIGKILL is not lost:
 *
 *   {"level":"info","time":"2026-11-24T12:00:00.000Z","pid":4242,"member":2,"role":"primary",
 *    "term":3,"msg":"member 2: took over in 41 ms at sequence 15402"}
 *
 * Nodes and members only call a `log(line, level)` callback (tests keep the lines in memory);
 * this is the CLI's implementation of it. `msg` is the line as the node wrote it. The level
 * comes from BOURSE_LOG_LEVEL (info by default). Lines never carry secrets: nothing that logs
 * sees an API key, and fields that could hold one are redacted anyway.
 */
import { pino } from 'pino';
import type { LogLevel, NodeLog } from '../pipeline/node.js';
import { UsageError } from './output.js';

const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * A `log` callback that writes JSON lines with the `fields` given, and those `current()`
 * returns at each line (role and term, which change while a member runs).
 * @throws UsageError when BOURSE_LOG_LEVEL names no level.
 */
export function cliLog(
  fields: Record<string, unknown>,
  current: () => Record<string, unknown> = () => ({}),
): NodeLog {
  const level = process.env.BOURSE_LOG_LEVEL ?? 'info';
  if (!levels.includes(level)) {
    throw new UsageError(`BOURSE_LOG_LEVEL: '${level}' is not one of ${levels.join(', ')}`);
  }
  const logger = pino(
    {
      level,
      base: { pid: process.pid, ...fields },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: current,
      redact: {
        paths: ['key', 'apiKey', 'secret', 'token', 'authorization'],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: 2, sync: true }),
  );
  return (line: string, at: LogLevel = 'info') => logger[at](line);
}
