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
 * Open loop: every tick (1 ms; tickUs) it sends the commands due by then (one frame a tick) and
 * records each latency from the command's intended send time, so that a stalled server is
 * charged for the commands it delayed (no coordinated omission). Each open loop first runs
 * `warmupMs` at the same rate unrecorded: this process is new, and its first second ran
 * interpreted code (measured: p99 212 ms with it, 87 ms without, one call per command). A
 * backlog left by the warm-up is still charged to the commands after it.
 *
 * A connection the node closes (4008: this process read its answers too slowly, as when a
 * loaded machine starves it of CPU; or a failover it could not follow) stops the loop: the
 * SDK rejects every command unanswered, and the process reports what was answered before, with
 * `stopped` saying why (its parent marks the run as not kept up). Those rejections ended it
 * with an unhandled rejection's stack, and the bench with another ("client exited with 1").
 */
import * as hdr from 'hdr-histogram-js';
import { BourseClient, ClientError, type OnStatus } from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { GcWatch } from '../lib/gc-watch.js';
import { endWithParent } from '../lib/bench-exit.js';
import { dueBy, openWarmupMs } from '../lib/open-loop.js';
import { TailLog } from '../lib/tail-log.js';
import { Pacer } from '../lib/pacer.js';
import { openTickUsDefault } from '../lib/e2e-load.js';

endWithParent();

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
}).catch((error: Error) => {
  // One line, not a stack: the node went away (a bench stopped by Ctrl-C kills it first).
  console.error(`client ${clientId} (${mode}): cannot connect: ${error.message}`);
  process.exit(1);
});
const newHistogram = (): hdr.Histogram =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
const histogram = newHistogram();
/**
 * The one-call open loop's latency by stage (µs), split at the SDK call and at the command's
 * stamp (the processor's wall-clock µs, carried by its events; this process's clock agrees
 * with the node's within a few µs):
 *
 *   intended send ──► SDK call ──► stamped by the processor ──► answer handed to the caller
 *        lag (this loop's tick)       to_stamp (SDK, socket,     from_stamp (engine, journal,
 *                                     gateway, input ring)       fsync, gateway, socket, SDK)
 */
const stages = {
  lag: newHistogram(),
  to_stamp: newHistogram(),
  from_stamp: newHistogram(),
  /** SDK call → answer: the latency without the load loop's timer (to_stamp + from_stamp). */
  call: newHistogram(),
};
let x = clientId * 7919;
type Transfer = { account: number; target: number; ref: number; quantity: number };

/** This process's next transfer (seeded by its client id), written into `f`. */
function nextTransfer(f: Transfer): Transfer {
  x = (x * 1103515245 + 12345) >>> 0;
  f.account = 1 + (x % accounts);
  const to = 1 + ((f.account + (x >>> 16)) % accounts);
  f.target = to === f.account ? 1 + (f.account % accounts) : to;
  return f;
}

const fresh = (): Transfer => ({ account: 0, target: 0, ref: 1, quantity: 1 });

function transfer(): Promise<unknown> {
  return client.transfer(nextTransfer(fresh()));
}

/** Unrecorded lead-in of an open loop (ms), and when recording starts (set by openLoop). */
const warmupMs = openWarmupMs(seconds);
let recordFrom = Infinity;

/** Records the latency of a command meant to go at `intended` (ms), answered now. */
function record(intended: number, now = performance.now()): void {
  if (intended < recordFrom) return;
  histogram.recordValue(Math.max(1, Math.round((now - intended) * 1000)));
}

let done = 0;
let rejected = 0;
/** The status of the last rejection (0: none), so that a run with rejections says why. */
let rejectedStatus = 0;
const count = (events: unknown): void => countStatus((events as { status: number }[])[0].status);
function countStatus(status: number): void {
  done++;
  if (status === 0) return;
  rejected++;
  rejectedStatus = status;
}
const countBatch = (r: { count: number; rejected: number; status: Uint16Array }): void => {
  done += r.count;
  rejected += r.rejected;
  if (r.rejected > 0) rejectedStatus = r.status.find((s) => s !== 0) ?? rejectedStatus;
};

/** Why the loop stopped before its end: the SDK's error once the connection failed ('': ran). */
let stopped = '';

/** A command's rejection: an SDK error stops the loop (the first one says why); others throw. */
function stop(error: unknown): void {
  if (!(error instanceof ClientError)) throw error;
  if (stopped === '') stopped = error.message;
}

/** Runs `lanes` copies of `lane` until the end or until one is stopped (stop). */
async function lanes(count: number, lane: (end: number) => Promise<void>): Promise<void> {
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: count }, () => lane(end).catch(stop)));
}

async function closed(): Promise<void> {
  await lanes(knob, async (end) => {
    while (performance.now() < end && stopped === '') count(await transfer());
  });
}

/** Commands per submitBatch call (a window of 2,000 is four batches in flight). */
const batchSize = 500;

async function batched(): Promise<void> {
  const size = Math.min(batchSize, knob);
  await lanes(Math.max(1, Math.floor(knob / size)), async (end) => {
    // One list per lane, refilled once its batch is answered (the SDK has read it by then).
    const list = Array.from({ length: size }, fresh);
    while (performance.now() < end && stopped === '') {
      for (const f of list) nextTransfer(f);
      countBatch(await client.submitBatch(CommandKind.Transfer, list));
    }
  });
}

/**
 * The open loop's tick (µs, the benches' --tick-us): above 0 (500, the default), a worker's
 * clock (pacer.ts); 0, a setTimeout(1). libuv's timers are whole ms, so the timer fires 1 ms or
 * more after it was set: 0.7-0.9 ms of the loop's own lag at p50 on a quiet node, and on a
 * guest at load 9-20 it fell behind the rate (lag p50 0.2-0.5 s, bursts of thousands charged to
 * the node as latency), where a 500 µs clock kept it. The clock costs its wake-ups (two a tick,
 * ~1.5 µs of CPU a command at 50k/s a process); at load ~5 it made p99 higher in 2 of 3 pairs
 * (forty-first session), lower in most pairs since (bench/RESULTS.md, forty-third session).
 */
const tickUs = Number(process.env.BOURSE_BENCH_TICK_US ?? openTickUsDefault);
/**
 * The open loop's schedule: every tick, `send` the commands due by then (numbers `first` to
 * `end` - 1; command i was meant to go at `intended(i)`), then wait for them all.
 */
async function openLoop(
  send: (first: number, end: number, intended: (i: number) => number) => Promise<unknown>,
): Promise<void> {
  const start = performance.now();
  recordFrom = start + warmupMs;
  const perMs = knob / 1000;
  const total = Math.floor(knob * (seconds + warmupMs / 1000));
  const intended = (i: number): number => start + i / perMs;
  const all: Promise<unknown>[] = [];
  let sent = 0;
  const pacer = tickUs > 0 ? new Pacer(tickUs) : null;
  while (sent < total && stopped === '') {
    const due = Math.min(total, dueBy(performance.now() - start, perMs));
    // Handled at once: a rejection held until the loop's end was an unhandled one.
    if (due > sent) all.push(send(sent, due, intended).catch(stop));
    sent = Math.max(sent, due);
    if (pacer === null) await new Promise((resolve) => setTimeout(resolve, 1));
    else await pacer.tick();
  }
  await pacer?.stop();
  await Promise.all(all);
}

/** The one-call open loop's commands, to say where its tail comes from (tail-log.ts). */
const tail = new TailLog(mode === 'open' ? Math.ceil(knob * (seconds + 1)) : 0);

/**
 * The one-call open loop's SDK call (the bench's --open-events): transfer(), a promise of the
 * command's events, whose head carries the processor's stamp (the stage split); or, by
 * default, submitStatus: its status and sequence told to one handler, the command known by its
 * tag (its number), no promise and no events (bench/RESULTS.md, forty-seventh session: about
 * a quarter less of the client's CPU a command). A result carries no stamp: to_stamp and
 * from_stamp are then not recorded (their JSON keys left out), and the tail's stages split at
 * the call only.
 */
const openEvents = process.env.BOURSE_BENCH_OPEN_EVENTS === '1';

/** One submitStatus call per command, each latency its own; resolves once all are told. */
function openStatus(): Promise<void> {
  const f = fresh(); // the SDK reads it during the call
  const calledAt = new Float64Array(Math.ceil(knob * (seconds + warmupMs / 1000)) + 1);
  let intendedOf = (i: number): number => i;
  let outstanding = 0;
  let looped = false;
  let allTold = (): void => {};
  const told = new Promise<void>((resolve) => (allTold = resolve));
  const onStatus: OnStatus = (error, status, i, sequence) => {
    const now = performance.now();
    outstanding--;
    if (error !== null) stop(error);
    else countStatus(status);
    const at = intendedOf(i);
    if (error === null && at >= recordFrom) tail.add(at, calledAt[i], NaN, now, sequence);
    if (looped && outstanding === 0) allTold();
  };
  const loop = openLoop((first, end, intended) => {
    intendedOf = intended;
    for (let i = first; i < end; i++) {
      calledAt[i] = performance.now();
      outstanding++;
      client.submitStatus(CommandKind.Transfer, nextTransfer(f), onStatus, i);
    }
    return Promise.resolve();
  });
  return loop.then(() => {
    looped = true;
    return outstanding > 0 ? told : undefined;
  });
}

/** One call per command, each latency its own. */
function open(): Promise<void> {
  if (!openEvents) return openStatus();
  return openLoop((first, end, intended) => {
    const answers: Promise<void>[] = [];
    for (let i = first; i < end; i++) {
      const called = performance.now();
      answers.push(
        transfer().then((events) => {
          const now = performance.now();
          count(events);
          const at = intended(i);
          if (at < recordFrom) return;
          // Its times only (the histograms are filled from them after the loop: tail.record).
          const head = (events as { timestamp: number; sequence: number }[])[0];
          // The stamp on this process's clock (ms since its time origin).
          const stampedAt = head.timestamp / 1000 - performance.timeOrigin;
          tail.add(at, called, stampedAt, now, head.sequence);
        }),
      );
    }
    return Promise.all(answers);
  });
}

/** One submitBatch call per tick; each command's latency up to its batch's answer. */
function openBatched(): Promise<void> {
  return openLoop(async (first, end, intended) => {
    const list = Array.from({ length: end - first }, () => nextTransfer(fresh()));
    countBatch(await client.submitBatch(CommandKind.Transfer, list));
    const now = performance.now();
    for (let i = first; i < end; i++) record(intended(i), now);
  });
}

// This process's own collections while it measures (an open loop's after its warm-up): a
// client that pauses charges its pause to every command in flight (the SDK's Map of single
// commands once made each scavenge 6-16 ms; see bench/RESULTS.md).
const gc = new GcWatch();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
if (mode === 'closed') await closed();
else if (mode === 'batch') await batched();
else if (mode === 'open-batch') await openBatched();
else await open();
const elapsedMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
tail.record(histogram, stages);
await gc.settle();
const pauses = gc.between(recordFrom === Infinity ? t0 : recordFrom, t0 + elapsedMs);
const tailFigures = tail.figures(gc.pauses(t0, t0 + elapsedMs));
gc.stop();
if (client.reconnects > 0) {
  // A healthy run has none; a resend past the idempotency window is refused as too old.
  const last = client.lastDrop;
  console.error(
    `client ${clientId} (${mode}): ${client.reconnects} reconnects, last drop: ${last}`,
  );
}
process.send?.({
  done,
  rejected,
  rejectedStatus,
  elapsedMs,
  histogram: hdr.encodeIntoCompressedBase64(histogram),
  stages: {
    lag: hdr.encodeIntoCompressedBase64(stages.lag),
    to_stamp: hdr.encodeIntoCompressedBase64(stages.to_stamp),
    from_stamp: hdr.encodeIntoCompressedBase64(stages.from_stamp),
    call: hdr.encodeIntoCompressedBase64(stages.call),
  },
  cpuUs: cpu.user + cpu.system,
  gcCount: pauses.count,
  gcMaxMs: pauses.maxMs,
  tail: tailFigures,
  reconnects: client.reconnects,
  malformedFrames: client.malformedFrames,
  stopped,
});
await client.close();
process.exit(0);
