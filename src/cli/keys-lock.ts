/**
 * One `bourse keys` change at a time per folder. create, revoke and upgrade each read keys.json,
 * change it and write it again (by rename). Two at once (a script making keys for many clients
 * in parallel, two operators) each wrote what it had read plus its own change: a key shown as
 * saved was not in the file (1 to 4 keys of 20 made at once, in runs here), a key revoked
 * meanwhile could come back, and keys.json was once left as two writes interleaved in the one
 * temporary file, not JSON, which the next start refuses (exit 65).
 *
 * Each takes an exclusive flock(2) on `keys.json.lock` in the folder it was given (a node's, or a
 * local cluster's, whose members' files it changes together) before it reads, and lets it go
 * when its process ends or the work is done. As for the data folder's lock (data-lock.ts), Node
 * has no flock binding, so util-linux's `flock -w SECONDS 3` takes it on our descriptor, which
 * keeps it after the child exits; the file stays (it holds nothing).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { dataLockTool, keysLockWaitMs } from '../constants.js';
import { keyFilePath } from '../gateway/api-keys.js';
import { flockFailure, lockCreateFailure } from '../journal/data-lock.js';
import { StorageCode, StorageError } from '../journal/journal-errors.js';
import { createFolder } from '../journal/make-dirs.js';

/**
 * Runs `work` holding the keys lock of `data` (made when `create`, else it must exist).
 * @throws StorageError DATA_MISSING (66) for a folder that is not there, DATA_LOCKED (75) when
 *   another keys command held the lock for keysLockWaitMs, TOOL_FAILED (71) without flock,
 *   DATA_UNWRITABLE (73) when the lock file cannot be made; what `work` throws.
 */
export function withKeysLock<T>(data: string, create: boolean, work: () => T): T {
  if (!existsSync(data)) {
    if (!create)
      throw new StorageError(StorageCode.DataMissing, `data folder ${data} does not exist`);
    createFolder(data);
  }
  const path = `${keyFilePath(data)}.lock`;
  const fd = openLock(path);
  try {
    takeLock(fd, path);
    return work();
  } finally {
    closeSync(fd); // lets the lock go
  }
}

function openLock(path: string): number {
  try {
    return openSync(path, 'a', 0o600);
  } catch (error) {
    throw lockCreateFailure(error, path);
  }
}

function takeLock(fd: number, path: string): void {
  const seconds = String(keysLockWaitMs / 1000);
  const r = spawnSync(dataLockTool, ['-x', '-w', seconds, '3'], {
    stdio: ['ignore', 'ignore', 'pipe', fd],
  });
  if (r.status === 0) return;
  if (r.error === undefined && r.status === 1) {
    throw new StorageError(
      StorageCode.Locked,
      `another bourse keys command has held ${path} for ${seconds} s: try again once it is done`,
    );
  }
  throw flockFailure(r, path);
}
