/**
 * Free space on a data folder's disk: checked at start, watched while running, and named when
 * a write fails (one statfs, in one place).
 */
import { statfsSync } from 'node:fs';

/** Bytes this process may still write on the disk under `dir`. */
export function diskFreeBytes(dir: string): number {
  const disk = statfsSync(dir);
  return disk.bavail * disk.bsize;
}
