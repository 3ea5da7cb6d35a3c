/**
 * What a result waited for, as each load bench labels its table and its JSON line (`mode`):
 * figures from one node and from a cluster differ by a network round trip and a second disk,
 * and must not be read as one another.
 */

/** bench:e2e and bench:pipeline: one node, no standby. */
export const singleNodeMode = 'single node: durable on its disk before each result, no replication';

/** A cluster of `members`: a result waits for its batch on a majority's disks. */
export function quorumMode(members: number): string {
  const majority = Math.floor(members / 2) + 1;
  return `quorum: durable on ${majority} of ${members} members before each result`;
}

/** The short form for a table's title. */
export function modeTitle(mode: string): string {
  if (mode.startsWith('quorum')) return 'quorum';
  if (mode === singleNodeMode) return 'single node, no replication';
  return 'mode unknown';
}

/**
 * The mode of a running node from its GET /health body (src/gateway/http.ts): a cluster member
 * names its `members`, a single node does not.
 */
export function modeOfHealth(body: unknown): string {
  const members = (body as { members?: unknown } | null)?.members;
  if (Array.isArray(members) && members.length > 0) return quorumMode(members.length);
  return singleNodeMode;
}

/** ws://host:port/ → http://host:port/health (wss → https); null for another scheme. */
export function healthUrl(member: string): string | null {
  let url: URL;
  try {
    url = new URL(member);
  } catch {
    return null;
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return null;
  url.protocol = url.protocol === 'ws:' ? 'http:' : 'https:';
  url.pathname = '/health';
  url.search = '';
  return url.href;
}

/**
 * Asks each member's /health in turn (5 s each) for the mode; the reasons when none answers.
 */
export async function modeOfMembers(
  members: readonly string[],
): Promise<{ mode: string } | { unreachable: string }> {
  const reasons: string[] = [];
  for (const member of members) {
    try {
      const answer = await fetch(healthUrl(member)!, { signal: AbortSignal.timeout(5_000) });
      if (answer.ok) return { mode: modeOfHealth(await answer.json()) };
      reasons.push(`${member}: /health answered ${answer.status}`);
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      reasons.push(`${member}: ${cause ?? (error as Error).message}`);
    }
  }
  return { unreachable: reasons.join('; ') };
}
