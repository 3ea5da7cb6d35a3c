/**
 * Asks the other members whether one of them is a primary taking commands, for a connection
 * gone quiet. A primary cut off the network keeps its connections open and says nothing, while
 * the others elect within a second: their /health then names a primary that accepts, and the
 * SDK goes there at once instead of waiting out its silence (2 s). One GET per member, with a
 * timeout, each on a connection of its own (a keep-alive pool would hold a connection to a
 * member that may restart on that port). Only for ws:// addresses: a wss:// one is a TLS
 * proxy's, whose HTTP side this does not know.
 */
import { get } from 'node:http';

/** The first of `urls` whose member says it is a primary taking commands, or null. */
export function primaryAmong(urls: readonly string[], timeoutMs: number): Promise<string | null> {
  const asked = urls.filter((u) => u.startsWith('ws://'));
  return new Promise((resolve) => {
    let left = asked.length;
    if (left === 0) return resolve(null);
    for (const url of asked) {
      void isAcceptingPrimary(url, timeoutMs).then((yes) => {
        left--;
        if (yes)
          resolve(url); // the first wins; later answers change nothing
        else if (left === 0) resolve(null);
      });
    }
  });
}

async function isAcceptingPrimary(url: string, timeoutMs: number): Promise<boolean> {
  if (!URL.canParse(url)) return false; // a throw would go unhandled
  const at = new URL(url);
  const health = await healthOf(at.hostname, Number(at.port), timeoutMs);
  return health?.role === 'primary' && health.accepting === true;
}

/**
 * A node's /health (docs/PROTOCOL.md), or null when it does not answer within `timeoutMs` or
 * answers no JSON object. One GET on a connection of its own, closed after (no agent): fetch's
 * pool kept a socket to a member's port, which a later request used after the member had
 * stopped or restarted there. (pipeline/formation-check.ts does the same for a member: its
 * folder may not import this one.)
 */
export function healthOf(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<Record<string, unknown> | null> {
  return new Promise((resolve) => {
    const options = { host, port, path: '/health', agent: false, timeout: timeoutMs };
    const request = get(options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += body.length < 4096 ? chunk : ''));
      response.on('end', () => resolve(objectIn(body)));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(null));
    request.on('close', () => resolve(null)); // after 'end' (which won), or cut short
  });
}

function objectIn(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
