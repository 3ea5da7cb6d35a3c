/**
 * Percent-escapes in a raw query string. uWS's getQuery(name) decodes an escape that is not
 * '%' and two hex digits into something anyway: `account=%ZZ` read as account 3 and
 * `account=%:1` as account 1 (a hostile-input audit), so a garbled request read another
 * account. HTTP routes refuse such a query with 400 before its parameters are read.
 * A parameter given twice is refused too: getQuery(name) takes the first, so
 * `/balances?account=1&account=2` read account 1 silently (POST bodies refuse a key twice).
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

/**
 * The name of the first parameter of `raw` given a second time (as written), or null. Names are
 * compared decoded (`acc%6Funt` is `account`: run after badEscapeParameter found none).
 */
export function repeatedParameter(raw: string): string | null {
  const seen = new Set<string>();
  // Bounded by the request line: uWS refuses headers past 4 KB (UWS_HTTP_MAX_HEADERS_SIZE).
  for (const pair of raw.split('&')) {
    const equals = pair.indexOf('=');
    const written = equals === -1 ? pair : pair.slice(0, equals);
    if (written === '') continue;
    const name = decodedName(written);
    if (seen.has(name)) return written.slice(0, nameShownMax);
    seen.add(name);
  }
  return null;
}

/** `written` decoded, or as written when its escapes are not UTF-8 (never a route's name). */
function decodedName(written: string): string {
  try {
    return decodeURIComponent(written);
  } catch {
    return written;
  }
}

/** Characters of a parameter's name an error shows (a message must not echo a whole query). */
const nameShownMax = 40;

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
