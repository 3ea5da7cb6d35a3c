/**
 * The group-commit mix of the deterministic simulation (bench/soak/sim-group-commit.ts): two or
 * three standbys run the real GroupCommit, StandbyLog, LogApplier and replay under a primary's
 * stream, crashed between every stage and stopped cleanly at any point. A few hundred seeds
 * keep every acknowledged entry, store no group twice, stop with LMDB holding what was received
 * and end with the primary's journal, and between them reach every window the model is for: a
 * crash with groups pending, waiting for LMDB (a wrap, a group too large for the log),
 * appending, storing straight into LMDB, applying, and stopping; LMDB commits never learned of,
 * torn and partial writes, replays (and replays crashed part-way), wraps, groups too large for
 * the log, clean stops with writes under way and their last write. A window no seed reaches
 * any more would be untested while the soak still passed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupCommitMix } from '../../bench/soak/sim-scenario.js';
import { groupCommitScenario, newStats } from '../../bench/soak/sim-group-commit.js';

test('simulation: the group-commit mix keeps history and reaches each of its windows', async () => {
  const reached = newStats();
  for (let seed = 60_000_001; seed < 60_000_301; seed++) {
    let figures;
    try {
      figures = await groupCommitScenario(seed, groupCommitMix.groupCommit!);
    } catch (error) {
      const replay = `--first ${seed} --seeds 1 --mix ${groupCommitMix.name}`;
      throw new Error(`seed ${seed} (replay: ${replay}): ${(error as Error).message}`);
    }
    for (const [name, n] of Object.entries(figures.standbyLog)) reached[name] += n;
  }
  for (const [name, n] of Object.entries(reached)) assert.ok(n > 0, `${name} reached`);
});
