/** `--name N` from the command line (a whole number from `min`), else `fallback`. */
export function flag(name: string, fallback: number, min = 1): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!(Number.isSafeInteger(value) && value >= min)) {
    throw new Error(`${name} takes a whole number from ${min}, not ${process.argv[at + 1]}`);
  }
  return value;
}
