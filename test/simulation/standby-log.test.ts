/**
 * The standby-log mix of the deterministic simulation (bench/soak/sim-standby-log.ts): every
 * member's storage is a standby's with the real StandbyLog, LogApplier and replay on a file in
 * memory. A few hundred seeds keep history, and between them reach every window the model is
 * for: crashes (and disk losses) with acknowledged groups only in the log, LMDB commits the
 * process never learned of, torn and partial log writes, replays (and replays crashed
 * part-way), wraps, groups too large for the log, and promotions while LMDB lacked part of the
 * log. A window no seed reaches any more would be untested while the soak still passed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scenario, standbyLogMix } from '../../bench/soak/sim-scenario.js';

test('simulation: the standby-log mix keeps history and reaches each of its windows', () => {
  const reached: Record<string, number> = {};
  for (let seed = 50_000_001; seed < 50_000_301; seed++) {
    let figures;
    try {
      figures = scenario(seed, standbyLogMix);
    } catch (error) {
      const replay = `--first ${seed} --seeds 1 --mix ${standbyLogMix.name}`;
      throw new Error(`seed ${seed} (replay: ${replay}): ${(error as Error).message}`);
    }
    for (const [name, n] of Object.entries(figures.standbyLog!)) {
      reached[name] = (reached[name] ?? 0) + n;
    }
  }
  const windows = ['crashesBehind', 'landedUnlearned', 'torn', 'partial', 'replayed'];
  windows.push('wipedBehind', 'replayCrashes', 'wraps', 'direct', 'promotedBehind');
  for (const name of windows) assert.ok((reached[name] ?? 0) > 0, `${name} reached`);
});
