/**
 * What a book view costs from the read model to the gateway's listener, through a real
 * MessageChannel (as the snapshot worker's port; both ends in this thread, so the time is the
 * CPU of both sides), side by side:
 *
 *   board      what the node does (src/pipeline/book-board.ts): views written in place into a
 *              shared slot, one notice a tick, the listener reads each changed slot
 *   postMessage the way before (to 2026-12-05): each changed view posted as an object with a
 *              new Float64Array (bookLevels), cloned, one message a view
 *
 * Each tick changes every watched book (a halt flag flips), publishes, and waits until the
 * listener has had every view. Books of 20 levels a side (the largest view). The cases run in
 * turn, round after round; each case's best round is shown.
 *
 *   node dist/bench/micro/book-views.bench.js           64 books, 2,000 ticks a round, 10 rounds
 *   node dist/bench/micro/book-views.bench.js --small   CI size: 200 ticks, 3 rounds
 */
import { MessageChannel, type Worker } from 'node:worker_threads';
import { bookDepthLevels } from '../../src/constants.js';
import { ReadClient } from '../../src/pipeline/read-client.js';
import { ReadModel, type ReadRequest } from '../../src/pipeline/read-model.js';
import type { Replica } from '../../src/pipeline/replay.js';
import { bookLevels } from '../../src/pipeline/state-view.js';
import { checkArgs, flag } from '../lib/flags.js';
import { machine, machineLine, printTable } from '../lib/table.js';

checkArgs({
  run: 'node dist/bench/micro/book-views.bench.js',
  switches: { '--small': 'the CI size: 200 ticks a round, 3 rounds (2,000, 10)' },
  values: {
    '--books': 'watched books, all changed each tick (64)',
    '--ticks': 'ticks a round',
    '--rounds': 'rounds a case, the best shown',
  },
});
const small = process.argv.includes('--small');
const books = flag('--books', 64);
const ticks = flag('--ticks', small ? 200 : 2_000);
const rounds = flag('--rounds', small ? 3 : 10);
const instruments = books + 1;

/** A replica whose every book holds bookDepthLevels levels a side. */
function replica(): { replica: Replica; halted: Uint8Array } {
  const perSide = bookDepthLevels;
  const sideLevels = new Int32Array(instruments * 2 * perSide);
  const sideCount = new Int32Array(instruments * 2).fill(perSide);
  for (let i = 0; i < sideLevels.length; i++) sideLevels[i] = i;
  const levels = {
    sideLevels,
    sideCount,
    perSide,
    price: (l: number) => 1000 + (l % perSide),
    quantity: (l: number) => l * 10,
    orderCount: () => 3,
  };
  const halted = new Uint8Array(instruments);
  const engine = { levels, config: { instrumentCountMax: instruments }, instruments: { halted } };
  return { replica: { sequence: 1, engine } as unknown as Replica, halted };
}

let views = 0;
let checksum = 0;
function listener(instrument: number, sequence: number, levels: Float64Array): void {
  views++;
  checksum = (checksum + instrument + levels[2 + 3 * (levels[0] - 1)]) >>> 0;
}

interface Case {
  tick(): void;
  close(): void;
}

function boardCase(): Case {
  const { replica: r, halted } = replica();
  const { port1, port2 } = new MessageChannel();
  const model = new ReadModel(r, (message) => port2.postMessage(message));
  port2.on('message', (request: ReadRequest) => model.onMessage(request));
  const client = new ReadClient(port1 as unknown as Worker, instruments, () => 0);
  client.onBook(listener);
  for (let i = 1; i <= books; i++) client.watchBook(i);
  return {
    tick() {
      for (let i = 1; i <= books; i++) halted[i] ^= 1;
      model.publishBooks();
    },
    close() {
      model.stop();
      port1.close();
    },
  };
}

function postMessageCase(): Case {
  const { replica: r, halted } = replica();
  const { port1, port2 } = new MessageChannel();
  type View = { instrument: number; sequence: number; levels: Float64Array };
  port1.on('message', (view: View) => listener(view.instrument, view.sequence, view.levels));
  return {
    tick() {
      for (let i = 1; i <= books; i++) {
        halted[i] ^= 1;
        const levels = bookLevels(r.engine, i, bookDepthLevels);
        const view = { type: 'book', instrument: i, sequence: r.sequence, levels, halted: true };
        port2.postMessage(view);
      }
    },
    close() {
      port1.close();
    },
  };
}

/** ns per view of `c` over `ticks` ticks, each waited out until its views are all in. */
async function run(c: Case): Promise<number> {
  const start = process.hrtime.bigint();
  for (let t = 0; t < ticks; t++) {
    const want = views + books;
    c.tick();
    while (views < want) await new Promise((resolve) => setImmediate(resolve));
  }
  return Number(process.hrtime.bigint() - start) / (ticks * books);
}

async function main(): Promise<void> {
  const names = ['board (now)', 'postMessage a view (before)'];
  const cases = [boardCase(), postMessageCase()];
  const best = [Infinity, Infinity];
  await new Promise((resolve) => setTimeout(resolve, 20)); // the board and watches arrive
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < cases.length; c++) best[c] = Math.min(best[c], await run(cases[c]));
  }
  for (const c of cases) c.close();
  const host = await machine();
  printTable(
    `book views: ${books} books changed a tick, ${ticks} ticks a round, best of ${rounds} ` +
      `rounds, cases in turn; ${machineLine(host)}`,
    names.map((name, c) => ({ case: name, 'ns a view': Math.round(best[c]) })),
  );
  const figures = names.map((name, c) => ({ name, ns_per_view: Math.round(best[c]) }));
  const config = { bench: 'book-views', books, ticks, rounds, result_hash: checksum };
  const steal = host.cpu_steal_pct;
  console.log(JSON.stringify({ ...config, cpu_steal_pct: steal, cases: figures, machine: host }));
}

await main();
