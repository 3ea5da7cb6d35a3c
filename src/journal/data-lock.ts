/**
 * One node per data folder. LMDB lets many processes open an environment (and two writers then
 * overwrite each other's batches), so the folder holds a lock file under an exclusive flock(2).
 *
 * The kernel holds the lock for the open file description and drops it when the process ends,
 * however it ends: there is no stale lock to detect, and no window between "the owner is dead"
 * and "take it over" for a second process to slip through (a pid file taken over by delete and
 * create let two nodes start on one folder). Node has no flock binding, so util-linux's
 * `flock -n 3` is run on our descriptor, passed as the child's fd 3: parent and child share one
 * open file description, so the lock the child takes stays with us after it exits.
 *
 *   node ──open(bourse.lock)──> fd ──spawn, stdio[3] = fd──> flock -n 3 ──exit 0: ours
 *                                                                      └─exit 1: held elsewhere
 *
 * The file holds the owner's pid, for the message a second node prints, and goes when the lock
 * is let go (unlinked while still locked). A process that opened it just before that unlink
 * then locks a file no one else can see, so a lock counts only when the path still names the
 * file that was locked (same device and inode); otherwise it is tried again.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { dataLockAttemptsMax, dataLockFileName, dataLockTool } from '../constants.js';
import { StorageCode, StorageError } from './journal-errors.js';

export class DataLock {
  readonly path: string;
  private fd = -1;

  private constructor(path: string) {
    this.path = path;
  }

  /**
   * Takes the lock on `dir`.
   * @throws StorageError DATA_LOCKED when another process (or another lock in this one) holds it,
   *   TOOL_FAILED when flock is missing or fails otherwise.
   */
  static acquire(dir: string): DataLock {
    const lock = new DataLock(join(dir, dataLockFileName));
    for (let attempt = 0; attempt < dataLockAttemptsMax; attempt++) {
      const fd = lock.lockFile(dir);
      if (lock.stillNamed(fd)) {
        lock.fd = fd;
        lock.writePid();
        return lock;
      }
      closeSync(fd); // unlinked by its last holder after we opened it: open the new one
    }
    throw new StorageError(
      StorageCode.Locked,
      `cannot take the lock ${lock.path}: it keeps moving`,
    );
  }

  /** Opens the lock file and flocks it; returns the descriptor. @throws StorageError */
  private lockFile(dir: string): number {
    const fd = this.open();
    const r = spawnSync(dataLockTool, ['-n', '-x', '3'], {
      stdio: ['ignore', 'ignore', 'pipe', fd],
    });
    if (r.status !== 0) {
      closeSync(fd);
      if (r.error !== undefined || r.status !== 1) throw flockFailure(r, this.path);
      const owner = this.owner();
      throw new StorageError(
        StorageCode.Locked,
        `data folder ${dir} is in use by a running node (${owner}, ${this.path})`,
      );
    }
    return fd;
  }

  /** True when the path still names the file open on `fd`. */
  private stillNamed(fd: number): boolean {
    try {
      const held = fstatSync(fd);
      const named = statSync(this.path);
      return held.dev === named.dev && held.ino === named.ino;
    } catch {
      return false; // unlinked
    }
  }

  private writePid(): void {
    try {
      ftruncateSync(this.fd, 0);
      writeSync(this.fd, `${process.pid}\n`, 0);
    } catch (error) {
      this.release();
      throw this.createFailure(error);
    }
  }

  private open(): number {
    try {
      return openSync(this.path, 'a+');
    } catch (error) {
      throw this.createFailure(error);
    }
  }

  /** The lock file could not be made (opened or written): a full disk, or one not writable. */
  private createFailure(error: unknown): StorageError {
    return lockCreateFailure(error, this.path);
  }

  /** The holder as the file names it, for the message. */
  private owner(): string {
    try {
      const pid = Number.parseInt(readFileSync(this.path, 'utf8'), 10);
      return Number.isSafeInteger(pid) && pid > 0 ? `pid ${pid}` : 'pid not yet written';
    } catch {
      return 'pid unknown';
    }
  }

  /** Lets the folder go: the file is unlinked while locked, then the lock closed with it. */
  release(): void {
    if (this.fd === -1) return;
    const fd = this.fd;
    this.fd = -1;
    try {
      rmSync(this.path, { force: true });
    } finally {
      closeSync(fd);
    }
  }
}

/** A lock file at `path` that could not be made: DATA_FULL on ENOSPC, else DATA_UNWRITABLE. */
export function lockCreateFailure(error: unknown, path: string): StorageError {
  const code = (error as NodeJS.ErrnoException).code;
  return new StorageError(
    code === 'ENOSPC' ? StorageCode.DataFull : StorageCode.DataUnwritable,
    `cannot create ${path}: ${(error as Error).message}`,
  );
}

/** flock(1) failed otherwise than by finding the lock held (exit 1): missing, or an error. */
export function flockFailure(r: SpawnSyncReturns<Buffer>, path: string): StorageError {
  const missing = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  const why = missing
    ? 'not found on PATH (install util-linux)'
    : (r.error?.message ?? (r.stderr.toString().trim() || `exit ${r.status}`));
  return new StorageError(
    StorageCode.ToolFailed,
    `cannot lock ${path} with ${dataLockTool} (util-linux): ${why}`,
  );
}
