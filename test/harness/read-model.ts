/**
 * Reads of a node's read model that see every result already given: the read model
 * applies events a few ms after their results (PROTOCOL.md: compare sequences), so a GET
 * straight after an order's result missed it at times under load (cancel-on-disconnect, CI on
 * 1d88b21: 'a re-quote after the loss stays', [43] for [43, 45]).
 */

/** A read's answer: its HTTP status and its JSON body. */
export interface Read {
  status: number;
  body: unknown;
}

/** The `sequence` a read model answer names (0 for one without, such as an error). */
export const sequenceOf = (read: Read): number =>
  (read.body as { sequence?: number }).sequence ?? 0;

/**
 * GETs `url` until it answers 200 at `sequence` or past; `ms` at most, then the last answer,
 * for the caller's assertion to show. A status `again` holds is asked again: by default a 404
 * (an account created by a command just answered is unknown to the read model until it gets
 * there); any other is returned as it is (a 503 while the node serves no reads).
 */
export async function readAt(
  url: string,
  sequence: number,
  init: RequestInit = {},
  ms = 10_000,
  again = (status: number): boolean => status === 404,
): Promise<Read> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await fetch(url, init);
    const read = { status: res.status, body: (await res.json()) as unknown };
    const waiting = read.status === 200 ? sequenceOf(read) < sequence : again(read.status);
    if (!waiting || Date.now() > deadline) return read;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * GETs `path` of the node at `base` (http://host:port) once its answer reaches the durable
 * (on a cluster member, committed) sequence the node had when asked: `readAt` of that.
 */
export async function readDurable(
  base: string,
  path: string,
  init: RequestInit = {},
): Promise<Read> {
  const health = (await (await fetch(`${base}/health`)).json()) as {
    durableSequence: number;
    committedSequence?: number;
  };
  // A cluster member's read model follows the commit, which may trail its durable sequence.
  const sequence = health.committedSequence ?? health.durableSequence;
  return readAt(`${base}${path}`, sequence, init, 10_000, () => false); // any status as it is
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
