/**
 * The node's storage: one LMDB environment (`<data>/bourse.mdb`) holding
 *   journal      first sequence (8 bytes big-endian) -> JournalBatch envelope
 *   time-index   first timestamp + first sequence (16 bytes big-endian) -> empty
 *   snapshots    sequence (8 bytes) + part number (4 bytes) -> snapshot header and parts
 *   meta         name -> value (schema version)
 * Every durability option is spelled out (STYLE rule 11): a synchronous commit returns only
 * after LMDB has written and fsynced it, so "committed" and "durable" are both true when
 * `transactionSync` returns (overlappingSync off). The journal is never rewritten.
 */
import { mkdirSync, accessSync, constants as fs } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { schemaVersion } from '../constants.js';
import { StorageCode, StorageError } from './journal-errors.js';

export interface JournalDb {
  root: RootDatabase;
  journal: Database<Buffer, Buffer>;
  timeIndex: Database<Buffer, Buffer>;
  snapshots: Database<Buffer, Buffer>;
  meta: Database<string, string>;
  path: string;
}

/** Virtual address space reserved for the map (the file grows as needed). */
const mapSizeBytes = 64 * 2 ** 30;

export function dataFile(dir: string): string {
  return join(dir, 'bourse.mdb');
}

/** Opens (creating when `create`) the storage in `dir`, checking the schema version. */
export function openJournalDb(
  dir: string,
  options: { create: boolean; readOnly: boolean },
): JournalDb {
  prepareDir(dir, options);
  const path = dataFile(dir);
  let root: RootDatabase;
  try {
    root = open({
      path,
      readOnly: options.readOnly,
      maxDbs: 8,
      mapSize: mapSizeBytes,
      compression: false,
      encoding: 'binary',
      keyEncoding: 'binary',
      noSync: false,
      noMetaSync: false,
      overlappingSync: false,
      useWritemap: false,
      eventTurnBatching: false,
      commitDelay: 0,
      cache: false,
    });
  } catch (error) {
    throw fromOpenError(error, path);
  }
  const db = {
    root,
    journal: root.openDB<Buffer, Buffer>('journal', { keyEncoding: 'binary', encoding: 'binary' }),
    timeIndex: root.openDB<Buffer, Buffer>('time-index', {
      keyEncoding: 'binary',
      encoding: 'binary',
    }),
    snapshots: root.openDB<Buffer, Buffer>('snapshots', {
      keyEncoding: 'binary',
      encoding: 'binary',
    }),
    meta: root.openDB<string, string>('meta', { encoding: 'string' }),
    path,
  };
  checkSchema(db, options.readOnly);
  return db;
}

function prepareDir(dir: string, options: { create: boolean; readOnly: boolean }): void {
  try {
    if (options.create) mkdirSync(dir, { recursive: true });
    accessSync(dir, options.readOnly ? fs.R_OK : fs.R_OK | fs.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new StorageError(StorageCode.DataMissing, `data folder ${dir} does not exist`);
    }
    throw new StorageError(
      StorageCode.DataUnwritable,
      `data folder ${dir} is not writable (${code})`,
    );
  }
}

function fromOpenError(error: unknown, path: string): StorageError {
  const message = error instanceof Error ? error.message : String(error);
  if (/ENOSPC|No space/i.test(message)) {
    return new StorageError(StorageCode.DataFull, `no space left for ${path}`);
  }
  if (/ENOENT|No such file/i.test(message)) {
    return new StorageError(StorageCode.DataMissing, `no journal at ${path}`);
  }
  if (/EACCES|EROFS|permission/i.test(message)) {
    return new StorageError(StorageCode.DataUnwritable, `cannot write ${path}: ${message}`);
  }
  return new StorageError(StorageCode.JournalCorrupt, `cannot open ${path}: ${message}`);
}

const schemaKey = 'schema-version';

function checkSchema(db: JournalDb, readOnly: boolean): void {
  const stored = db.meta.get(schemaKey);
  if (stored === undefined) {
    if (!readOnly) db.meta.transactionSync(() => db.meta.put(schemaKey, String(schemaVersion)));
    return;
  }
  if (Number(stored) !== schemaVersion) {
    throw new StorageError(
      StorageCode.SchemaMismatch,
      `${db.path} was written with schema version ${stored}; this build reads ${schemaVersion}`,
    );
  }
}

/** 8-byte big-endian key of a sequence (so keys sort like numbers). */
export function sequenceKey(sequence: number): Buffer {
  const key = Buffer.allocUnsafe(8);
  key.writeUIntBE(sequence, 2, 6);
  key.writeUInt16BE(0, 0);
  return key;
}

export function keySequence(key: Buffer): number {
  return key.readUIntBE(2, 6);
}
