/**
 * Makes a folder and its missing parents, one at a time. Not mkdirSync's recursive mode: under
 * /proc it loops for ever in the kernel (ENOENT, then EEXIST for the parent, then ENOENT
 * again), at full CPU and deaf to SIGTERM (`bourse start --data /proc/x` did). One at a time,
 * the first refusal is thrown with its code.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { StorageCode, StorageError } from './journal-errors.js';

export function makeDirs(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) {
      throw Object.assign(new Error(`ENOTDIR: ${dir} is a file`), { code: 'ENOTDIR' });
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(dir) === dir) throw error;
    makeDirs(dirname(dir));
    mkdirSync(dir);
  }
}

/** Makes a folder the command writes into (and its parents); a refusal exits 73, named. */
export function createFolder(dir: string): void {
  try {
    makeDirs(dir);
  } catch (error) {
    const why = (error as Error).message;
    throw new StorageError(StorageCode.DataUnwritable, `cannot create the folder ${dir}: ${why}`);
  }
}
