/**
 * Percent-escapes in a raw query string. uWS's getQuery(name) decodes an escape that is not
 * '%' and two hex digits into something anyway: `account=%ZZ` read as account 3 and
 * `account=%:1` as account 1 (a hostile-input audit), so a garbled request read another
 * account. HTTP routes refuse such a query with 400 before its parameters are read.
 */

/** The name of the first parameter of `raw` with a malformed escape (as written), or null. */
export function badEscapeParameter(raw: string): string | null {
  for (let at = raw.indexOf('%'); at !== -1; at = raw.indexOf('%', at + 1)) {
    if (isHex(raw.charCodeAt(at + 1)) && isHex(raw.charCodeAt(at + 2))) continue;
    const start = raw.lastIndexOf('&', at) + 1;
    const equals = raw.indexOf('=', start);
    const end = equals === -1 || equals > at ? at : equals; // an escape in the name: up to it
    return raw.slice(start, Math.min(end, start + nameShownMax));
  }
  return null;
}

/** Characters of a parameter's name an error shows (a message must not echo a whole query). */
const nameShownMax = 40;

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
