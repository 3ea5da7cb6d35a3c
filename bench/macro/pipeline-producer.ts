/**
 * The bench's producer thread: writes transfer commands straight into the input ring (one
 * template per command, patched in place; no allocation per command).
 *
 *   mode 'closed': as fast as the ring takes them, in batches of `batch`;
 *   mode 'open':   at `rate` commands/s, paced by the clock (sleeping between steps, no spin);
 *                  each command's intended send time goes to `sent[clientSeq & mask]`, so the
 *                  latency measured includes any time the producer fell behind (no coordinated
 *                  omission).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ringSleepMs, ringSpinCount } from '../../src/constants.js';
import { RingBuffer } from '../../src/ring/ring-buffer.js';
import { Sequencer } from '../../src/ring/sequencer.js';
import { WaitStrategy } from '../../src/ring/wait-strategy.js';
import { writeCommand } from '../../src/protocol/command-writer.js';
import { CommandKind, CommandWord, SequencedWord } from '../../src/protocol/command-layout.js';
import { write64 } from '../../src/stdx/records.js';
import { dueBy } from '../lib/open-loop.js';

export interface ProducerData {
  ring: SharedArrayBuffer;
  sent: SharedArrayBuffer;
  mode: 'setup' | 'closed' | 'open';
  clientId: number;
  firstClientSeq: number;
  count: number;
  accounts: number;
  rate: number;
  batch: number;
}

const d = workerData as ProducerData;
const ring = RingBuffer.attach(d.ring);
const sequencer = new Sequencer(ring, new WaitStrategy(ringSpinCount, ringSleepMs));
const sent = new Float64Array(d.sent);
const mask = sent.length - 1;
const words = SequencedWord.size;
const u32 = ring.records.u32;
const template = new Uint32Array(words);
writeCommand(template, 0, {
  kind: CommandKind.Transfer,
  clientId: d.clientId,
  clientSeq: 1,
  account: 1,
  target: 2,
  ref: 1,
  quantity: 1,
});

let x = 12345;
function write(clientSeq: number): void {
  const w = ring.slot(sequencer.nextSequence()) * words;
  u32.set(template, w);
  x = (x * 1103515245 + 12345) >>> 0;
  const from = 1 + (x % d.accounts);
  const to = 1 + ((from + (x >>> 16)) % d.accounts);
  write64(u32, w + CommandWord.clientSeq, clientSeq);
  write64(u32, w + CommandWord.account, from);
  write64(u32, w + CommandWord.target, to === from ? 1 + (from % d.accounts) : to);
  sequencer.advance(1);
}

function closed(): void {
  let seq = d.firstClientSeq;
  const end = d.firstClientSeq + d.count;
  while (seq < end) {
    const n = Math.min(d.batch, end - seq);
    sequencer.reserve(n);
    for (let i = 0; i < n; i++) write(seq++);
    sequencer.publish();
  }
}

function open(): void {
  const start = performance.timeOrigin + performance.now();
  const perMs = d.rate / 1000;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let seq = d.firstClientSeq;
  const end = d.firstClientSeq + d.count;
  while (seq < end) {
    const now = performance.timeOrigin + performance.now();
    const due = Math.min(end, d.firstClientSeq + dueBy(now - start, perMs));
    if (due > seq) {
      sequencer.reserve(Math.min(due - seq, ring.slotCount >> 1));
      const n = Math.min(due - seq, ring.slotCount >> 1);
      for (let i = 0; i < n; i++) {
        const clientSeq = seq++;
        sent[clientSeq & mask] = start + (clientSeq - d.firstClientSeq) / perMs;
        write(clientSeq);
      }
      sequencer.publish();
    }
    Atomics.wait(nap, 0, 0, 0.05);
  }
}

/** Assets 1, accounts 1..accounts, each funded: the workload's starting state. */
function setup(): void {
  let seq = d.firstClientSeq;
  const put = (f: Omit<Parameters<typeof writeCommand>[2], 'clientId' | 'clientSeq'>): void => {
    sequencer.reserve(1);
    const w = ring.slot(sequencer.nextSequence()) * words;
    writeCommand(u32, w, { ...f, clientId: d.clientId, clientSeq: seq++ });
    sequencer.advance(1);
    sequencer.publish();
  };
  put({ kind: CommandKind.AddAsset, ref: 1, aux: 2 });
  for (let a = 1; a <= d.accounts; a++) put({ kind: CommandKind.CreateAccount, account: a });
  for (let a = 1; a <= d.accounts; a++) {
    put({ kind: CommandKind.Deposit, account: a, ref: 1, quantity: 1_000_000_000 });
  }
}

if (d.mode === 'setup') setup();
else if (d.mode === 'closed') closed();
else open();
parentPort?.postMessage('done');
