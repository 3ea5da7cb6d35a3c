/**
 * One of bench:peer-postgres's bourse client processes. PostgreSQL's side runs many
 * connections from the bench; bourse's side runs several SDK connections, each in its own
 * process (an SDK connection is single-threaded JavaScript, as e2e's load processes are). Each
 * lane takes the items lane, lane + lanes, lane + 2 × lanes ... of the same seeded stream.
 *
 *   argv: url clientId lane lanes window warmup seed transfers accounts amountMax checksum batch
 *   lane ─{kind: 'ready'}─► bench ─'go'─► lane ─{kind: 'done', rejected, failed, ...}─► bench
 *
 * Before 'ready' it makes the stream (and checks its checksum) and sends its share of the
 * untimed warm-up: transfers of 1 to and fro between the two accounts after the stream's.
 * With `batch` > 0 the lane sends its share through submitBatch, `batch` transfers per call
 * (window / batch calls in flight); with 0, one `transfer` call (one promise) per transfer.
 */
import { BourseClient } from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { Status } from '../../src/protocol/status.js';
import { closedLoop, makeStream } from './transfer-stream.js';

const args = process.argv.slice(2).map((a, i) => (i === 0 || i === 10 ? a : Number(a)));
const [url, clientId, lane, lanes, window, warmup, seed, transfers, accounts, amountMax] = args as [
  string,
  ...number[],
];
const checksum = args[10] as string;
const batch = Number(args[11]);
const asset = 1;

const stream = makeStream({ seed, transfers, accounts, amountMax });
if (stream.checksum !== checksum) throw new Error('bourse lane: another stream than the bench');
const client = await BourseClient.connect(url, { clientId, inFlightMax: window });
const [a, b] = [accounts + 1, accounts + 2];
type Transfer = { account: number; target: number; ref: number; quantity: number };

/**
 * Sends the transfers `items` name the way this lane was told to: calls of `batch` transfers,
 * window / batch calls in flight, or (batch 0) one call per transfer, window in flight.
 * `fill` writes item i's fields; `answered` hears each transfer's status and sequence.
 * Batch lists belong to a call slot and are refilled inside the timed loop (the SDK has copied
 * a list into its frame by the time the call resolves), as a streaming client reuses buffers.
 * Returns the elapsed ms.
 */
async function send(
  items: readonly number[],
  fill: (i: number, f: Transfer) => void,
  answered: (status: number, sequence: number) => void,
): Promise<number> {
  const fresh = (i: number): Transfer => {
    const f = { account: 0, target: 0, ref: asset, quantity: 0 };
    fill(i, f);
    return f;
  };
  if (batch === 0) {
    return closedLoop(items, window, async (i) => {
      const [head] = await client.transfer(fresh(i));
      answered(head.status, head.sequence);
    });
  }
  const inFlight = Math.max(1, Math.floor(window / batch));
  const lists = Array.from({ length: inFlight }, () => [] as Transfer[]);
  return closedLoop(Math.ceil(items.length / batch), inFlight, async (c, slot) => {
    const list = lists[slot];
    const first = c * batch;
    list.length = Math.min(batch, items.length - first);
    for (let k = 0; k < list.length; k++) {
      if (list[k] === undefined) list[k] = fresh(items[first + k]);
      else fill(items[first + k], list[k]);
    }
    const r = await client.submitBatch(CommandKind.Transfer, list);
    for (let k = 0; k < r.count; k++) answered(r.status[k], r.sequence[k]);
  });
}

// The warm-up goes the way the stream will (in batches or one by one), so that V8 has
// compiled that path in this process and in the node: transfers of 1 to and fro.
const warmups = Array.from({ length: Math.ceil(warmup / lanes) }, (_, i) => i);
await send(
  warmups,
  (i, f) => {
    [f.account, f.target] = i % 2 === 0 ? [a, b] : [b, a];
    f.quantity = 1;
  },
  (status) => {
    if (status !== Status.Ok) throw new Error('a warm-up transfer was refused');
  },
);
const mine: number[] = [];
for (let i = lane; i < transfers; i += lanes) mine.push(i);
process.send?.({ kind: 'ready' });
await new Promise((resolve) => process.once('message', resolve));

let rejected = 0;
let failed = 0;
let sequenceMax = 0;
const cpu = process.cpuUsage();
const elapsedMs = await send(
  mine,
  (i, f) => {
    f.account = stream.from[i];
    f.target = stream.to[i];
    f.quantity = stream.amount[i];
  },
  (status, sequence) => {
    if (status === Status.LedgerInsufficientFunds) rejected++;
    else if (status !== Status.Ok) failed++;
    if (sequence > sequenceMax) sequenceMax = sequence;
  },
);
const used = process.cpuUsage(cpu);
const cpuMs = (used.user + used.system) / 1000;
await client.close();
process.send?.({ kind: 'done', rejected, failed, sequenceMax, elapsedMs, cpuMs }, () =>
  process.exit(0),
);
