/**
 * Reads of a node's read model that see every result already given: the read model
 * applies events a few ms after their results (PROTOCOL.md: compare sequences), so a GET
 * straight after an order's result missed it at times under load (cancel-on-disconnect, CI on
 * 1d88b21: 'a re-quote after the loss stays', [43] for [43, 45]).
 */

/**
 * GETs `path` of the node at `base` (http://host:port) until its answer's `sequence` reaches
 * the durable (on a cluster member, committed) sequence the node had when asked; 10 s at most,
 * then the last answer, for the caller's assertion to show. An answer other than 200 is
 * returned as it is (a 503 while the node serves no reads).
 */
export async function readDurable(
  base: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: unknown }> {
  const health = (await (await fetch(`${base}/health`)).json()) as {
    durableSequence: number;
    committedSequence?: number;
  };
  // A cluster member's read model follows the commit, which may trail its durable sequence.
  const durable = health.committedSequence ?? health.durableSequence;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await fetch(`${base}${path}`, init);
    const body: unknown = await res.json();
    const at = (body as { sequence?: number }).sequence ?? 0;
    if (res.status !== 200 || at >= durable || Date.now() > deadline) {
      return { status: res.status, body };
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The resting order ids of `account` (sorted), once the read model holds what was durable. */
export async function restingOrderIds(
  base: string,
  account: number,
  init: RequestInit = {},
): Promise<{ status: number; ids: number[] }> {
  const { status, body } = await readDurable(base, `/orders?account=${account}`, init);
  if (status !== 200) return { status, ids: [] };
  const ids = (body as { orders: { id: number }[] }).orders.map((o) => o.id);
  return { status, ids: ids.sort((a, b) => a - b) };
}
