/**
 * Snapshots in LMDB (snapshots.mdb): a state image consistent at one sequence, written in one
 * transaction so that none is ever half there.
 *
 *   key seq ‖ 0      header (JSON: sequence, timestamp, batch hash, config, counters, array
 *                    sizes, state checksum, SHA-256 of everything else)
 *   key seq ‖ 1..k   the arrays' bytes, concatenated, trailing zeros of each array trimmed,
 *                    cut into chunks of snapshotChunkSizeBytes
 *
 * A snapshot is derived data: the journal stays the record. Only the newest `keep` are kept, and
 * one that fails its hash is skipped for an older one (or a full replay). Snapshots are written
 * and read off the command path, so this file allocates freely.
 */
import { createHash } from 'node:crypto';
import { snapshotChunkSizeBytes, stateLayoutVersion } from '../constants.js';
import { usedBytes, type StateImage } from '../stdx/state-image.js';
import type { Database } from 'lmdb';
import { assert } from '../stdx/assert.js';
import { readU64BE, writeU64BE, type JournalDb } from './journal-db.js';
import { StorageCode, StorageError } from './journal-errors.js';

export interface SnapshotHeader {
  sequence: number;
  timestamp: number;
  /** Hash of the journal batch that ends at `sequence` (hex), to check the snapshot fits it. */
  batchHash: string;
  config: unknown;
  /** stateLayoutVersion of the build that wrote it (absent before version 2). */
  layout?: number;
  counters: number[];
  /** Full and stored (trimmed) byte length of each array. */
  arrays: [number, number][];
  chunks: number;
  stateChecksum: string;
  sha256: string;
}

export type SnapshotFields = Omit<
  SnapshotHeader,
  'layout' | 'counters' | 'arrays' | 'chunks' | 'sha256'
>;

/** The snapshots database; a caller that opened the storage without it must not get here. */
function store(db: JournalDb): Database<Buffer, Buffer> {
  assert(db.snapshots !== null, 'snapshot-store: snapshots.mdb was not opened');
  return db.snapshots;
}

function partKey(sequence: number, part: number): Buffer {
  const key = Buffer.alloc(12);
  writeU64BE(key, sequence, 0);
  key.writeUInt32BE(part, 8);
  return key;
}

/**
 * Writes `image` as the snapshot at `fields.sequence` and drops all but the newest `keep`.
 * Chunks go in one transaction each, `paceMs` apart, and the header last: a snapshot's fsyncs
 * then come in small pieces between the journal's instead of one large one that holds them up
 * (the disk is shared). A write cut short leaves chunks without a header, which the next write
 * removes; readers only look at snapshots that have a header. `aborted` is asked between steps
 * and chunks: when it says so the write stops there and returns null (the node is stopping; a
 * snapshot is never needed for correctness, the journal is).
 */
export function writeSnapshot(
  db: JournalDb,
  fields: SnapshotFields,
  image: StateImage,
  keep: number,
  paceMs = 0,
  aborted: () => boolean = () => false,
): SnapshotHeader | null {
  const stored = image.arrays.map((a, i) => trimmed(a, usedBytes(image, i)));
  if (aborted()) return null;
  const body = Buffer.concat(stored);
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.byteLength; at += snapshotChunkSizeBytes) {
    chunks.push(body.subarray(at, at + snapshotChunkSizeBytes));
  }
  const header: SnapshotHeader = {
    ...fields,
    layout: stateLayoutVersion,
    counters: [...image.counters],
    arrays: image.arrays.map((a, i) => [a.byteLength, stored[i].byteLength]),
    chunks: chunks.length,
    sha256: '',
  };
  header.sha256 = digest(header, chunks);
  const old = listSnapshots(db).slice(Math.max(0, keep - 1));
  removeOrphans(db);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const snapshots = store(db);
  for (let i = 0; i < chunks.length; i++) {
    if (aborted()) return null;
    snapshots.transactionSync(() => snapshots.putSync(partKey(header.sequence, i + 1), chunks[i]));
    if (paceMs > 0) Atomics.wait(pause, 0, 0, paceMs);
  }
  if (aborted()) return null;
  snapshots.transactionSync(() => {
    snapshots.putSync(partKey(header.sequence, 0), Buffer.from(JSON.stringify(header)));
    for (const o of old) removeSnapshot(db, o.sequence, o.chunks);
  });
  return header;
}

/** Removes the chunks of snapshots whose header was never written (an interrupted write). */
function removeOrphans(db: JournalDb): void {
  const headed = new Set<number>();
  const parts: Buffer[] = [];
  for (const key of store(db).getKeys()) {
    if (key.byteLength !== 12) continue;
    if (key.readUInt32BE(8) === 0) headed.add(readU64BE(key, 0));
    else parts.push(key);
  }
  const orphans = parts.filter((key) => !headed.has(readU64BE(key, 0)));
  if (orphans.length === 0) return;
  const snapshots = store(db);
  snapshots.transactionSync(() => {
    for (const key of orphans) snapshots.removeSync(key);
  });
}

function removeSnapshot(db: JournalDb, sequence: number, chunks: number): void {
  for (let part = 0; part <= chunks; part++) store(db).removeSync(partKey(sequence, part));
}

/** The array's first `used` bytes without their trailing zeros (a view, no copy). */
function trimmed(view: ArrayBufferView, used: number): Buffer {
  const bytes = Buffer.from(view.buffer, view.byteOffset, used);
  let end = bytes.byteLength;
  while (
    end >= 8 &&
    bytes.readDoubleLE(end - 8) === 0 &&
    !Object.is(bytes.readDoubleLE(end - 8), -0)
  )
    end -= 8;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return bytes.subarray(0, end);
}

function digest(header: SnapshotHeader, chunks: readonly Buffer[]): string {
  const hash = createHash('sha256').update(JSON.stringify({ ...header, sha256: '' }));
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * Headers of the stored snapshots, newest first. A header that does not parse is reported as
 * corrupt with only its sequence known.
 */
export function listSnapshots(db: JournalDb): SnapshotHeader[] {
  const found: SnapshotHeader[] = [];
  if (db.snapshots === null) return found; // a read-only folder without snapshots.mdb
  for (const { key, value } of db.snapshots.getRange({ reverse: true })) {
    if (key.byteLength !== 12 || key.readUInt32BE(8) !== 0) continue;
    found.push(parseHeader(readU64BE(key, 0), value));
  }
  return found;
}

function parseHeader(sequence: number, value: Buffer): SnapshotHeader {
  try {
    const header = JSON.parse(value.toString('utf8')) as SnapshotHeader;
    if (header.sequence === sequence && Array.isArray(header.arrays)) return header;
  } catch {
    // Reported below as a header that cannot be trusted.
  }
  return {
    sequence,
    timestamp: 0,
    batchHash: '',
    config: null,
    layout: 0,
    counters: [],
    arrays: [],
    chunks: 0,
    stateChecksum: '',
    sha256: 'corrupt',
  };
}

/** What is wrong with a header that did not parse (listSnapshots), or null for a sound one. */
export function headerFault(header: SnapshotHeader): string | null {
  if (header.sha256 !== 'corrupt') return null;
  return `snapshot at sequence ${header.sequence} has an unreadable header`;
}

/**
 * Reads a snapshot's arrays (full length, zero-filled past what was stored) and checks its hash.
 * @throws StorageError SNAPSHOT_CORRUPT when any byte of it differs from what was written.
 */
export function loadSnapshot(db: JournalDb, header: SnapshotHeader): Uint8Array[] {
  return loadSnapshotStored(db, header).map((stored, i) => {
    const array = new Uint8Array(header.arrays[i][0]);
    array.set(stored);
    return array;
  });
}

/**
 * Reads a snapshot's arrays as stored: each is its array's first bytes, what follows being
 * zeros (views of one buffer, no copy; a restore writes only these, and maps no more memory
 * than the state uses). Checks the hash.
 * @throws StorageError SNAPSHOT_CORRUPT when any byte of it differs from what was written.
 */
export function loadSnapshotStored(db: JournalDb, header: SnapshotHeader): Uint8Array[] {
  const bad = (what: string): StorageError =>
    new StorageError(
      StorageCode.SnapshotCorrupt,
      `snapshot at sequence ${header.sequence} ${what}`,
      header.sequence,
    );
  const unreadable = headerFault(header);
  if (unreadable !== null)
    throw new StorageError(StorageCode.SnapshotCorrupt, unreadable, header.sequence);
  const chunks: Buffer[] = [];
  for (let part = 1; part <= header.chunks; part++) {
    const chunk = store(db).getBinary(partKey(header.sequence, part));
    if (chunk === undefined) throw bad(`is missing part ${part}`);
    chunks.push(Buffer.from(chunk));
  }
  if (digest(header, chunks) !== header.sha256) throw bad('does not match its SHA-256');
  const body = Buffer.concat(chunks);
  const arrays: Uint8Array[] = [];
  let at = 0;
  for (const [full, stored] of header.arrays) {
    if (stored > full) throw bad('stores more of an array than it has');
    arrays.push(body.subarray(at, at + stored));
    at += stored;
  }
  if (at !== body.byteLength) throw bad('has a body of the wrong length');
  return arrays;
}
