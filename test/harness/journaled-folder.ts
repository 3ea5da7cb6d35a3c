/**
 * Data folders written by a real node, for tests of the offline tools and of damage: `count`
 * commands of the standard workload, journaled `chunk` at a time (several batches), with
 * snapshots taken every `snapshotEvents` events (journaledFolder); or a workload and given
 * commands after it (dataWith).
 */
import { NodeDriver, removeDir, tempDataDir } from './node-driver.js';
import { smallConfig } from './engine-driver.js';
import { workload } from './workload.js';
import { until } from './wait.js';
import { ProgressSlot } from '../../src/journal/journal-progress.js';
import type { CommandFields } from '../../src/protocol/command-writer.js';

export interface FolderShape {
  count: number;
  chunk: number;
  snapshotEvents: number;
  /** Pause after each chunk, so that the snapshotter keeps up (ms). */
  pauseMs: number;
}

export async function journaledFolder(shape: FolderShape): Promise<string> {
  return madeIn(async (dir) => {
    const driver = await NodeDriver.start({
      dataDir: dir,
      config: smallConfig,
      snapshotIntervalEvents: shape.snapshotEvents,
      snapshotIntervalMs: 50,
      snapshotTimeSequencesMin: 1, // a snapshot by time whatever the commands
    });
    const commands = workload(1, shape.count, 1);
    try {
      for (let at = 0; at < commands.length; at += shape.chunk) {
        const chunk = commands.slice(at, at + shape.chunk);
        await driver.submit(chunk); // one chunk at a time: several journal batches
        await driver.untilDurable(at + chunk.length);
        await new Promise((resolve) => setTimeout(resolve, shape.pauseMs));
      }
      const end = commands.length;
      await untilSnapshotterCaughtUp(driver, end, end >= shape.snapshotEvents);
    } finally {
      await driver.stop();
    }
  });
}

/**
 * A new folder that `fill` writes, for the caller to remove; removed here if `fill` fails (the
 * caller never had it to remove).
 */
async function madeIn(fill: (dir: string) => Promise<void>): Promise<string> {
  const dir = tempDataDir();
  try {
    await fill(dir);
  } catch (error) {
    removeDir(dir);
    throw error;
  }
  return dir;
}

/**
 * The snapshotter catches up: its replica applies everything to `end`, and (`snapshotDue`:
 * the node's commands reach its snapshot interval) the first snapshot due, by events if not by
 * time before, is stored; then it may finish another. (300 ms alone were too short on a loaded
 * machine: a folder without a snapshot, or one fewer than a run's.)
 */
export async function untilSnapshotterCaughtUp(
  driver: NodeDriver,
  end: number,
  snapshotDue: boolean,
): Promise<void> {
  const applied = (): number => driver.node.progress.get(ProgressSlot.readModelSequence);
  const stored = (): boolean => !snapshotDue || driver.node.snapshots.taken > 0;
  await until('the snapshotter caught up', () => applied() >= end && stored(), 20_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
}

/** A folder with a workload of `commands` (set-up first), then `then`. */
export async function dataWith(
  commands: number,
  then: Omit<CommandFields, 'clientId' | 'clientSeq'>[] = [],
): Promise<string> {
  return madeIn(async (dir) => {
    const driver = await NodeDriver.start({ dataDir: dir, config: smallConfig });
    const all = workload(1, commands);
    all.push(...then.map((c, i) => ({ ...c, clientId: 1, clientSeq: all.length + i + 1 })));
    try {
      for (let at = 0; at < all.length; at += 400) {
        await driver.submit(all.slice(at, at + 400));
        await driver.untilDurable(Math.min(at + 400, all.length));
      }
    } finally {
      await driver.stop();
    }
  });
}
