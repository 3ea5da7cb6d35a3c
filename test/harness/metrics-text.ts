/** Reading Prometheus text (what /metrics answers) in tests. */

/** The value of one series (its name and labels, as written), or NaN when it is not there. */
export function seriesValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

/** GET /metrics of the node whose gateway's WebSocket address is `url` (ws://host:port/). */
export async function metricsAt(url: string): Promise<string> {
  return (await fetch(`${url.replace(/^ws/, 'http')}metrics`)).text();
}
