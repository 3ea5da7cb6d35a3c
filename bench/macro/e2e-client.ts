/**
 * One load process for bench:e2e: connects with the SDK and runs a closed or an open loop of
 * transfers, then sends its figures to the parent (process.send) and exits.
 *
 *   argv: url clientId mode(closed|batch|open|open-batch) seconds accounts window|rate
 *         [members, comma-separated]
 *   (members: a cluster's other addresses; the SDK follows a new primary and resends)
 *
 * Batch: the closed loop through submitBatch, `window` in flight as batches of `batchSize`:
 * one promise per batch, each command's status read from its typed array.
 *
 * Open batch: the open loop's schedule, each tick's commands in one submitBatch call; each
 * command's latency is from its intended send to its batch's answer (the last of the batch
 * answered), so it is an upper bound of the command's own.
 *
 * Open loop: every millisecond it sends the commands due by then (one frame per tick) and
 * records each latency from the command's intended send time, so that a stalled server is
 * charged for the commands it delayed (no coordinated omission).
 */
import * as hdr from 'hdr-histogram-js';
import { BourseClient } from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';

const [url, clientIdText, mode, secondsText, accountsText, knobText, membersText] =
  process.argv.slice(2);
const clientId = Number(clientIdText);
const seconds = Number(secondsText);
const accounts = Number(accountsText);
const knob = Number(knobText);
const members = membersText === undefined ? undefined : membersText.split(',');
// Across a failover, keep looking for the new primary for up to ~20 s.
const reconnectAttempts = members === undefined ? undefined : 200;
const client = await BourseClient.connect(url, {
  clientId,
  inFlightMax: 1 << 20,
  members,
  reconnectAttempts,
});
const histogram = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: 60_000_000,
  numberOfSignificantValueDigits: 3,
});
let x = clientId * 7919;
function transfer(): Promise<unknown> {
  x = (x * 1103515245 + 12345) >>> 0;
  const from = 1 + (x % accounts);
  const to = 1 + ((from + (x >>> 16)) % accounts);
  return client.transfer({
    account: from,
    target: to === from ? 1 + (from % accounts) : to,
    ref: 1,
    quantity: 1,
  });
}

let done = 0;
let rejected = 0;
const count = (events: unknown): void => {
  done++;
  if ((events as { status: number }[])[0].status !== 0) rejected++;
};

async function closed(): Promise<void> {
  const end = performance.now() + seconds * 1000;
  const lane = async (): Promise<void> => {
    while (performance.now() < end) count(await transfer());
  };
  await Promise.all(Array.from({ length: knob }, lane));
}

/** Commands per submitBatch call (a window of 2,000 is four batches in flight). */
const batchSize = 500;

async function batched(): Promise<void> {
  const end = performance.now() + seconds * 1000;
  const size = Math.min(batchSize, knob);
  const lane = async (): Promise<void> => {
    // One list per lane, refilled once its batch is answered (the SDK has read it by then).
    const list = Array.from({ length: size }, () => ({
      account: 0,
      target: 0,
      ref: 1,
      quantity: 1,
    }));
    while (performance.now() < end) {
      for (const f of list) {
        x = (x * 1103515245 + 12345) >>> 0;
        f.account = 1 + (x % accounts);
        const to = 1 + ((f.account + (x >>> 16)) % accounts);
        f.target = to === f.account ? 1 + (f.account % accounts) : to;
      }
      const r = await client.submitBatch(CommandKind.Transfer, list);
      done += r.count;
      rejected += r.rejected;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.floor(knob / size)) }, lane));
}

async function open(): Promise<void> {
  const start = performance.now();
  const perMs = knob / 1000;
  const total = Math.floor(knob * seconds);
  const all: Promise<void>[] = [];
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - start) * perMs));
    for (; sent < due; sent++) {
      const intended = start + sent / perMs;
      all.push(
        transfer().then((events) => {
          count(events);
          histogram.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(all);
}

async function openBatched(): Promise<void> {
  const start = performance.now();
  const perMs = knob / 1000;
  const total = Math.floor(knob * seconds);
  const all: Promise<void>[] = [];
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - start) * perMs));
    if (due > sent) {
      const first = sent;
      const list = [];
      for (; sent < due; sent++) {
        x = (x * 1103515245 + 12345) >>> 0;
        const from = 1 + (x % accounts);
        const to = 1 + ((from + (x >>> 16)) % accounts);
        list.push({
          account: from,
          target: to === from ? 1 + (from % accounts) : to,
          ref: 1,
          quantity: 1,
        });
      }
      all.push(
        client.submitBatch(CommandKind.Transfer, list).then((r) => {
          const now = performance.now();
          done += r.count;
          rejected += r.rejected;
          for (let i = 0; i < r.count; i++) {
            const intended = start + (first + i) / perMs;
            histogram.recordValue(Math.max(1, Math.round((now - intended) * 1000)));
          }
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(all);
}

const t0 = performance.now();
if (mode === 'closed') await closed();
else if (mode === 'batch') await batched();
else if (mode === 'open-batch') await openBatched();
else await open();
const elapsedMs = performance.now() - t0;
process.send?.({ done, rejected, elapsedMs, histogram: hdr.encodeIntoCompressedBase64(histogram) });
await client.close();
process.exit(0);
