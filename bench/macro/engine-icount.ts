// Instruction-count probe: run under callgrind twice (MEASURE=0 and MEASURE=1); the difference
// divided by the command count is instructions per command, independent of machine load.
//
// The mixed workload of bench:engine is SHARE=0.3 (the default, 1, is transfers only). As the
// sessions' figures were counted (bench/RESULTS.md, thirty-seventh session):
//   N=100000 SHARE=0.3 MEASURE=1 valgrind --tool=callgrind node --single-threaded \
//     --perf-basic-prof <engineV8Flags> dist/bench/macro/engine-icount.js
// then the same with MEASURE=0; callgrind names JIT code by address, which the perf map
// (/tmp/perf-<pid>.map) turns into functions. HASH=1 (not under callgrind) also prints the
// SHA-256 of every event written, to check that a change keeps the events byte-identical.
import { createHash } from 'node:crypto';
import { Engine } from '../../src/engine/engine.js';
import { engineConfigDefault } from '../../src/constants.js';
import { RecordBuffer } from '../../src/stdx/records.js';
import { SequencedWord } from '../../src/protocol/command-layout.js';
import { EventWord } from '../../src/protocol/event-layout.js';
import { generateWorkload } from '../lib/workload.js';
const accounts = 2000,
  commands = Number(process.env.N ?? 200000),
  share = Number(process.env.SHARE ?? 1);
const w = generateWorkload({
  seed: 42,
  accounts,
  instruments: 8,
  commands: commands * 2,
  transferShare: share,
  marketShare: 0.07,
  cancelShare: 0.23,
});
const engine = new Engine({
  ...engineConfigDefault,
  accountCountMax: accounts + 16,
  orderCountMax: 1 << 18,
  levelCountMax: 1 << 14,
  clientCountMax: 64,
});
const out = RecordBuffer.allocate(engine.eventsPerCommandMax * 2, EventWord.size * 4);
const hash = process.env.HASH === '1' ? createHash('sha256') : null;
function run(u32: Uint32Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const k = engine.execute(u32, i * SequencedWord.size, out, 0);
    if (hash !== null) hash.update(out.u8.subarray(0, k * EventWord.size * 4));
    n += k;
  }
  return n;
}
run(w.setup, 0, w.setupCount);
run(w.mix, 0, commands); // warm-up: the JIT settles
if (process.env.MEASURE === '1') run(w.mix, commands, 2 * commands);
console.log('done', engine.checksum.hex(), hash === null ? '' : hash.digest('hex').slice(0, 16));
