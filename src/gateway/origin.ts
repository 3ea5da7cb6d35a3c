/**
 * Requests that a web page may have sent. A node without keys (development mode) makes every
 * session admin, so any page a developer opened could use it: a cross-origin `text/plain` POST
 * /commands (a "simple" request, sent without a preflight) was processed, and a page could open
 * the admin WebSocket, from any site or by DNS rebinding (a hostile-input audit).
 *
 *   Origin absent ──────────────────────────────► not a browser's page: allowed
 *   Origin = http(s)://<Host>, Host an IP or localhost ─► the node's own page: allowed
 *   otherwise (development mode) ───────────────► 403
 *
 * A rebound name makes Origin and Host agree (both say evil.example), so the Host must be a
 * name DNS cannot rebind: an IP literal or localhost. With keys a page needs a key anyway.
 */
import type { HttpRequest } from './uws.js';

/** Why a request from a browser page is refused in development mode (403), or null. */
export function crossOriginRefusal(req: HttpRequest, development: boolean): string | null {
  const origin = req.getHeader('origin');
  if (!development || origin === '') return null;
  const host = req.getHeader('host');
  const own = origin === `http://${host}` || origin === `https://${host}`;
  if (own && unrebindable(host)) return null;
  return (
    `development mode (no API keys): requests from web pages of other origins are refused ` +
    `(Origin ${origin.slice(0, 80)})`
  );
}

/** Whether a Host header names an IP address or localhost (with a port or not). */
function unrebindable(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  if (name === 'localhost' || name.startsWith('[')) return true;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name);
}

/** Whether a POST's Content-Type is JSON (`application/json`, with parameters or not). */
export function isJsonContentType(req: HttpRequest): boolean {
  const type = req.getHeader('content-type').split(';')[0].trim().toLowerCase();
  return type === 'application/json';
}

/**
 * Why a POST was refused for its Content-Type: what came and what to send. It said only
 * "content-type: application/json", and `curl -d` (which sends form encoding) met it first.
 */
export function contentTypeRefusal(req: HttpRequest): string {
  const sent = req.getHeader('content-type').slice(0, 80);
  const came = sent === '' ? 'no content-type' : `content-type ${JSON.stringify(sent)}`;
  return (
    `content-type: application/json required; this request had ${came} ` +
    "(curl -d sends application/x-www-form-urlencoded: add -H 'content-type: application/json')"
  );
}
