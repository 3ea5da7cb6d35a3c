/**
 * `--name N` from the command line (a whole number from `min`), else `fallback`. A bad value
 * ends the bench with the message and exit code 64 (bad usage), not a stack trace.
 */
export function flag(name: string, fallback: number, min = 1): number {
  try {
    return parseFlag(name, fallback, min);
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exit(64);
  }
}

/** The same, throwing on a bad value (for tests). */
export function parseFlag(name: string, fallback: number, min = 1): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!(Number.isSafeInteger(value) && value >= min)) {
    throw new Error(`${name} takes a whole number from ${min}, not ${process.argv[at + 1]}`);
  }
  return value;
}
