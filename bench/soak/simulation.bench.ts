/**
 * bench:simulation — a soak of the deterministic simulation (VOPR style): many more seeds than
 * CI runs (test/simulation/cluster.test.ts: 6,000 of the CI mix), of every fault mix in
 * sim-scenario.ts (ci, misdeliver, hostile, pauses, chaos; and a real deployment's faults,
 * sim-faults.ts: clocks, disks, flapping, partitions, primary-pauses, storm; lost-disks, a
 * disk lost while a primary stood still; datagrams held past crashes and lost disks,
 * sim-held.ts: held-random, and held, which adds stale-primary episodes, sim-stale.ts;
 * held-votes, a candidate's votes held across its and its voter's disk losses, sim-votes.ts;
 * standby-log, every member's storage a standby's with the standby log, sim-standby-log.ts;
 * held-timeouts, held-votes with elections started by timeouts and pre-votes, sim-timeouts.ts;
 * group-commit, standbys' real GroupCommit, log and replay under crashes and clean stops,
 * sim-group-commit.ts).
 *
 *   npm run bench:simulation -- --small                 CI size: 100 seeds of each mix
 *   npm run bench:simulation -- --seeds 100000          100,000 seeds of each mix (~hours)
 *   npm run bench:simulation -- --first 2000000 --seeds 50000 --mix hostile
 *
 * A failing seed does not stop the soak: each is listed (seed, mix, the check that failed) and
 * replays alone through BOURSE_SIM_SEED (ci mix) or `--first S --seeds 1 --mix M`. The bench
 * exits 1 after its JSON line when any seed failed.
 */
import { mixes, runScenario, type Mix } from './sim-scenario.js';
import { checkArgs, flag } from '../lib/flags.js';
import { machine, machineLine, printTable } from '../lib/table.js';

checkArgs({
  run: 'npm run bench:simulation --',
  switches: { '--small': 'the CI size: 100 seeds of each mix (large: 10,000)' },
  values: {
    '--seeds': 'seeds of each mix',
    '--first': 'the first seed (default 10,000,001: past the seeds CI runs)',
    '--mix': `one mix only: ${mixes.map((m) => m.name).join(', ')} (default: all)`,
  },
  valueNames: { '--mix': 'NAME' },
});
const small = process.argv.includes('--small');
const seeds = flag('--seeds', small ? 100 : 10_000);
const first = flag('--first', 10_000_001);
const mixAt = process.argv.indexOf('--mix');
const chosen = mixAt < 0 ? mixes : mixes.filter((m) => m.name === process.argv[mixAt + 1]);
if (chosen.length === 0) {
  process.stderr.write(`bench: --mix takes ${mixes.map((m) => m.name).join(', ')}\n`);
  process.exit(64);
}

interface Failure {
  seed: number;
  mix: string;
  message: string;
}

interface MixFigures {
  mix: string;
  seeds: number;
  failed: number;
  seconds: number;
  ticks_mean: number;
  heal_ticks_max: number;
  acked_mean: number;
  /**
   * Held-timeout episodes (sim-timeouts.ts EpisodeSteps), summed: stood / lost / recovered /
   * stood again / a second stood ("" for the other mixes).
   */
  episodes: string;
}

const failures: Failure[] = [];
const failuresListedMax = 20;

async function soak(mix: Mix): Promise<MixFigures> {
  const started = performance.now();
  let failed = 0;
  let ticks = 0;
  let healMax = 0;
  let acked = 0;
  const steps = [0, 0, 0, 0, 0];
  for (let seed = first; seed < first + seeds; seed++) {
    try {
      const figures = await runScenario(seed, mix);
      const e = figures.episodes;
      if (e !== undefined) {
        [e.stood, e.lost, e.recovered, e.restood, e.second].forEach((n, i) => (steps[i] += n));
      }
      ticks += figures.ticks;
      healMax = Math.max(healMax, figures.healTicks);
      acked += figures.acked;
    } catch (error) {
      failed++;
      const message = (error as Error).message.split('\n')[0];
      if (failures.length < failuresListedMax) failures.push({ seed, mix: mix.name, message });
      process.stderr.write(`FAIL seed ${seed} mix ${mix.name}: ${message}\n`);
    }
    if ((seed - first + 1) % 10_000 === 0) {
      process.stderr.write(`${mix.name}: ${seed - first + 1} seeds, ${failed} failed\n`);
    }
  }
  const passed = Math.max(1, seeds - failed);
  return {
    mix: mix.name,
    seeds,
    failed,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    ticks_mean: Math.round(ticks / passed),
    heal_ticks_max: healMax,
    acked_mean: Math.round(acked / passed),
    episodes: mix.held?.timeouts === undefined ? '' : steps.join(' / '),
  };
}

const rows: MixFigures[] = [];
for (const mix of chosen) rows.push(await soak(mix));
const host = await machine();
printTable(
  `bench:simulation (seeds ${first}..${first + seeds - 1} of each mix) on ${machineLine(host)}`,
  rows.map((r) => ({ ...r })),
);
if (failures.length > 0)
  printTable(
    'failing seeds (first 20)',
    failures.map((f) => ({ ...f })),
  );
const figures = {
  bench: 'simulation',
  cpu_steal_pct: host.cpu_steal_pct,
  size: small ? 'small' : 'large',
  first_seed: first,
  seeds_per_mix: seeds,
  mixes: rows,
  scenarios: rows.reduce((sum, r) => sum + r.seeds, 0),
  failed: rows.reduce((sum, r) => sum + r.failed, 0),
  failures,
};
console.log(JSON.stringify(figures));
if (figures.failed > 0) process.exitCode = 1;
