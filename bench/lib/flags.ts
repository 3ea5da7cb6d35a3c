/**
 * A bench's command line. `checkArgs` first: what the bench takes, for --help and for anything
 * else given (a typo as `--smal` or `--rate=5000` was ignored, and the bench ran its large size
 * for minutes; `--help` ran it too). Then `flag` for each number.
 */

/** What a bench takes: how it is run, its switches and its flags with a value, each described. */
export interface BenchUsage {
  /** The command, as `npm run bench:e2e --`. */
  run: string;
  /** Flags without a value (`--small`): what each does. */
  switches: Record<string, string>;
  /** Flags followed by a value (`--rate N`): what each sets. */
  values: Record<string, string>;
  /** How --help names a flag's value where it is not a number (N). */
  valueNames?: Record<string, string>;
}

/**
 * Ends the bench on a command line it does not take (the message and the usage, exit 64), or
 * on --help / -h (the usage on stdout, exit 0); returns when every argument is one it takes.
 */
export function checkArgs(usage: BenchUsage): void {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usageText(usage));
    process.exit(0);
  }
  const problem = argsProblem(args, usage);
  if (problem === null) return;
  process.stderr.write(`bench: ${problem}\n${usageText(usage)}`);
  process.exit(64);
}

/** What is wrong with `args` for a bench that takes `usage`, or null when nothing is. */
export function argsProblem(args: readonly string[], usage: BenchUsage): string | null {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (Object.hasOwn(usage.switches, arg)) continue;
    if (!Object.hasOwn(usage.values, arg)) {
      const known = [...Object.keys(usage.switches), ...Object.keys(usage.values)].join(', ');
      return `'${arg}' is not an option of this bench (it takes ${known})`;
    }
    if (i + 1 === args.length) return `${arg} takes a value`;
    i++;
  }
  return null;
}

/** "usage: <run> [--small] [--rate N]" and a line for each flag. */
export function usageText(usage: BenchUsage): string {
  const rows: [string, string][] = [
    ...Object.entries(usage.switches),
    ...Object.entries(usage.values).map(([name, what]): [string, string] => {
      const value = usage.valueNames?.[name] ?? 'N';
      return [`${name} ${value}`, what];
    }),
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const synopsis = rows.map(([name]) => `[${name}]`).join(' ');
  const lines = rows.map(([name, what]) => `  ${name.padEnd(width)}  ${what}\n`);
  return `usage: ${usage.run} ${synopsis}\n${lines.join('')}`;
}

/**
 * `--name N` from the command line (a whole number from `min` to `max`), else `fallback`. A bad
 * value ends the bench with the message and exit code 64 (bad usage), not a stack trace.
 */
export function flag(
  name: string,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  try {
    return parseFlag(name, fallback, min, max);
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exit(64);
  }
}

/** The same, throwing on a bad value (for tests). */
export function parseFlag(
  name: string,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!(Number.isSafeInteger(value) && value >= min && value <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `from ${min}` : `from ${min} to ${max}`;
    throw new Error(`${name} takes a whole number ${range}, not ${process.argv[at + 1]}`);
  }
  return value;
}
