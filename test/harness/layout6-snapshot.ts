/**
 * Writes a snapshot as builds of state layout 6 did (before sparse snapshots), so that tests can
 * check that this build still loads the snapshots already in users' folders. Kept apart from
 * src/journal/snapshot-store.ts on purpose: the format is frozen here as it was written.
 *
 *   key seq ‖ 0      header (JSON), layout 6, arrays [full, stored]
 *   key seq ‖ 1..k   each array's used bytes without their trailing zeros, concatenated, in
 *                    chunks; SHA-256 over the header (sha256 '') and then the chunks
 */
import { createHash } from 'node:crypto';
import { snapshotChunkSizeBytes } from '../../src/constants.js';
import type { JournalDb } from '../../src/journal/journal-db.js';
import type { SnapshotFields, SnapshotHeader } from '../../src/journal/snapshot-store.js';
import { usedBytes, type StateImage } from '../../src/stdx/state-image.js';

export function writeLayout6Snapshot(
  db: JournalDb,
  fields: SnapshotFields,
  image: StateImage,
): SnapshotHeader {
  // Layout 6 had no cancel-on-disconnect marks: the image's last array came with layout 7.
  const arrays = image.arrays.slice(0, -1);
  const stored = arrays.map((a, i) => trimmed(a, usedBytes(image, i)));
  const body = Buffer.concat(stored);
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.byteLength; at += snapshotChunkSizeBytes) {
    chunks.push(body.subarray(at, at + snapshotChunkSizeBytes));
  }
  const header: SnapshotHeader = {
    ...fields,
    layout: 6,
    counters: [...image.counters],
    arrays: arrays.map((a, i) => [a.byteLength, stored[i].byteLength]),
    chunks: chunks.length,
    sha256: '',
  };
  const hash = createHash('sha256').update(JSON.stringify({ ...header, sha256: '' }));
  for (const chunk of chunks) hash.update(chunk);
  header.sha256 = hash.digest('hex');
  const snapshots = db.snapshots;
  if (snapshots === null) throw new Error('layout6-snapshot: no snapshots.mdb');
  snapshots.transactionSync(() => {
    chunks.forEach((chunk, i) => snapshots.putSync(partKey(header.sequence, i + 1), chunk));
    snapshots.putSync(partKey(header.sequence, 0), Buffer.from(JSON.stringify(header)));
  });
  return header;
}

function partKey(sequence: number, part: number): Buffer {
  const key = Buffer.alloc(12);
  key.writeBigUInt64BE(BigInt(sequence), 0);
  key.writeUInt32BE(part, 8);
  return key;
}

/** The array's first `used` bytes without their trailing zeros (a view, no copy). */
function trimmed(view: ArrayBufferView, used: number): Buffer {
  const bytes = Buffer.from(view.buffer, view.byteOffset, used);
  let end = bytes.byteLength;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return bytes.subarray(0, end);
}

/**
 * What a build that knows only layout 6 finds wrong with a stored snapshot, reading it as it
 * did (its loadSnapshotStored, which its verify runs on every snapshot, whatever its layout):
 * a missing part, a SHA-256 over the header and then the chunks that does not match, an array
 * stored longer than it is, a body of the wrong length. Null: it finds the snapshot sound (its
 * start and verify then skip one of another layout).
 */
export function layout6Fault(db: JournalDb, header: SnapshotHeader): string | null {
  const snapshots = db.snapshots;
  if (snapshots === null) throw new Error('layout6-snapshot: no snapshots.mdb');
  const chunks: Buffer[] = [];
  for (let part = 1; part <= header.chunks; part++) {
    const chunk = snapshots.getBinary(partKey(header.sequence, part));
    if (chunk === undefined) return `is missing part ${part}`;
    chunks.push(Buffer.from(chunk));
  }
  const hash = createHash('sha256').update(JSON.stringify({ ...header, sha256: '' }));
  for (const chunk of chunks) hash.update(chunk);
  if (hash.digest('hex') !== header.sha256) return 'does not match its SHA-256';
  let at = 0;
  for (const [full, stored] of header.arrays) {
    if (stored > full) return 'stores more of an array than it has';
    at += stored;
  }
  const body = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  return at === body ? null : 'has a body of the wrong length';
}
