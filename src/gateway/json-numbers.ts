/**
 * Number literals in a JSON body that JSON.parse would change. It reads every number as a
 * double: `100.0000000000000001` became 100 and `9007199254740993` became 9007199254740992, so
 * a POSTed amount was taken as another amount without a word (or refused quoting a number the
 * client never sent). Commands carry whole numbers only, so a literal with a fraction or an
 * exponent, or an integer past 2^53 - 1, is refused as written instead.
 *
 * A small scanner over valid JSON (JSON.parse has accepted it): strings are skipped, escapes
 * and all, so digits inside them are not numbers. Bodies are at most httpBodyMaxBytes (4 KB);
 * this runs once per POST /commands, not on the WebSocket path.
 */

/** Whether `literal` (a JSON number) is an integer within +-(2^53 - 1), written plainly. */
function exactInteger(literal: string): boolean {
  if (!/^-?(0|[1-9][0-9]*)$/.test(literal)) return false;
  const digits = literal.startsWith('-') ? literal.length - 1 : literal.length;
  if (digits < 16) return true; // 999,999,999,999,999 < 2^53
  const magnitude = BigInt(literal.startsWith('-') ? literal.slice(1) : literal);
  return magnitude <= BigInt(Number.MAX_SAFE_INTEGER);
}

/** Index of the quote that ends the string opening at `start` (valid JSON: there is one). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text.charCodeAt(i) !== 0x22) {
    i += text.charCodeAt(i) === 0x5c ? 2 : 1; // a backslash: the escaped character is skipped
  }
  return i;
}

/** Whether the first character after `from` that is not white space is ':' (a key ends). */
function keyFollows(text: string, from: number): boolean {
  let i = from;
  while (i < text.length && /\s/.test(text[i])) i++;
  return text[i] === ':';
}

/**
 * The refusal for the first number literal of `json` that is not an exact integer, naming its
 * key and quoting it as written; null when every number is one.
 */
export function inexactNumber(json: string): string | null {
  let key = '';
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(json, i);
      if (keyFollows(json, end + 1)) key = json.slice(i + 1, end);
      i = end;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      while (end < json.length && /[0-9.eE+-]/.test(json[end])) end++;
      const literal = json.slice(i, end);
      if (!exactInteger(literal)) {
        const where = key === '' ? '' : `${key}: `;
        return (
          `${where}${literal} is not a whole number JSON carries exactly: write a safe ` +
          `integer (at most ${Number.MAX_SAFE_INTEGER} either way), no fraction or exponent`
        );
      }
      i = end - 1;
    }
  }
  return null;
}
