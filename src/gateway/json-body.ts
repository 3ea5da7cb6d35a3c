/**
 * Checks of a JSON body's keys that JSON.parse does not make: a key given twice in one object
 * (JSON.parse keeps the last: `{"kind":"Transfer","kind":"Deposit"}` ran a Deposit), and keys
 * that reach an object's prototype (`__proto__`, copied into an object by assignment, set its
 * prototype: the command's fields were then read through it, past the checks of unknown
 * fields and types; `{"kind":"Transfer",...,"__proto__":{"amount":7}}` transferred 7).
 * Both were found by a hostile-input audit of POST /commands.
 *
 * The body is at most httpBodyMaxBytes and has parsed as JSON already, so one pass over its
 * characters suffices: strings are skipped whole, and a stack holds each open object's keys.
 */
import { shown } from '../protocol/shown.js';

/** Names no command field has, refused at any depth: each reaches a prototype. */
const prototypeNames = new Set(['__proto__', 'constructor', 'prototype']);

/** Why the keys of `text` (JSON that parsed) are refused, or null when they are fine. */
export function jsonKeyProblem(text: string): string | null {
  // Each open container: the keys of an object so far, or null for an array.
  const open: (Set<string> | null)[] = [];
  let keyNext = false;
  for (let at = 0; at < text.length; at++) {
    const c = text[at];
    if (c === '"') {
      const end = stringEnd(text, at);
      const keys = open.length === 0 ? null : open[open.length - 1];
      if (keys !== null && keyNext) {
        const key = JSON.parse(text.slice(at, end + 1)) as string; // "\u006bind" is kind
        if (prototypeNames.has(key)) return `${shown(key)}: not a field name`;
        if (keys.has(key)) return `${shown(key)}: given twice`;
        keys.add(key);
        keyNext = false;
      }
      at = end;
    } else if (c === '{') {
      open.push(new Set());
      keyNext = true;
    } else if (c === '[') {
      open.push(null);
    } else if (c === '}' || c === ']') {
      open.pop();
    } else if (c === ',') {
      keyNext = open.length > 0 && open[open.length - 1] !== null;
    }
  }
  return null;
}

/** The index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  let at = start + 1;
  while (text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
  return at;
}
