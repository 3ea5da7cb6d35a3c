/**
 * The node's storage, two LMDB environments in the data folder:
 *   journal.mdb    journal      first sequence (8 bytes big-endian) -> JournalBatch envelope
 *                  time-index   first timestamp + first sequence (16 bytes big-endian) -> empty
 *                  meta         name -> value (schema version)
 *   snapshots.mdb  snapshots    sequence (8 bytes) + part number (4 bytes) -> header and parts
 * Snapshots live in their own environment because LMDB has one writer per environment: a
 * snapshot's large transaction must never hold up a journal commit.
 * Every durability option is spelled out (STYLE rule 11): a synchronous commit returns only
 * after LMDB has written and fsynced it, so "committed" and "durable" are both true when
 * `transactionSync` returns (overlappingSync off). The journal is never rewritten.
 */
import { createHash } from 'node:crypto';
import { accessSync, statSync, constants as fs } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import {
  dataFreeBytesMin,
  engineConfigProblem,
  journalPageSizeBytes,
  schemaVersion,
  snapshotPageSizeBytes,
  type EngineConfig,
} from '../constants.js';
import { SchemaMismatchError, StorageCode, StorageError, writeFailure } from './journal-errors.js';
import { checkLmdbFile } from './lmdb-meta.js';
import { refuseUnusableLockFile } from './lmdb-lock-file.js';
import { makeDirs } from './make-dirs.js';
import { diskFreeBytes } from './disk-free.js';

export interface JournalDb {
  root: RootDatabase;
  /** Null when not opened: replay and inspect never need it, verify not when there is none. */
  snapshotRoot: RootDatabase | null;
  journal: Database<Buffer, Buffer>;
  timeIndex: Database<Buffer, Buffer>;
  snapshots: Database<Buffer, Buffer> | null;
  meta: Database<string, string>;
  path: string;
}

/** Virtual address space reserved for the map (the file grows as needed). */
const mapSizeBytes = 64 * 2 ** 30;

export function dataFile(dir: string): string {
  return join(dir, 'journal.mdb');
}

export function snapshotFile(dir: string): string {
  return join(dir, 'snapshots.mdb');
}

/** What to do about a damaged snapshots.mdb, as its refusal says. */
export const snapshotFileAdvice =
  'snapshots are derived data: move snapshots.mdb away and the node starts from the journal alone';

/** What to do about a damaged journal.mdb (the CLI says it of a page LMDB fails on too). */
export const journalFileAdvice =
  'nothing can read the journal as it is: restore journal.mdb from a backup, with its ' +
  'snapshots.mdb (`bourse backup` makes one of a running node; a cluster ' +
  "member's folder is emptied instead: it catches up from the other members)";

/**
 * Opens (creating when `create`) the storage in `dir`, checking the schema version. Each file's
 * meta pages are checked first (lmdb-meta.ts): a damaged or cut-short file is refused before
 * LMDB maps it. With `snapshots` false, snapshots.mdb is not opened at all (replay, inspect);
 * read-only, it is not opened when there is none.
 * @throws StorageError naming the file and what is wrong.
 */
export function openJournalDb(
  dir: string,
  options: { create: boolean; readOnly: boolean; snapshots?: boolean },
): JournalDb {
  prepareDir(dir, options);
  const path = dataFile(dir);
  const found = checkLmdbFile(path, StorageCode.JournalCorrupt, journalFileAdvice);
  if (options.readOnly && found !== 'sound') {
    const empty = found === 'empty' ? ' (an empty file)' : '';
    throw new StorageError(StorageCode.DataMissing, `no journal at ${path}${empty}`);
  }
  const withSnapshots = options.snapshots !== false && snapshotsToOpen(dir, options.readOnly);
  const root = openEnv(path, options.readOnly, journalPageSizeBytes);
  let snapshotRoot: RootDatabase | null = null;
  try {
    refuseForeign(root, path, journalTables, options.readOnly, journalFileAdvice);
    if (withSnapshots) {
      const file = snapshotFile(dir);
      snapshotRoot = openEnv(file, options.readOnly, snapshotPageSizeBytes);
      refuseForeign(snapshotRoot, file, snapshotTables, options.readOnly, snapshotFileAdvice);
    }
  } catch (error) {
    void Promise.all([root.close(), snapshotRoot?.close()]);
    throw error;
  }
  const binary = { keyEncoding: 'binary', encoding: 'binary' } as const;
  const db = {
    root,
    snapshotRoot,
    journal: root.openDB<Buffer, Buffer>('journal', binary),
    timeIndex: root.openDB<Buffer, Buffer>('time-index', binary),
    snapshots: snapshotRoot?.openDB<Buffer, Buffer>('snapshots', binary) ?? null,
    meta: root.openDB<string, string>('meta', { encoding: 'string' }),
    path,
  };
  checkSchema(db, options.readOnly);
  return db;
}

/**
 * Closes both environments. lmdb-js closes one only once the writes queued on it are done:
 * the promise resolves then. A write queued after this call (on any of their databases) is
 * not refused when it is made: lmdb-js throws "The environment is already closed." from a
 * setImmediate of its own, an uncaught exception. So stop what writes first.
 */
export async function closeJournalDb(db: JournalDb): Promise<void> {
  await Promise.all([db.root.close(), db.snapshotRoot?.close()]);
}

/**
 * The tables each file holds, the ones a reader needs first; `log-index` is a cluster member's
 * (replica-store.ts). Every table a journal has is made when a node first opens it.
 */
const journalTables = { needed: ['journal', 'time-index', 'meta'], other: ['log-index'] };
const snapshotTables = { needed: ['snapshots'], other: [] };

/**
 * Refuses an LMDB file that is not one of bourse's: its main database lists a table bourse does
 * not have, or (read-only, where nothing is made) lacks one it needs. Another program's LMDB
 * file (its main database holds plain keys) made replay, verify and inspect die of a TypeError
 * (exit 70, a stack trace), and start call it damaged ("LMDB says Cannot read properties of
 * undefined"). Checked before any table is opened: a writer would add bourse's tables to it.
 * @throws StorageError SCHEMA_MISMATCH (exit 65) naming the file and the tables found.
 */
function refuseForeign(
  root: RootDatabase,
  path: string,
  tables: { needed: string[]; other: string[] },
  readOnly: boolean,
  advice: string,
): void {
  const names: string[] = [];
  for (const key of root.getKeys({ limit: foreignNamesMax + 1 })) {
    names.push(
      Buffer.from(key as Buffer)
        .toString('latin1')
        .replace(/\0$/, ''),
    );
  }
  const known = (name: string): boolean =>
    tables.needed.includes(name) || tables.other.includes(name);
  const strange = names.filter((name) => !known(name));
  const missing = readOnly ? tables.needed.filter((name) => !names.includes(name)) : [];
  if (strange.length === 0 && missing.length === 0) return;
  const shown = names.slice(0, foreignNamesMax).map((name) => JSON.stringify(name));
  const more = names.length > foreignNamesMax ? ', …' : '';
  const found = names.length === 0 ? 'no table' : `the keys ${shown.join(', ')}${more}`;
  throw new StorageError(
    StorageCode.SchemaMismatch,
    `${path} is not a bourse file, or its list of tables is damaged: its main database holds ` +
      `${found}, where bourse keeps the tables ${tables.needed.join(', ')}; ${advice}`,
  );
}

/** How many of a foreign file's keys a refusal names. */
const foreignNamesMax = 5;

/** Whether to open snapshots.mdb (checked first): read-only, only when there is one. */
function snapshotsToOpen(dir: string, readOnly: boolean): boolean {
  const found = checkLmdbFile(snapshotFile(dir), StorageCode.SnapshotCorrupt, snapshotFileAdvice);
  return !readOnly || found === 'sound';
}

/**
 * An asynchronous write begins on LMDB's thread as soon as a second write follows the one that
 * opened its transaction (ReplicaStore.writeMany queues its commit mark after its batch for
 * this), not in a setImmediate of lmdb-js's own: queued from a turn's check phase, that one ran
 * a whole turn of the standby's loop later. Only a member's replica store writes
 * asynchronously; every other write is synchronous. (lmdb-js reads the option; its typings
 * omit it.)
 */
const writeStart = { txnStartThreshold: 1 };

/**
 * Opens an LMDB environment with the node's durability options (exported for bench:journal,
 * which times commits at other page sizes).
 */
export function openEnv(path: string, readOnly: boolean, pageSize: number): RootDatabase {
  refuseUnusableLockFile(path, readOnly); // lmdb-js dies of SIGSEGV on one LMDB cannot open
  try {
    return open({
      path,
      readOnly,
      maxDbs: 8,
      mapSize: mapSizeBytes,
      compression: false,
      encoding: 'binary',
      keyEncoding: 'binary',
      noSync: false,
      noMetaSync: false,
      overlappingSync: false,
      useWritemap: false,
      pageSize,
      eventTurnBatching: false,
      commitDelay: 0,
      ...writeStart,
      cache: false,
    });
  } catch (error) {
    throw fromOpenError(error, path);
  }
}

export function prepareDir(dir: string, options: { create: boolean; readOnly: boolean }): void {
  refuseFile(dir); // told first: creating over a file fails as "exists", and reading it passes
  try {
    if (options.create) makeDirs(dir);
    accessSync(dir, options.readOnly ? fs.R_OK : fs.R_OK | fs.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new StorageError(StorageCode.DataMissing, `data folder ${dir} does not exist`);
    }
    // Read-only (replay, verify, inspect, backup's source), it is reading that failed: "not
    // writable" sent the operator after write permissions those tools never need.
    const what = options.readOnly ? 'readable' : 'writable';
    throw new StorageError(
      StorageCode.DataUnwritable,
      `data folder ${dir} is not ${what} (${code})`,
    );
  }
}

/**
 * Refuses a disk too full to start a node on (dataFreeBytesMin). Only where a node starts
 * (openStorage): a running node's threads open the folder again, and reading needs no room.
 */
export function checkFreeSpace(dir: string): void {
  const free = diskFreeBytes(dir);
  if (free >= dataFreeBytesMin) return;
  throw new StorageError(
    StorageCode.DataFull,
    `no space left on the disk of ${dir}: ${free} bytes free, a node needs at least ` +
      `${dataFreeBytesMin} to start`,
  );
}

/** @throws StorageError DATA_MISSING (exit 66) when `dir` is a file, not a folder. */
export function refuseFile(dir: string): void {
  if (isFile(dir)) {
    throw new StorageError(StorageCode.DataMissing, `${dir} is a file, not a data folder`);
  }
}

function isFile(path: string): boolean {
  try {
    return !statSync(path).isDirectory();
  } catch {
    return false;
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
    if (readOnly) return;
    // putSync: lmdb-js's `put` here left a write batch open, and this and every later
    // transactionSync on the environment committed only once the event loop turned.
    writeMeta(db, 'the schema version', () =>
      db.meta.transactionSync(() => db.meta.putSync(schemaKey, String(schemaVersion))),
    );
    return;
  }
  if (Number(stored) !== schemaVersion) {
    throw new SchemaMismatchError(
      `${db.path} was written with schema version ${stored}; this build reads ` +
        `${schemaVersion}: ${schemaAdvice(stored)}`,
      stored,
    );
  }
}

/**
 * What to do with a folder of schema version `stored`: it said only the two numbers, and an
 * operator who had just upgraded or gone back could not tell which build to run, or whether
 * the refusal had changed the folder (it does not: the check comes before any write). A
 * value that is no version is damage, not another build's.
 */
function schemaAdvice(stored: string): string {
  const version = Number(stored);
  if (!Number.isSafeInteger(version) || version < 1) {
    return 'that is no version (its meta record is damaged); restore the folder from a backup';
  }
  const who = version > schemaVersion ? 'a newer' : 'an older';
  const run = `run one that reads schema version ${version} (the folder is unchanged)`;
  return `${who} build wrote it: ${run}`;
}

/** Writes a safe integer as 8 bytes big-endian (so keys sort like numbers). */
export function writeU64BE(buffer: Buffer, value: number, offset: number): void {
  buffer.writeUInt32BE(Math.floor(value / 2 ** 32), offset);
  buffer.writeUInt32BE(value >>> 0, offset + 4);
}

export function readU64BE(buffer: Buffer, offset: number): number {
  return buffer.readUInt32BE(offset) * 2 ** 32 + buffer.readUInt32BE(offset + 4);
}

/** 8-byte big-endian key of a sequence. */
export function sequenceKey(sequence: number): Buffer {
  const key = Buffer.allocUnsafe(8);
  writeU64BE(key, sequence, 0);
  return key;
}

export function keySequence(key: Buffer): number {
  return readU64BE(key, 0);
}

const configKey = 'engine-config';
/** SHA-256 of the stored config's text (hex); absent in journals written before it was kept. */
const configHashKey = 'engine-config-sha256';

/**
 * The engine config the journal was last written with (replay tools rebuild with it). Checked
 * against its SHA-256: one damaged byte of it made verify die of an engine assert (exit 70) and
 * start refuse the operator's settings (64), and another changed a capacity unseen. A journal
 * written before the checksum was kept has none: its config is then only checked for sense.
 * @throws StorageError (JOURNAL_CORRUPT) naming journal.mdb when the config is damaged.
 */
export function storedConfig(db: JournalDb): EngineConfig | null {
  const text = db.meta.get(configKey);
  if (text === undefined) return null;
  const hash = db.meta.get(configHashKey);
  const damaged = (what: string): StorageError =>
    new StorageError(
      StorageCode.JournalCorrupt,
      `${db.path} is damaged: its stored engine config ${what}; ${journalFileAdvice}`,
    );
  if (hash !== undefined && hash !== configHash(text)) throw damaged('does not match its SHA-256');
  let config: EngineConfig;
  try {
    config = JSON.parse(text) as EngineConfig;
  } catch {
    throw damaged('is not JSON');
  }
  const problem = typeof config === 'object' ? engineConfigProblem(config) : 'not an object';
  const unchecked = hash === undefined ? ' (written without a checksum)' : '';
  if (problem !== null) throw damaged(`is not a config this build can run${unchecked}: ${problem}`);
  return config;
}

export function storeConfig(db: JournalDb, config: EngineConfig): void {
  const text = JSON.stringify(config);
  writeMeta(db, 'the engine config', () =>
    db.meta.transactionSync(() => {
      db.meta.putSync(configKey, text);
      db.meta.putSync(configHashKey, configHash(text));
    }),
  );
}

/**
 * A synchronous write to journal.mdb (its own tables, or a member's cut of its journal's
 * tail). @throws StorageError (DATA_IO, DATA_FULL,
 * ...: exit 74 and the like) naming `what` when the disk fails it: lmdb-js's bare error made a
 * node started on a failing disk exit 70 ("internal error", a stack trace), and `bourse
 * cluster` left such a member down for good instead of starting it again once the disk is back.
 */
export function writeMeta(db: JournalDb, what: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    throw writeFailure(error, what, -1, db.path);
  }
}

function configHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
