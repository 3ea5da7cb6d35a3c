/**
 * Output in which some lines are JSON log lines (a member's pino log, `bourse cluster`'s own
 * lines and the line `bourse cluster` or `bourse member` fails with when its stderr is not a
 * terminal: src/cli/log-format.ts), read by tests: the lines parsed, or each as its message.
 */

/** The JSON object lines of `out`, parsed; other lines are skipped. */
export function jsonLines(out: string): Record<string, unknown>[] {
  return out.split('\n').flatMap((line) => {
    const parsed = parsedLine(line);
    return parsed === null ? [] : [parsed];
  });
}

/** `out` with each JSON log line replaced by its message (`msg`); other lines as they are. */
export function readable(out: string): string {
  return out
    .split('\n')
    .map((line) => {
      const msg = parsedLine(line)?.msg;
      return typeof msg === 'string' ? msg : line;
    })
    .join('\n');
}

function parsedLine(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null; // a line cut short, or not JSON
  }
}
