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
// The warm-up goes the way the stream will (in batches or one by one), so that V8 has
// compiled that path in this process and in the node.
const warm = (i: number) => {
  const [source, target] = i % 2 === 0 ? [a, b] : [b, a];
  return { account: source, target, ref: asset, quantity: 1 };
};
const warmups = Math.ceil(warmup / lanes);
const refused = (): never => {
  throw new Error('a warm-up transfer was refused');
};
if (batch > 0) {
  await closedLoop(
    Math.ceil(warmups / batch),
    Math.max(1, Math.floor(window / batch)),
    async () => {
      const list = Array.from({ length: batch }, (_, i) => warm(i));
      if ((await client.submitBatch(CommandKind.Transfer, list)).rejected > 0) refused();
    },
  );
} else {
  await closedLoop(warmups, window, async (i) => {
    if ((await client.transfer(warm(i)))[0].status !== Status.Ok) refused();
  });
}
const mine: number[] = [];
for (let i = lane; i < transfers; i += lanes) mine.push(i);
process.send?.({ kind: 'ready' });
await new Promise((resolve) => process.once('message', resolve));

let rejected = 0;
let failed = 0;
let sequenceMax = 0;
const note = (status: number, sequence: number): void => {
  if (status === Status.LedgerInsufficientFunds) rejected++;
  else if (status !== Status.Ok) failed++;
  if (sequence > sequenceMax) sequenceMax = sequence;
};
const elapsedMs = batch > 0 ? await batches() : await singles();
await client.close();
process.send?.({ kind: 'done', rejected, failed, sequenceMax, elapsedMs }, () => process.exit(0));

/** One transfer of the stream, as the SDK takes it. */
function fields(i: number) {
  return { account: stream.from[i], target: stream.to[i], ref: asset, quantity: stream.amount[i] };
}

/**
 * The lane's share in calls of `batch` transfers, window / batch calls in flight. Each call
 * slot refills its own list from the stream inside the timed loop (the SDK has copied a list
 * into its frame by the time the call resolves), as a streaming client reuses its buffers.
 */
async function batches(): Promise<number> {
  const calls = Math.ceil(mine.length / batch);
  const inFlight = Math.max(1, Math.floor(window / batch));
  const lists = Array.from({ length: inFlight }, () => [] as ReturnType<typeof fields>[]);
  return closedLoop(calls, inFlight, async (c, slot) => {
    const list = lists[slot];
    const first = c * batch;
    const count = Math.min(batch, mine.length - first);
    list.length = count;
    for (let k = 0; k < count; k++) {
      const i = mine[first + k];
      const f = (list[k] ??= fields(i));
      f.account = stream.from[i];
      f.target = stream.to[i];
      f.quantity = stream.amount[i];
    }
    const r = await client.submitBatch(CommandKind.Transfer, list);
    for (let k = 0; k < r.count; k++) note(r.status[k], r.sequence[k]);
  });
}

async function singles(): Promise<number> {
  return closedLoop(mine, window, async (i) => {
    const [head] = await client.transfer(fields(i));
    note(head.status, head.sequence);
  });
}
