/**
 * Errors at the storage edge: each has a stable `code` and a message for an operator. The CLI
 * maps them to exit codes; nothing is written half-way when one is thrown.
 */
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
  Locked = 'DATA_LOCKED',
  SchemaMismatch = 'SCHEMA_MISMATCH',
  JournalCorrupt = 'JOURNAL_CORRUPT',
  SnapshotCorrupt = 'SNAPSHOT_CORRUPT',
  /** A cluster member's folder opened as a single node (the wrong command). */
  ClusterMember = 'CLUSTER_MEMBER',
  /** Capacities that cannot be used (below the folder's, or inconsistent). */
  ConfigRefused = 'CONFIG_REFUSED',
}

/** Exit codes by error code (sysexits.h where one fits). */
export function exitCodeOf(code: string): number {
  switch (code) {
    case StorageCode.DataMissing:
      return 66; // EX_NOINPUT
    case StorageCode.DataUnwritable:
      return 73; // EX_CANTCREAT
    case StorageCode.DataFull:
      return 74; // EX_IOERR
    case StorageCode.Locked:
      return 75; // EX_TEMPFAIL
    case StorageCode.ClusterMember:
    case StorageCode.ConfigRefused:
      return 64; // EX_USAGE
    case StorageCode.SchemaMismatch:
      return 65; // EX_DATAERR
    case StorageCode.JournalCorrupt:
    case StorageCode.SnapshotCorrupt:
      return 65;
    default:
      return 70; // EX_SOFTWARE
  }
}
