/**
 * Snapshots in LMDB (snapshots.mdb): a state image consistent at one sequence, written in one
 * transaction so that none is ever half there.
 *
 *   key seq ‖ 0      header (JSON: sequence, timestamp, batch hash, config, state layout,
 *                    counters, array sizes, state checksum, SHA-256 of everything else)
 *   key seq ‖ 1..k   the body, cut into chunks of snapshotChunkSizeBytes: layout 8, each
 *                    array's runs of words that differ from its base (snapshot-runs.ts);
 *                    layout 6 and before, each array's bytes, trailing zeros trimmed
 *
 * Layout 8 holds layout 6's arrays and, last, the cancel-on-disconnect marks (which came with
 * layout 7, never released: a 7 is skipped), stored sparsely: this build writes 8 and reads 6
 * too, with no client marked (a folder's snapshots stay usable across the upgrade). A build
 * that knows only 6 skips an 8 as of another layout and replays the journal instead.
 *
 * A snapshot is derived data: the journal stays the record. Only the newest `keep` are kept, and
 * one that fails its hash is skipped for an older one (or a full replay). Snapshots are written
 * and read off the command path, so this file allocates freely.
 */
import { createHash } from 'node:crypto';
import { snapshotChunkSizeBytes, stateLayoutVersion } from '../constants.js';
import {
  basesOf,
  ImageBase,
  PrefixSource,
  type ArraySource,
  type StateImage,
} from '../stdx/state-image.js';
import type { Database } from 'lmdb';
import { assert } from '../stdx/assert.js';
import { readU64BE, writeU64BE, type JournalDb } from './journal-db.js';
import { StorageCode, StorageError } from './journal-errors.js';
import { runsFault, RunsSource, type EncodedArray } from './snapshot-runs.js';
import { bodyBytesMax, encodeBody, type EncodedBody } from './snapshot-body.js';

/** The layout before sparse snapshots: the same arrays, each stored as its first bytes. */
export const prefixLayoutVersion = 6;

/** Whether this build can restore a snapshot of state layout `layout` (absent: 1). */
export function layoutReadable(layout: number | undefined): boolean {
  return layout === stateLayoutVersion || layout === prefixLayoutVersion;
}

export interface SnapshotHeader {
  sequence: number;
  timestamp: number;
  /** Hash of the journal batch that ends at `sequence` (hex), to check the snapshot fits it. */
  batchHash: string;
  config: unknown;
  /** stateLayoutVersion of the build that wrote it (absent before version 2). */
  layout?: number;
  counters: number[];
  /**
   * Per array: its full byte length and the bytes stored of it; layout 8, then its runs
   * (snapshot-runs.ts).
   */
  arrays: [number, number, number?][];
  /** Layout 8: each array's base (ImageBase). */
  bases?: number[];
  chunks: number;
  stateChecksum: string;
  sha256: string;
}

export type SnapshotFields = Omit<
  SnapshotHeader,
  'layout' | 'counters' | 'arrays' | 'bases' | 'chunks' | 'sha256'
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

/** A snapshot's body, encoded (snapshot-body.ts), with the parts of its header it decides. */
export interface SnapshotBody extends EncodedBody {
  /** The body: its first bodyBytes bytes (a view; read until the write returns). */
  bytes: Uint8Array;
  counters: number[];
  /** Per array, its base (ImageBase). */
  bases: number[];
}

/**
 * Writes `image` as the snapshot at `fields.sequence` (see writeSnapshotBody). Encodes it into
 * a buffer of its own, as large as its used bytes: for tests and tools; the snapshotter encodes
 * into its preallocated one.
 */
export function writeSnapshot(
  db: JournalDb,
  fields: SnapshotFields,
  image: StateImage,
  keep: number,
  paceMs = 0,
  aborted: () => boolean = () => false,
): SnapshotHeader | null {
  const bytes = new Uint8Array(bodyBytesMax(image));
  const encoded = encodeBody(bytes, image);
  const body = { ...encoded, bytes, counters: [...image.counters], bases: basesOf(image) };
  return writeSnapshotBody(db, fields, body, keep, paceMs, aborted);
}

/**
 * Writes `body` as the snapshot at `fields.sequence` and drops all but the newest `keep`.
 * Chunks go in one transaction each, `paceMs` apart, and the header last: a snapshot's fsyncs
 * then come in small pieces between the journal's instead of one large one that holds them up
 * (the disk is shared). A write cut short leaves chunks without a header, which the next write
 * removes; readers only look at snapshots that have a header. A snapshot already stored at the
 * same sequence (one a start skipped for another config, then replayed to the same place) is
 * removed whole before the first chunk: its keys are the new one's, and its header must not
 * stand over chunks of another, nor its longer tail outlive it. The newest `keep` are kept
 * counting the new one, which is never pruned. `aborted` is asked between steps and chunks:
 * when it says so the write stops there and returns null (the node is stopping; a snapshot is
 * never needed for correctness, the journal is). The header, which the SHA-256 covers before
 * the chunks, comes from the body's sizes; the body must not change until this returns.
 */
export function writeSnapshotBody(
  db: JournalDb,
  fields: SnapshotFields,
  body: SnapshotBody,
  keep: number,
  paceMs = 0,
  aborted: () => boolean = () => false,
): SnapshotHeader | null {
  if (aborted()) return null;
  let stored = 0;
  for (const [, bytes] of body.arrays) stored += bytes;
  assert(stored === body.bodyBytes, 'snapshot-store: the body is its arrays');
  assert(body.bodyBytes <= body.bytes.byteLength, 'snapshot-store: the body within its bytes');
  const header: SnapshotHeader = {
    ...fields,
    layout: stateLayoutVersion,
    counters: [...body.counters],
    arrays: body.arrays.map((a): EncodedArray => [a[0], a[1], a[2]]),
    bases: [...body.bases],
    chunks: Math.ceil(body.bodyBytes / snapshotChunkSizeBytes),
    sha256: '',
  };
  const others = listSnapshots(db).filter((h) => h.sequence !== fields.sequence);
  const old = others.slice(Math.max(0, keep - 1));
  clearFor(db, fields.sequence);
  const hash = createHash('sha256').update(headerText(header));
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const snapshots = store(db);
  const bytes = Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bodyBytes);
  // Each chunk goes through a buffer of its own: lmdb-js 3.5 stores garbage for a value that
  // is a view of a SharedArrayBuffer (as the snapshotter's body is), not its bytes.
  const copy = Buffer.allocUnsafe(Math.min(snapshotChunkSizeBytes, body.bodyBytes));
  for (let part = 1; part <= header.chunks; part++) {
    if (aborted()) return null;
    const at = (part - 1) * snapshotChunkSizeBytes;
    const end = Math.min(at + snapshotChunkSizeBytes, body.bodyBytes);
    const chunk = copy.subarray(0, bytes.copy(copy, 0, at, end));
    hash.update(chunk);
    snapshots.transactionSync(() => snapshots.putSync(partKey(fields.sequence, part), chunk));
    if (paceMs > 0) Atomics.wait(pause, 0, 0, paceMs);
  }
  if (aborted()) return null;
  header.sha256 = hash.digest('hex');
  snapshots.transactionSync(() => {
    // None past the new chunks unless another writer put them since clearFor: they go too.
    removeParts(db, header.sequence, header.chunks + 1);
    snapshots.putSync(partKey(header.sequence, 0), Buffer.from(JSON.stringify(header)));
    for (const o of old) removeParts(db, o.sequence, 0);
    assert(partCount(db, header.sequence) === header.chunks + 1, 'snapshot-store: stored whole');
  });
  return header;
}

/**
 * Before a write at `sequence`, in one transaction: removes the chunks of snapshots whose header
 * was never written (an interrupted write), and every key of a snapshot stored at `sequence`.
 */
function clearFor(db: JournalDb, sequence: number): void {
  const headed = new Set<number>();
  const parts: Buffer[] = [];
  for (const key of store(db).getKeys()) {
    if (key.byteLength !== 12) continue;
    if (key.readUInt32BE(8) === 0) headed.add(readU64BE(key, 0));
    else parts.push(key);
  }
  const orphans = parts.filter((key) => !headed.has(readU64BE(key, 0)));
  if (orphans.length === 0 && partCount(db, sequence) === 0) return;
  const snapshots = store(db);
  snapshots.transactionSync(() => {
    for (const key of orphans) snapshots.removeSync(key);
    removeParts(db, sequence, 0);
  });
}

/** The keys of a snapshot at `sequence`, from part `from` on (whatever its header says). */
function partKeys(db: JournalDb, sequence: number, from: number): Buffer[] {
  const start = partKey(sequence, from);
  const end = partKey(sequence + 1, 0);
  const keys: Buffer[] = [];
  for (const key of store(db).getKeys({ start, end })) if (key.byteLength === 12) keys.push(key);
  return keys;
}

function partCount(db: JournalDb, sequence: number): number {
  return partKeys(db, sequence, 0).length;
}

/**
 * Removes a snapshot's keys from part `from` on, by range rather than by its header's count
 * (which a corrupt header does not give). Inside the caller's write transaction.
 */
function removeParts(db: JournalDb, sequence: number, from: number): void {
  for (const key of partKeys(db, sequence, from)) store(db).removeSync(key);
}

function headerText(header: SnapshotHeader): string {
  return JSON.stringify({ ...header, sha256: '' });
}

/**
 * A snapshot's SHA-256: its header without it, then its chunks, in every layout (a build that
 * knows only layout 6 finds a 7 sound, and skips it as of another layout; verify too).
 * Exported for tests that forge one.
 */
export function snapshotDigest(header: SnapshotHeader, chunks: readonly Buffer[]): string {
  const hash = createHash('sha256').update(headerText(header));
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
 * Reads a snapshot's arrays at full length (allocates them whole: tests and tools on small
 * states) and checks its hash.
 * @throws StorageError SNAPSHOT_CORRUPT when any byte of it differs from what was written.
 */
export function loadSnapshot(db: JournalDb, header: SnapshotHeader): Uint8Array[] {
  const source = loadSnapshotStored(db, header);
  const arrays: Uint8Array[] = [];
  for (let i = 0; i < source.count; i++) {
    const array = new Uint8Array(header.arrays[i][0]);
    source.write(i, array, 0);
    arrays.push(array);
  }
  return arrays;
}

/**
 * Reads a snapshot's arrays as stored, for `Engine.restore` (views of one buffer, no copy; a
 * restore writes only what they hold, and maps no more memory than the state uses). Checks the
 * hash, and that the body is what its header says.
 * @throws StorageError SNAPSHOT_CORRUPT when any byte of it differs from what was written.
 */
export function loadSnapshotStored(db: JournalDb, header: SnapshotHeader): ArraySource {
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
  if (snapshotDigest(header, chunks) !== header.sha256) throw bad('does not match its SHA-256');
  const body = Buffer.concat(chunks);
  const arrays: Uint8Array[] = [];
  let at = 0;
  for (const [full, stored] of header.arrays) {
    if (stored > full) throw bad('stores more of an array than it has');
    arrays.push(body.subarray(at, at + stored));
    at += stored;
  }
  if (at !== body.byteLength) throw bad('has a body of the wrong length');
  if (header.layout !== stateLayoutVersion) {
    // Layout 6 had no cancel-on-disconnect marks, the image's last array: none is marked.
    return new PrefixSource([...arrays, new Uint8Array(0)]);
  }
  const fault = sparseFault(header, arrays);
  if (fault !== null) throw bad(fault);
  const runs = header.arrays.map(([, , n]) => n ?? 0);
  return new RunsSource(arrays, runs, header.bases ?? []);
}

/** What is wrong with a sparse snapshot's arrays (layout 8), or null. */
function sparseFault(header: SnapshotHeader, arrays: readonly Uint8Array[]): string | null {
  const bases = header.bases;
  if (!Array.isArray(bases) || bases.length !== arrays.length) return 'has no base for an array';
  for (let i = 0; i < arrays.length; i++) {
    const [full, , runs] = header.arrays[i];
    const base = bases[i];
    const known = [ImageBase.Zeros, ImageBase.AllOnes, ImageBase.Countdown] as number[];
    if (!known.includes(base)) return `has array ${i} of an unknown base`;
    if (base === ImageBase.Countdown && full % 4 !== 0) return `has array ${i} of an unknown base`;
    if (!Number.isSafeInteger(runs) || (runs as number) < -1) return `has array ${i} without runs`;
    const fault = runsFault(arrays[i], full, runs as number);
    if (fault !== null) return `${fault} (array ${i})`;
  }
  return null;
}
