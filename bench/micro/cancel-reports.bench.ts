/**
 * What a drop costs in CancelReports (src/gateway/cancel-reports.ts) during a disconnect storm:
 * full, with cancelOnDisconnectPendingMax chains under way made first, each new chain's begin
 * drops the oldest ended report (then the chain ends). Timed in blocks of `--block` begins, the
 * mean of each block; the first and the last block shown, and the mean over all.
 *
 *   node dist/bench/micro/cancel-reports.bench.js           cancelReportsMax, 20,000 drops
 *   node dist/bench/micro/cancel-reports.bench.js --small   CI size: 2,000 drops
 */
import { cancelOnDisconnectPendingMax, cancelReportsMax } from '../../src/constants.js';
import { CancelReports } from '../../src/gateway/cancel-reports.js';
import { CancelReport } from '../../src/protocol/welcome.js';
import { checkArgs, flag } from '../lib/flags.js';
import { machine, machineLine, printTable } from '../lib/table.js';

checkArgs({
  run: 'node dist/bench/micro/cancel-reports.bench.js',
  switches: { '--small': 'the CI size: 2,000 drops (20,000)' },
  values: { '--drops': 'begins that drop a report', '--block': 'begins timed together (1,000)' },
});
const small = process.argv.includes('--small');
const drops = flag('--drops', small ? 2_000 : 20_000);
const block = flag('--block', 1_000);

const reports = new CancelReports();
for (let c = 1; c <= cancelReportsMax; c++) {
  reports.begin(c);
  if (c > cancelOnDisconnectPendingMax) reports.ended(c);
}
const blockUs: number[] = [];
for (let done = 0; done < drops; done += block) {
  const start = process.hrtime.bigint();
  for (let i = 1; i <= block; i++) reports.begin(cancelReportsMax + done + i);
  blockUs.push(Number(process.hrtime.bigint() - start) / 1_000 / block);
  for (let i = 1; i <= block; i++) reports.ended(cancelReportsMax + done + i);
}
// The result: the reports dropped, and the first not dropped told Canceled.
const kept = reports.take(cancelOnDisconnectPendingMax + drops + 1).report;
const hash = reports.dropped * 10 + (kept === CancelReport.Canceled ? 1 : 0);
const mean = blockUs.reduce((a, b) => a + b, 0) / blockUs.length;
const fix = (us: number): string => us.toFixed(3);
const host = await machine();
printTable(`cancel reports: ${drops} drops at ${cancelReportsMax} (${machineLine(host)})`, [
  {
    'first block µs/drop': fix(blockUs[0]!),
    'last block µs/drop': fix(blockUs.at(-1)!),
    'mean µs/drop': fix(mean),
    hash,
  },
]);
console.log(
  JSON.stringify({
    bench: 'cancel-reports',
    drops,
    block,
    firstUs: blockUs[0],
    lastUs: blockUs.at(-1),
    meanUs: mean,
    result_hash: hash,
    cpu_steal_pct: host.cpu_steal_pct,
    machine: host,
  }),
);
