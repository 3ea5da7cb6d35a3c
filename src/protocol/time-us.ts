/**
 * Times as people type and read them, in microseconds since 1970 (the journal's unit): parsed
 * for replay --to-time and GET /events?from-time alike, printed wherever one may be pasted back.
 * Date.parse keeps milliseconds: '…55.118904Z' was read as '…55.118Z', so replaying to the
 * exact time of an event left that event out, and a page from …626904 began with …626903.
 */
import { readTimeUsMax, readTimeUsMin } from '../constants.js';

/** A time read, or why not (a sentence without the flag's name). */
export type TimeRead = { us: number; problem: null } | { us: -1; problem: string };

/** YYYY-MM-DD, optionally with a time to the second and a fraction of up to 6 digits. */
const isoForm =
  /^(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/;

const rangeText =
  'a time from 2000-01-01 to 2255-01-01 (or 0: before every event), as ISO-8601 ' +
  '(2026-11-24T12:00:00.123456Z) or microseconds since 1970 (16 digits)';

/**
 * Microseconds since 1970 (digits only) or ISO-8601 (a time without a zone is local, as
 * Date.parse reads it); a fraction of a second keeps all of its up to 6 digits.
 */
export function readTimeUs(text: string): TimeRead {
  const us = /^\d{1,20}$/.test(text) ? Number(text) : isoUs(text);
  if (typeof us === 'string') return { us: -1, problem: us };
  if (us !== 0 && (us < readTimeUsMin || us > readTimeUsMax)) {
    const millis = /^\d{13}$/.test(text) ? ' (13 digits: milliseconds? µs have 16)' : '';
    return { us: -1, problem: `'${text}' is out of range${millis}: ${rangeText}` };
  }
  return { us, problem: null };
}

/** An ISO-8601 time in µs, or why it is not one. */
function isoUs(text: string): number | string {
  // The form first: V8 reads much else as a date too ('-5' as May 2001, 'Jan 1 2020').
  const m = isoForm.exec(text);
  if (m === null) return `'${text}' is not ${rangeText}`;
  const fraction = m[2] ?? '';
  if (fraction.length > 6) return `'${text}': at most 6 digits after the second (microseconds)`;
  if (fraction !== '' && !/:\d{2}:\d{2}$/.test(m[1])) return `'${text}' is not ${rangeText}`;
  const ms = Date.parse(m[1] + (m[3] ?? ''));
  if (Number.isNaN(ms) || !dayExists(m[1])) return `'${text}' is not ${rangeText}`;
  return ms * 1000 + Number(fraction.padEnd(6, '0'));
}

/**
 * Whether the date's day is one its month has. Date.parse takes any day up to 31: 2026-02-30
 * was read as 2 March and 2026-11-31 as 1 December, so a mistyped date replayed to another day
 * without a word.
 */
function dayExists(date: string): boolean {
  const [year, month, day] = date.slice(0, 10).split('-').map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate(); // day 0: the month's last
  return day >= 1 && day <= daysInMonth;
}

/** `us` as ISO-8601 in UTC with all six digits of the fraction: 2026-12-04T19:54:55.118904Z. */
export function isoTimeUs(us: number): string {
  const ms = Math.floor(us / 1000);
  const micros = String(us - ms * 1000).padStart(3, '0');
  return new Date(ms).toISOString().replace(/Z$/, micros + 'Z');
}
