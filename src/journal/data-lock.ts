/**
 * One node per data folder. LMDB lets many processes open an environment, so the folder holds a
 * lock file with the owner's pid, created exclusively. A lock whose pid is no longer running is
 * stale (the node was killed) and is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { dataLockFileName } from '../constants.js';
import { StorageCode, StorageError } from './journal-errors.js';

export class DataLock {
  readonly path: string;
  private held = false;

  private constructor(path: string) {
    this.path = path;
  }

  /**
   * Takes the lock on `dir`.
   * @throws StorageError DATA_LOCKED when a running process holds it.
   */
  static acquire(dir: string): DataLock {
    const lock = new DataLock(join(dir, dataLockFileName));
    for (let attempt = 0; attempt < 2; attempt++) {
      if (lock.tryCreate()) return lock;
      const owner = lock.owner();
      if (owner !== process.pid && alive(owner)) {
        throw new StorageError(
          StorageCode.Locked,
          `data folder ${dir} is in use by a running node (pid ${owner}, ${lock.path})`,
        );
      }
      rmSync(lock.path, { force: true });
    }
    throw new StorageError(StorageCode.Locked, `cannot take the lock ${lock.path}`);
  }

  private tryCreate(): boolean {
    try {
      const fd = openSync(this.path, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      this.held = true;
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      rmSync(this.path, { force: true }); // created empty on a full disk: not a lock
      throw new StorageError(
        code === 'ENOSPC' ? StorageCode.DataFull : StorageCode.DataUnwritable,
        `cannot create ${this.path}: ${(error as Error).message}`,
      );
    }
  }

  private owner(): number {
    try {
      return Number.parseInt(readFileSync(this.path, 'utf8'), 10);
    } catch {
      return -1;
    }
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    rmSync(this.path, { force: true });
  }
}

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
