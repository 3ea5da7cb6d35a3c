/**
 * A small disk of its own for a test: a tmpfs mounted on a fresh folder, so that a node's
 * journal can fill it (the test machines run as root, as CI does; mounting needs it).
 */
import { execFileSync } from 'node:child_process';
import { removeDir, tempDataDir } from './node-driver.js';

export interface SmallDisk {
  readonly dir: string;
  /** Unmounts it (lazily: a process killed on it may still hold files) and removes the folder. */
  release(): void;
}

export function mountSmallDisk(megabytes: number): SmallDisk {
  const dir = tempDataDir();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
  } catch (error) {
    removeDir(dir);
    const why = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
    throw new Error(`cannot mount a ${megabytes} MB tmpfs on ${dir} (needs root): ${why}`);
  }
  return {
    dir,
    release: () => {
      execFileSync('umount', ['-l', dir]);
      removeDir(dir);
    },
  };
}
