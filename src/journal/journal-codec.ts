/**
 * The journal's record: a JournalBatch FlatBuffers table (native-layouts/journal.fbs) whose
 * `events` vector holds Event structs byte for byte, as the output ring holds them.
 *
 *   LMDB key   first_sequence, 8 bytes big-endian
 *   LMDB value JournalBatch { schema_version, term, first_sequence, count, timestamp,
 *                             prev_hash[32], hash[32], events[count] (128 bytes each) }
 *
 *   hash = SHA-256( prev_hash ‖ schema u16 ‖ term u64 ‖ first_sequence u64 ‖ count u32 ‖
 *                   timestamp u64 ‖ event bytes )          (integers little-endian)
 *
 * The first batch's prev_hash is 32 zero bytes. The chain shows damage and changes inside it;
 * it cannot show a tail cut off, rewritten and re-hashed, or appended by whoever can write the
 * file: for that, a head (last sequence and batch hash) kept elsewhere (`bourse verify --head`).
 * One batch never splits a command's events, so a
 * journal cut after any batch replays to a state between two commands. The envelope uses the
 * generated builder (its 64-bit fields cost a few BigInts per batch, not per event); the events
 * vector is one memcpy. Decoding checks every offset against the buffer before reading, because
 * the FlatBuffers JS runtime has no verifier and a journal on disk may be damaged.
 */
import { readU64At } from '../stdx/records.js';
import { createHash } from 'node:crypto';
import * as flatbuffers from 'flatbuffers';
import { JournalBatch } from '../protocol/generated/bourse/protocol/journal-batch.js';
import { eventSizeBytes, schemaVersion } from '../constants.js';
import { assert } from '../stdx/assert.js';

export const hashSizeBytes = 32;
export const genesisHash: Uint8Array = new Uint8Array(hashSizeBytes);

/** The envelope's scalar fields, as hashed. */
export interface BatchHeader {
  schemaVersion: number;
  term: number;
  firstSequence: number;
  count: number;
  timestamp: number;
}

/** A decoded batch. `events` is a view into the decoded bytes, valid as long as they are. */
export interface BatchView extends BatchHeader {
  prevHash: Uint8Array;
  hash: Uint8Array;
  events: Uint8Array;
}

const scalarBytes = 30;

/** SHA-256 of a batch (see the file comment). Allocates a hash object per batch. */
export function batchHash(header: BatchHeader, prevHash: Uint8Array, events: Uint8Array): Buffer {
  const scalars = Buffer.allocUnsafe(scalarBytes);
  scalars.writeUInt16LE(header.schemaVersion, 0);
  scalars.writeBigUInt64LE(BigInt(header.term), 2);
  scalars.writeBigUInt64LE(BigInt(header.firstSequence), 10);
  scalars.writeUInt32LE(header.count, 18);
  scalars.writeBigUInt64LE(BigInt(header.timestamp), 22);
  return createHash('sha256').update(prevHash).update(scalars).update(events).digest();
}

/** Builds envelopes into one reused builder (sized for the largest batch at start-up). */
export class BatchEncoder {
  private readonly builder: flatbuffers.Builder;

  constructor(eventCountMax: number) {
    this.builder = new flatbuffers.Builder(eventCountMax * eventSizeBytes + 1024);
  }

  /**
   * Encodes a batch of `events` (whole Event structs) chained to `prevHash`. Returns the
   * envelope bytes, a view valid until the next call, and writes the batch hash into `hashOut`.
   */
  encode(
    term: number,
    firstSequence: number,
    timestamp: number,
    events: Uint8Array,
    prevHash: Uint8Array,
    hashOut: Uint8Array,
  ): Uint8Array {
    assert(events.byteLength % eventSizeBytes === 0, 'journal: whole events');
    assert(events.byteLength > 0, 'journal: a batch holds events');
    const count = events.byteLength / eventSizeBytes;
    const header = { schemaVersion, term, firstSequence, count, timestamp };
    const hash = batchHash(header, prevHash, events);
    hashOut.set(hash);
    const b = this.builder;
    b.clear();
    const eventsOffset = structVector(b, events);
    const hashOffset = JournalBatch.createHashVector(b, hash);
    const prevOffset = JournalBatch.createPrevHashVector(b, prevHash);
    JournalBatch.startJournalBatch(b);
    JournalBatch.addSchemaVersion(b, schemaVersion);
    JournalBatch.addTerm(b, BigInt(term));
    JournalBatch.addFirstSequence(b, BigInt(firstSequence));
    JournalBatch.addCount(b, count);
    JournalBatch.addTimestamp(b, BigInt(timestamp));
    JournalBatch.addPrevHash(b, prevOffset);
    JournalBatch.addHash(b, hashOffset);
    JournalBatch.addEvents(b, eventsOffset);
    b.finish(JournalBatch.endJournalBatch(b));
    return b.asUint8Array();
  }
}

/** The runtime's createByteVector, for a vector of 8-byte-aligned structs copied raw. */
function structVector(b: flatbuffers.Builder, bytes: Uint8Array): number {
  const raw = b as unknown as { space: number; bb: flatbuffers.ByteBuffer };
  b.startVector(eventSizeBytes, bytes.byteLength / eventSizeBytes, 8);
  raw.space -= bytes.byteLength;
  raw.bb.setPosition(raw.space);
  raw.bb.bytes().set(bytes, raw.space);
  return b.endVector();
}

/** Why a stored batch could not be read. */
export type BatchProblem = 'malformed' | 'schema' | 'hash';

/**
 * Decodes and checks one stored envelope: structure (every offset inside the buffer), schema
 * version, and (unless `checkHash` is false, when the caller checks hashes elsewhere) its own
 * hash. Returns the view, or the problem. Does not check the chain link.
 */
export function decodeBatch(bytes: Uint8Array, checkHash = true): BatchView | BatchProblem {
  const view = readEnvelope(bytes);
  if (view === null) return 'malformed';
  if (view.schemaVersion !== schemaVersion) return 'schema';
  if (!checkHash) return view;
  const hash = batchHash(view, view.prevHash, view.events);
  if (!hash.equals(view.hash)) return 'hash';
  return view;
}

/** Bounds-checked field reads; null on any offset outside the buffer or a missing field. */
function readEnvelope(bytes: Uint8Array): BatchView | null {
  const n = bytes.byteLength;
  if (n < 8) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, n);
  const table = dv.getUint32(0, true);
  if (table + 4 > n) return null;
  const vtable = table - dv.getInt32(table, true);
  if (vtable < 0 || vtable + 4 > n) return null;
  const vtableSize = dv.getUint16(vtable, true);
  if (vtableSize < 4 || vtable + vtableSize > n || vtableSize < 4 + 2 * 8) return null;
  const field = (i: number): number => {
    const rel = dv.getUint16(vtable + 4 + 2 * i, true);
    return rel === 0 ? -1 : table + rel;
  };
  const scalar = (i: number, size: number): number => {
    const at = field(i);
    if (at < 0) return 0;
    if (at + size > n) return -1;
    if (size === 2) return dv.getUint16(at, true);
    if (size === 4) return dv.getUint32(at, true);
    const value = readU64At(dv, at);
    return Number.isSafeInteger(value) ? value : -1;
  };
  const vector = (i: number, elementSize: number): Uint8Array | null => {
    const at = field(i);
    if (at < 0 || at + 4 > n) return null;
    const start = at + dv.getUint32(at, true);
    if (start + 4 > n) return null;
    const length = dv.getUint32(start, true) * elementSize;
    if (start + 4 + length > n) return null;
    return bytes.subarray(start + 4, start + 4 + length);
  };
  const header = {
    schemaVersion: scalar(0, 2),
    term: scalar(1, 8),
    firstSequence: scalar(2, 8),
    count: scalar(3, 4),
    timestamp: scalar(4, 8),
  };
  const prevHash = vector(5, 1);
  const hash = vector(6, 1);
  const events = vector(7, eventSizeBytes);
  if (prevHash === null || hash === null || events === null) return null;
  if (header.term < 0 || header.firstSequence < 0 || header.timestamp < 0) return null;
  if (prevHash.byteLength !== hashSizeBytes || hash.byteLength !== hashSizeBytes) return null;
  if (header.count === 0 || events.byteLength !== header.count * eventSizeBytes) return null;
  return { ...header, prevHash, hash, events };
}
