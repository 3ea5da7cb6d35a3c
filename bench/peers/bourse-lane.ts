/**
 * One of bench:peer-postgres's bourse client processes. PostgreSQL's side runs many
 * connections from the bench; bourse's side runs several SDK connections, each in its own
 * process (an SDK connection is single-threaded JavaScript, as e2e's load processes are). Each
 * lane takes the items lane, lane + lanes, lane + 2 × lanes ... of the same seeded stream.
 *
 *   argv: url clientId lane lanes window warmup seed transfers accounts amountMax checksum
 *   lane ─{kind: 'ready'}─► bench ─'go'─► lane ─{kind: 'done', rejected, failed, ...}─► bench
 *
 * Before 'ready' it makes the stream (and checks its checksum) and sends its share of the
 * untimed warm-up: transfers of 1 to and fro between the two accounts after the stream's.
 */
import { BourseClient } from '../../src/client/client.js';
import { Status } from '../../src/protocol/status.js';
import { closedLoop, makeStream } from './transfer-stream.js';

const args = process.argv.slice(2).map((a, i) => (i === 0 || i === 10 ? a : Number(a)));
const [url, clientId, lane, lanes, window, warmup, seed, transfers, accounts, amountMax] = args as [
  string,
  ...number[],
];
const checksum = args[10] as string;
const asset = 1;

const stream = makeStream({ seed, transfers, accounts, amountMax });
if (stream.checksum !== checksum) throw new Error('bourse lane: another stream than the bench');
const client = await BourseClient.connect(url, { clientId, inFlightMax: window });
const [a, b] = [accounts + 1, accounts + 2];
await closedLoop(Math.ceil(warmup / lanes), window, async (i) => {
  const [source, target] = i % 2 === 0 ? [a, b] : [b, a];
  const [head] = await client.transfer({ account: source, target, ref: asset, quantity: 1 });
  if (head.status !== Status.Ok) throw new Error('a warm-up transfer was refused');
});
const mine: number[] = [];
for (let i = lane; i < transfers; i += lanes) mine.push(i);
process.send?.({ kind: 'ready' });
await new Promise((resolve) => process.once('message', resolve));

let rejected = 0;
let failed = 0;
let sequenceMax = 0;
const elapsedMs = await closedLoop(mine, window, async (i) => {
  const [head] = await client.transfer({
    account: stream.from[i],
    target: stream.to[i],
    ref: asset,
    quantity: stream.amount[i],
  });
  if (head.status === Status.LedgerInsufficientFunds) rejected++;
  else if (head.status !== Status.Ok) failed++;
  if (head.sequence > sequenceMax) sequenceMax = head.sequence;
});
await client.close();
process.send?.({ kind: 'done', rejected, failed, sequenceMax, elapsedMs }, () => process.exit(0));
