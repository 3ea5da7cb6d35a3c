/**
 * Who a failover drill kills: the primary, a standby or any member (--victim), and at a kill
 * where disks are lost, --lose-disks members together (at most f of 2f + 1), drawn by the seed.
 */
import { Rng } from '../stdx/rng.js';
import type { DrillVictim } from './choices.js';
import type { ClusterFile } from './cluster-file.js';
import { UsageError } from './output.js';

/**
 * Refuses disks lost together past f = floor((nodes - 1) / 2): a commit is on a majority only,
 * so f + 1 lost disks may be all its copies, and the f left could not elect (nor restore
 * them). More than one needs --lose-disk-every, or it would be ignored. @throws UsageError
 */
export function checkLoseDisks(o: {
  nodes: number;
  loseDisks?: number;
  loseDiskEvery?: number;
}): void {
  const n = o.loseDisks ?? 1;
  const f = Math.floor((o.nodes - 1) / 2);
  if (n < 1 || n > f) {
    throw new UsageError(
      `--lose-disks: ${n} of ${o.nodes} members: 1 to ${f} (f = (nodes - 1) / 2: the others ` +
        'must hold every commit and elect a primary)',
    );
  }
  if (n > 1 && (o.loseDiskEvery ?? 0) === 0) {
    throw new UsageError(`--lose-disks: ${n} needs --lose-disk-every (when the disks are lost)`);
  }
}

/** The member to kill: the primary, a standby or any member (the last two drawn by `rng`). */
export function pickVictim(
  kind: DrillVictim,
  primary: number,
  file: ClusterFile,
  rng: Rng,
): number {
  if (kind === 'primary') return primary;
  const ids = file.members.map((m) => m.id).filter((id) => kind === 'any' || id !== primary);
  return ids[rng.int(ids.length)];
}

/**
 * `victim` and `count - 1` other members drawn by `rng` (never `spared`), in id order: those
 * killed together. With a count of 1 `rng` is not drawn: a drill's kills stay as they were.
 */
export function withOthers(
  victim: number,
  count: number,
  spared: number,
  file: ClusterFile,
  rng: Rng,
): number[] {
  const chosen = [victim];
  const pool = file.members.map((m) => m.id).filter((id) => id !== victim && id !== spared);
  while (chosen.length < count) chosen.push(pool.splice(rng.int(pool.length), 1)[0]);
  return chosen.sort((a, b) => a - b);
}
