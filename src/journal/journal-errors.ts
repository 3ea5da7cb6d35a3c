/**
 * Errors at the storage edge: each has a stable `code` and a message for an operator. The CLI
 * maps them to exit codes; nothing is written half-way when one is thrown.
 */
import { diskFreeBytes } from './disk-free.js';
import { dataFreeBytesMin } from '../constants.js';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: string;
  /** The sequence the problem belongs to, when there is one. */
  readonly sequence: number;

  constructor(code: string, message: string, sequence = -1) {
    super(message);
    this.code = code;
    this.sequence = sequence;
  }
}

export const enum StorageCode {
  DataMissing = 'DATA_MISSING',
  DataUnwritable = 'DATA_UNWRITABLE',
  DataFull = 'DATA_FULL',
  /** The disk refused a write (EIO): failing, or full where the file system says so (tmpfs). */
  DataIo = 'DATA_IO',
  Locked = 'DATA_LOCKED',
  /**
   * A program the node runs could not run or failed (util-linux's flock, for the data lock):
   * the machine lacks it, not a node holding the folder (that is Locked).
   */
  ToolFailed = 'TOOL_FAILED',
  SchemaMismatch = 'SCHEMA_MISMATCH',
  JournalCorrupt = 'JOURNAL_CORRUPT',
  SnapshotCorrupt = 'SNAPSHOT_CORRUPT',
  /** A cluster member's folder opened as a single node (the wrong command). */
  ClusterMember = 'CLUSTER_MEMBER',
  /** A member's folder that another member wrote (copied): its votes and log are not this one's. */
  OtherMember = 'OTHER_MEMBER',
  /** A backup of a member's folder started as a member: it would vote for what it lacks. */
  MemberBackup = 'MEMBER_BACKUP',
  /** A copy of a member's folder (another journal file) started as that member. */
  MemberCopy = 'MEMBER_COPY',
  /** A single node's folder started as a cluster member (the wrong command). */
  SingleNode = 'SINGLE_NODE',
  /** Capacities that cannot be used (below the folder's, or inconsistent). */
  ConfigRefused = 'CONFIG_REFUSED',
  /** A folder with files in it, none of them bourse's, given as a data folder to start in. */
  NotDataFolder = 'NOT_DATA_FOLDER',
}

/**
 * A folder written with a schema version other than this build's (journal-db.ts checkSchema):
 * SCHEMA_MISMATCH, with the version the folder holds (`stored`, as its meta record has it), so
 * that a command can say what to do in its own terms (backup.ts).
 */
export class SchemaMismatchError extends StorageError {
  constructor(
    message: string,
    readonly stored: string,
  ) {
    super(StorageCode.SchemaMismatch, message);
  }
}

/** Exit codes by error code (sysexits.h where one fits). */
export function exitCodeOf(code: string): number {
  switch (code) {
    case StorageCode.DataMissing:
      return 66; // EX_NOINPUT
    case StorageCode.DataUnwritable:
      return 73; // EX_CANTCREAT
    case StorageCode.DataFull:
    case StorageCode.DataIo:
      return 74; // EX_IOERR
    case StorageCode.Locked:
      return 75; // EX_TEMPFAIL
    case StorageCode.ToolFailed:
      return 71; // EX_OSERR: 69 (EX_UNAVAILABLE) already means an address or port
    case StorageCode.ClusterMember:
    case StorageCode.SingleNode:
    case StorageCode.ConfigRefused:
      return 64; // EX_USAGE
    case StorageCode.SchemaMismatch:
    case StorageCode.OtherMember:
    case StorageCode.MemberBackup:
    case StorageCode.MemberCopy:
      return 65; // EX_DATAERR
    case StorageCode.JournalCorrupt:
    case StorageCode.SnapshotCorrupt:
      return 65;
    case StorageCode.NotDataFolder:
      return 78; // EX_CONFIG: --data names the wrong folder (73 is a folder not writable)
    default:
      return 70; // EX_SOFTWARE
  }
}

/** LMDB's MDB_MAP_FULL: the environment reached its map size. */
const mdbMapFull = -30792;

/**
 * A write to LMDB that failed, as a StorageError naming what was written and why, when the
 * cause is the disk (ENOSPC, LMDB's MDB_MAP_FULL, EROFS, EACCES, EPERM, EIO); any other error is
 * returned as it is. lmdb-js throws a plain Error whose `code` is the errno (28, 30, 5) or LMDB's
 * own code; node:fs's `code` is the name ('ENOSPC'), which its message starts with.
 */
export function writeFailure(error: unknown, what: string, sequence = -1, dir = ''): Error {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 28 || code === 'ENOSPC' || code === mdbMapFull || /ENOSPC|No space/i.test(message)) {
    return new StorageError(
      StorageCode.DataFull,
      `cannot write ${what}: no space left on the disk (${message})`,
      sequence,
    );
  }
  if (code === 30 || code === 13 || /EROFS|EACCES|EPERM|read-only file system/i.test(message)) {
    return new StorageError(
      StorageCode.DataUnwritable,
      `cannot write ${what}: the disk is read-only or the folder not writable (${message})`,
      sequence,
    );
  }
  if (code === 5 || code === 'EIO' || /Input\/output error/i.test(message)) {
    // LMDB reports a write that found the disk full while spilling pages as EIO (error 5).
    const free = dir === '' ? -1 : freeBytes(dir);
    if (free >= 0 && free < dataFreeBytesMin) {
      return new StorageError(
        StorageCode.DataFull,
        `cannot write ${what}: no space left on the disk (${free} bytes free in ${dir}; ` +
          `LMDB said input/output error)`,
        sequence,
      );
    }
    return new StorageError(
      StorageCode.DataIo,
      `cannot write ${what}: input/output error (the disk is full or failing)`,
      sequence,
    );
  }
  return error instanceof Error ? error : new Error(message);
}

/**
 * The cause of a failed asynchronous LMDB write. lmdb-js rejects each write of a failed commit
 * with "Commit failed (see commitError for details)" and the cause in a promise of its own,
 * `commitError`, which rejects unhandled (ending the process) unless someone awaits it.
 */
export async function commitCause(error: unknown): Promise<unknown> {
  const pending = (error as { commitError?: unknown } | null)?.commitError;
  if (!(pending instanceof Promise)) return error;
  return pending.then(
    () => error,
    (cause: unknown) => cause,
  );
}

/** Bytes free on the disk of `dir`, or -1 when it cannot be told. */
function freeBytes(dir: string): number {
  try {
    return diskFreeBytes(dir);
  } catch {
    return -1;
  }
}
