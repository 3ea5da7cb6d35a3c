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

function isAcceptingPrimary(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (!URL.canParse(url)) return resolve(false); // a throw here would go unhandled
    const at = new URL(url);
    const options = { host: at.hostname, port: at.port, path: '/health', agent: false };
    const request = get({ ...options, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += body.length < 4096 ? chunk : ''));
      response.on('end', () => resolve(acceptsCommands(body)));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
    request.on('close', () => resolve(false)); // after 'end' (which won), or cut short
  });
}

function acceptsCommands(body: string): boolean {
  try {
    const health = JSON.parse(body) as { role?: unknown; accepting?: unknown };
    return health.role === 'primary' && health.accepting === true;
  } catch {
    return false;
  }
}
