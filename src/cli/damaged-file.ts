/**
 * Which of a data folder's LMDB files is damaged, when LMDB failed reading it without saying:
 * its errors (MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_BAD_TXN, …) name no file, and its
 * assertions abort the process. A walk of both files in a child process (lmdb-walk.ts) finds
 * the first one that fails. It runs only after a failure (and once before `start`), so a sound
 * folder pays nothing for it on the tools' paths.
 */
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { StorageCode, StorageError } from '../journal/journal-errors.js';
import {
  dataFile,
  journalFileAdvice,
  snapshotFile,
  snapshotFileAdvice,
} from '../journal/journal-db.js';
import { walkedLine, walkingPrefix } from './lmdb-walk.js';
import { ExitError } from './output.js';

/** Signals that stop a walk, not a fault of what it reads. */
const stopSignals: readonly string[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const walker = fileURLToPath(new URL('./lmdb-walk-main.js', import.meta.url));

/** A walk of a large journal reads each B-tree page once; minutes would mean a hung disk. */
const walkTimeoutMs = 10 * 60_000;

/** The damaged file and how LMDB failed on it, or null when the walk read every page. */
export interface Damage {
  path: string;
  /** LMDB's error message, or "aborted reading it (SIGABRT)". */
  how: string;
}

export function findDamage(dir: string): Damage | null {
  const r = spawnSync(process.execPath, [walker, dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'], // LMDB's own lines ("page 24 not found") are dropped
    timeout: walkTimeoutMs,
  });
  return damageOfWalk(dir, r);
}

/** What a walk that ended as `r` found. @throws ExitError when a stop signal ended it */
export function damageOfWalk(
  dir: string,
  r: { status: number | null; signal: NodeJS.Signals | null; stdout: string | null },
): Damage | null {
  if (r.signal !== null && stopSignals.includes(r.signal)) {
    // Ctrl-C signals the terminal's whole process group, the walk with it: a walk stopped
    // halfway through a file was told as that file damaged (start exited 65).
    throw new ExitError(
      `stopped (${r.signal}) while checking the files of ${dir}: nothing was opened or ` +
        'changed; the check found no damage before it stopped',
      128 + (constants.signals[r.signal] ?? 0),
    );
  }
  const lines = (r.stdout ?? '').split('\n').filter((line) => line !== '');
  if (r.status === 0 && lines.at(-1) === walkedLine) return null;
  const walking = lines.filter((line) => line.startsWith(walkingPrefix)).at(-1);
  if (walking === undefined) return null; // it failed before it read a page: not the data
  const error = lines.find((line) => line.startsWith('error '));
  const how =
    error !== undefined
      ? `LMDB says ${error.slice('error '.length)}`
      : `LMDB aborted reading it (${r.signal ?? `exit ${r.status}`})`;
  return { path: walking.slice(walkingPrefix.length), how };
}

/** The refusal for a damaged file (exit 65), with what to do about it. */
export function damageError(dir: string, damage: Damage): StorageError {
  const snapshots = damage.path === snapshotFile(dir);
  const advice = snapshots ? snapshotFileAdvice : journalFileAdvice;
  return new StorageError(
    snapshots ? StorageCode.SnapshotCorrupt : StorageCode.JournalCorrupt,
    `${damage.path} is damaged: ${damage.how}; ${advice}`,
  );
}

/** An LMDB error (lmdbErrorName) as a refusal naming the file the walk finds damaged. */
export function lmdbFailure(error: unknown, dir: string | null): StorageError {
  const message = error instanceof Error ? error.message : String(error);
  const damage = dir === null ? null : findDamage(dir);
  if (damage !== null && dir !== null) {
    return damageError(dir, { path: damage.path, how: `LMDB says ${message.split('\n')[0]}` });
  }
  const where = dir === null ? 'the data folder' : `${dataFile(dir)} or ${snapshotFile(dir)}`;
  return new StorageError(
    StorageCode.JournalCorrupt,
    `LMDB failed reading ${where}: ${message.split('\n')[0]} (a walk of every page found no ` +
      'fault: the damage may be in a record LMDB reads only on demand)',
  );
}
