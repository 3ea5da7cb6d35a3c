/**
 * Reads of a node's read model that see every result already given: the read model
 * applies events a few ms after their results (PROTOCOL.md: compare sequences, or ask `at=`),
 * so a GET straight after an order's result missed it at times under load (cancel-on-disconnect,
 * CI on 1d88b21: 'a re-quote after the loss stays', [43] for [43, 45]).
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
 * GETs `url` asking `at=` `sequence` (the node waits for its read model to reach it: PROTOCOL.md,
 * "Reading your own writes") until it answers 200 there or past; `ms` at most, then the last
 * answer, for the caller's assertion to show. It polled alone before the node took `at`. A 503
 * READ_MODEL_BEHIND (not reached in the node's wait) is asked again, and so is a status `again`
 * holds: by default a 404; any other is returned as it is (a 503 while the node serves no reads).
 */
export async function readAt(
  url: string,
  sequence: number,
  init: RequestInit = {},
  ms = 10_000,
  again = (status: number): boolean => status === 404,
): Promise<Read> {
  const deadline = Date.now() + ms;
  const asked = new URL(url);
  asked.searchParams.set('at', String(Math.max(0, sequence)));
  for (;;) {
    const res = await fetch(asked, init);
    const read = { status: res.status, body: (await res.json()) as unknown };
    const behind = (read.body as { code?: string }).code === 'READ_MODEL_BEHIND';
    const waiting =
      read.status === 200 ? sequenceOf(read) < sequence : behind || again(read.status);
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
