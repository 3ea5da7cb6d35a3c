/**
 * A value as an error message shows it: strings in quotes (so that "7" is told from 7),
 * objects as JSON, nothing as 'nothing', a BigInt as one, and at most 40 characters of it (a
 * message must not echo a whole hostile body).
 */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'bigint') return `${value}n (a BigInt; numbers are plain numbers)`;
  const json = typeof value === 'string' || (typeof value === 'object' && value !== null);
  const text = json ? JSON.stringify(value) : String(value);
  return text.length > shownCharsMax ? `${text.slice(0, shownCharsMax)}...` : text;
}

const shownCharsMax = 40;
