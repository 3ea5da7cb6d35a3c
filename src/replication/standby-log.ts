/**
 * A standby's log in front of LMDB (constants.ts `standbyLogOn`): each group of entries the
 * group commit writes is appended to a preallocated file in one `O_DSYNC` write, one flush,
 * and acknowledged as durable from that; LMDB takes the entries afterwards, off the
 * acknowledgement's path (group-commit.ts). An LMDB commit is two flushes (its pages, then its
 * meta page), and on a standby that commit and the wait for the one before it were half of a
 * replicated command's time (bench/RESULTS.md, forty-second session).
 *
 *   file: [record n][record n+1] ... [record m][old bytes ...]
 *          ^ LMDB's mark (meta 'standby-log': record n at offset o)  ^ tail: the next append
 *
 * A record: header (32 bytes: magic, body length, record number, commit, group count,
 * CRC-32 of header and body), then per group its entry count and each entry's length and
 * bytes (a journal batch, which carries its SHA-256 and its predecessor's). Groups are
 * replayed as written: each cuts the journal from its first entry's sequence on (as
 * ReplicaStore.writeMany does), so a cut of the uncommitted tail is in the log with the
 * entries that replace it, and a restart never brings back what it cut.
 *
 * LMDB's transaction that takes records also moves the mark past them; a start replays the
 * records after the mark (recoverInto), each whole one only: a torn tail (its CRC, its length,
 * or a number out of turn) ends the replay and is never applied. Record numbers only grow, so
 * the bytes of an earlier lap never pass for a record. The log wraps to offset 0 only once LMDB
 * holds every record (the group commit waits for it), and a replay whose next record is not at
 * the mark's offset looks for it at 0.
 *
 * Not in the hot folders; one write buffer, reused (grown when a group needs more, up to
 * `standbyLogRecordBytesMax`). One append at a time (the group commit's write in flight).
 */
import { closeSync, fdatasyncSync, openSync, readSync, write, writeSync } from 'node:fs';
import { constants as fs, existsSync, fstatSync, fsyncSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { standbyLogBytes, standbyLogRecordBytesMax } from '../constants.js';
import { writeFailure } from '../journal/journal-errors.js';
import { assert } from '../stdx/assert.js';

/** What a record holds of an entry: its bytes (a journal batch). */
export interface LoggedEntry {
  readonly payload: Uint8Array;
}

/** Where the next record is: its number and its offset in the file. */
export interface LogMark {
  readonly record: number;
  readonly offset: number;
}

/** A whole record read back: its groups' payloads, the commit it carried, the mark after it. */
export interface LogRecord {
  readonly groups: Uint8Array[][];
  readonly committed: number;
  readonly after: LogMark;
}

/**
 * The file under a log: a member's (fileOf: an fd, `O_DSYNC`), or the deterministic
 * simulation's, in memory, whose writes tear in a crash (bench/soak/sim-standby-log.ts).
 */
export interface LogFile {
  /** Its size: records are written only where they fit. */
  readonly bytes: number;
  /** Reads `length` bytes at `position` into `into` at `offset` (synchronously). */
  read(into: Buffer, offset: number, length: number, position: number): void;
  /**
   * Writes `length` bytes of `from` at `offset` to `position`, durable when `done` is called
   * with no error; `written` may be less than asked (the rest is written again). `from` is not
   * touched until then.
   */
  write(
    from: Buffer,
    offset: number,
    length: number,
    position: number,
    done: (error: Error | null, written: number) => void,
  ): void;
  /** write, on the caller's thread: returns the bytes written (appendSync). @throws its error */
  writeSync(from: Buffer, offset: number, length: number, position: number): number;
  close(): void;
}

export const standbyLogFile = 'standby-log.bin';
const magic = 0x314c5342; // "BSL1"
const headerBytes = 32;
const crcAt = 28;

export class StandbyLog {
  private buffer = Buffer.alloc(1 << 20);
  private tail: LogMark = { record: 1, offset: 0 };
  private closed = false;

  readonly fileBytes: number;

  /** The log in `file` (StandbyLog.open: a member's; the simulation's own, in memory). */
  constructor(private readonly file: LogFile) {
    this.fileBytes = file.bytes;
  }

  /**
   * Opens the log in `dir`, creating and zero-filling it when absent: `fileBytes`, or a quarter
   * of the disk's free space when that is less (a small disk), at least 4 KB. An existing file
   * keeps its size. @throws StorageError (DATA_FULL, DATA_IO, ...) when it cannot be made.
   */
  static open(dir: string, fileBytes = standbyLogBytes): StandbyLog {
    const path = join(dir, standbyLogFile);
    if (!existsSync(path)) {
      const { bavail, bsize } = statfsSync(dir);
      const room = Math.floor((bavail * bsize) / 4 / 4_096) * 4_096;
      try {
        preallocate(path, dir, Math.max(4_096, Math.min(fileBytes, room)));
      } catch (error) {
        rmSync(path, { force: true });
        throw writeFailure(error, 'the standby log', -1, dir);
      }
    }
    return new StandbyLog(fileOf(openSync(path, fs.O_RDWR | fs.O_DSYNC)));
  }

  /**
   * How many whole records, in turn, the log in `dir` holds past `mark` (LMDB's): acknowledged,
   * not in LMDB yet (a member killed: until its next start replays them). 0 when there is no
   * log. Read-only (`bourse backup` tells what its copy of LMDB lacks). Allocates.
   */
  static recordsPast(dir: string, mark: LogMark): number {
    return StandbyLog.readPast(dir, mark).records;
  }

  /**
   * recordsPast, and whether the file ends short after them (endsShort: shortened under its
   * records, which a start refuses). Read-only. Allocates. @throws what reading the file throws
   */
  static readPast(dir: string, mark: LogMark): { records: number; short: boolean } {
    const path = join(dir, standbyLogFile);
    if (!existsSync(path)) return { records: 0, short: false };
    const log = StandbyLog.openToRead(dir);
    try {
      let records = 0;
      let at = mark;
      for (let found = log.readAt(at); found !== null; found = log.readAt(at)) {
        at = found.after;
        records++;
      }
      return { records, short: log.endsShort(at) };
    } finally {
      log.close();
    }
  }

  /** Opens the log in `dir`, which exists, to read it only (readAt). */
  static openToRead(dir: string): StandbyLog {
    return new StandbyLog(fileOf(openSync(join(dir, standbyLogFile), fs.O_RDONLY)));
  }

  /** Where the next append goes (everything before it is in LMDB once LMDB says this mark). */
  get next(): LogMark {
    return this.tail;
  }

  /** Bytes a record of `writes` takes. */
  static sizeOf(writes: readonly (readonly LoggedEntry[])[]): number {
    let bytes = headerBytes;
    for (const entries of writes) {
      bytes += 4;
      for (const e of entries) bytes += 4 + e.payload.length;
    }
    return bytes;
  }

  /** Whether a record of `bytes` fits at the tail without a wrap. */
  fits(bytes: number): boolean {
    return this.tail.offset + bytes <= this.fileBytes;
  }

  /** The tail goes back to offset 0. Only once LMDB holds every record (its mark is the tail). */
  wrap(): void {
    this.tail = { record: this.tail.record, offset: 0 };
  }

  /** The tail after a replay (recoverAt): the next record there, from offset 0. */
  restartAt(record: number): void {
    this.tail = { record, offset: 0 };
  }

  /**
   * Appends one record of `writes` (with `committed`) in one durable write; resolves to the mark
   * after it. The caller checked `fits`, and that the record is at most standbyLogRecordBytesMax.
   */
  append(writes: readonly (readonly LoggedEntry[])[], committed: number): Promise<LogMark> {
    const bytes = this.encode(writes, committed);
    const at = this.tail.offset;
    const after = { record: this.tail.record + 1, offset: at + bytes };
    const part: PartWrite = (done, rest, wrote) =>
      this.file.write(this.buffer, done, rest, at + done, wrote);
    return new Promise((resolve, reject) => {
      writeWhole(part, bytes, at, (error) => {
        if (error !== null) return reject(error);
        this.tail = after;
        resolve(after);
      });
    });
  }

  /**
   * append, on the caller's thread (the journal writer's: it blocks on its commit anyway):
   * returns the mark after the record once it is durable. @throws the write's error
   */
  appendSync(writes: readonly (readonly LoggedEntry[])[], committed: number): LogMark {
    const bytes = this.encode(writes, committed);
    const at = this.tail.offset;
    writeWholeSync(
      (done, rest) => this.file.writeSync(this.buffer, done, rest, at + done),
      bytes,
      at,
    );
    this.tail = { record: this.tail.record + 1, offset: at + bytes };
    return this.tail;
  }

  /** Encodes the record of `writes` at the tail into the write buffer; returns its bytes. */
  private encode(writes: readonly (readonly LoggedEntry[])[], committed: number): number {
    const bytes = StandbyLog.sizeOf(writes);
    assert(!this.closed, 'standby log: appended while open');
    assert(bytes <= standbyLogRecordBytesMax, 'standby log: a record within its bound');
    assert(this.fits(bytes), 'standby log: the record fits before the end');
    if (this.buffer.length < bytes) this.buffer = Buffer.alloc(bytes);
    encodeRecord(this.buffer, writes, this.tail.record, committed, bytes);
    return bytes;
  }

  /**
   * The whole record numbered `mark.record` at `mark.offset`, or else at offset 0 (a wrap), or
   * null: none there (the log's end, or a torn tail). Allocates (a start's replay only).
   */
  readAt(mark: LogMark): LogRecord | null {
    const found = this.readOne(mark.record, mark.offset);
    if (found !== null || mark.offset === 0) return found;
    return this.readOne(mark.record, 0);
  }

  /**
   * Whether the file ends before what `mark` says it holds: its offset is past the end, or the
   * record numbered there runs past it. A torn write never does (the file is preallocated, a
   * record written only where it fits): the file was shortened under its records (a truncate).
   */
  endsShort(mark: LogMark): boolean {
    if (mark.offset > this.fileBytes) return true;
    const header = this.headerAt(mark.record, mark.offset);
    if (header === null) return false;
    return mark.offset + headerBytes + header.readUInt32LE(4) > this.fileBytes;
  }

  /** The header of the record numbered `record` at `offset`, or null: none begins there. */
  private headerAt(record: number, offset: number): Buffer | null {
    if (offset + headerBytes > this.fileBytes) return null;
    const header = Buffer.alloc(headerBytes);
    this.file.read(header, 0, headerBytes, offset);
    if (header.readUInt32LE(0) !== magic || header.readDoubleLE(8) !== record) return null;
    return header;
  }

  private readOne(record: number, offset: number): LogRecord | null {
    const header = this.headerAt(record, offset);
    if (header === null) return null;
    const bodyBytes = header.readUInt32LE(4);
    if (offset + headerBytes + bodyBytes > this.fileBytes) return null;
    const whole = Buffer.alloc(headerBytes + bodyBytes);
    header.copy(whole);
    this.file.read(whole, headerBytes, bodyBytes, offset + headerBytes);
    if (checksum(whole) !== header.readUInt32LE(crcAt)) return null; // torn
    const groups = decodeGroups(whole, header.readUInt32LE(24));
    if (groups === null) return null;
    const after = { record: record + 1, offset: offset + whole.length };
    return { groups, committed: header.readDoubleLE(16), after };
  }

  /** Closes the file; once only (a second stop would close whatever file took its number). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.file.close();
  }
}

/** A member's log file, open as `fd`. */
function fileOf(fd: number): LogFile {
  return {
    bytes: fstatSync(fd).size,
    read: (into, offset, length, position) => void readSync(fd, into, offset, length, position),
    write: (from, offset, length, position, done) =>
      write(fd, from, offset, length, position, (error, written) => done(error, written)),
    writeSync: (from, offset, length, position) => writeSync(fd, from, offset, length, position),
    close: () => closeSync(fd),
  };
}

/** Zero-fills the file (an `O_DSYNC` write then changes no block map) and makes it durable. */
function preallocate(path: string, dir: string, fileBytes: number): void {
  const fd = openSync(path, fs.O_RDWR | fs.O_CREAT | fs.O_EXCL, 0o600);
  try {
    const zeros = Buffer.alloc(Math.min(fileBytes, 1 << 20));
    const part = (done: number, rest: number): number =>
      writeSync(fd, zeros, 0, Math.min(zeros.length, rest), done);
    writeWholeSync(part, fileBytes, 0);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const dirFd = openSync(dir, fs.O_RDONLY);
  try {
    fsyncSync(dirFd); // the file's name, too
  } finally {
    closeSync(dirFd);
  }
}

/**
 * One write of up to `rest` bytes, from byte `done` of what writeWhole writes: it calls `wrote`
 * once, with the bytes it took, at once (a synchronous write) or later.
 */
type PartWrite = (
  done: number,
  rest: number,
  wrote: (error: Error | null, written: number) => void,
) => void;

/**
 * Writes `bytes` bytes at `position` whole, by writes of `write`; calls `end` once, with null
 * or the error. A write may take part of what it was given and say so, with no error (a full
 * disk under a log whose blocks are not all allocated: copied sparse, or copy-on-write): the
 * rest is written again, which then fails with the disk's errno; one that takes nothing is an
 * EIO (shortWrite). A write that calls back at once goes on in this loop, not a deeper call;
 * one that calls back later goes on from its callback (the next part is asked for in it).
 */
function writeWhole(
  write: PartWrite,
  bytes: number,
  position: number,
  end: (error: Error | null) => void,
): void {
  let done = 0;
  let inWrite = false; // its callback, called now, leaves the next write to the loop
  const wrote = (error: Error | null, written: number): void => {
    const failure = error ?? (written === 0 ? shortWrite(position + done) : null);
    if (failure !== null) {
      done = -1; // ended: the loop stops
      return end(failure);
    }
    done += written;
    if (!inWrite) loop();
  };
  const loop = (): void => {
    while (done >= 0 && done < bytes) {
      const before = done;
      inWrite = true;
      write(done, bytes - done, wrote);
      inWrite = false;
      if (done === before) return; // to be called back: it goes on from there
    }
    if (done === bytes) end(null);
  };
  loop();
}

/** writeWhole with a synchronous write, which returns the bytes it took. @throws its error */
function writeWholeSync(
  write: (done: number, rest: number) => number,
  bytes: number,
  position: number,
): void {
  const part: PartWrite = (done, rest, wrote) => wrote(null, write(done, rest));
  writeWhole(part, bytes, position, (error) => {
    if (error !== null) throw error;
  });
}

/** A write that took nothing and said no error: an I/O error, as an operator reads one. */
function shortWrite(offset: number): Error {
  const error = new Error(`EIO: the standby log took no byte of a write at offset ${offset}`);
  return Object.assign(error, { code: 'EIO' });
}

/** CRC-32 of a record's header (its CRC word left out) and body. */
function checksum(record: Buffer): number {
  const head = crc32(record.subarray(0, crcAt));
  return crc32(record.subarray(headerBytes), head);
}

function encodeRecord(
  into: Buffer,
  writes: readonly (readonly LoggedEntry[])[],
  record: number,
  committed: number,
  bytes: number,
): void {
  into.writeUInt32LE(magic, 0);
  into.writeUInt32LE(bytes - headerBytes, 4);
  into.writeDoubleLE(record, 8);
  into.writeDoubleLE(committed, 16);
  into.writeUInt32LE(writes.length, 24);
  let at = headerBytes;
  for (const entries of writes) {
    into.writeUInt32LE(entries.length, at);
    at += 4;
    for (const e of entries) {
      into.writeUInt32LE(e.payload.length, at);
      into.set(e.payload, at + 4);
      at += 4 + e.payload.length;
    }
  }
  assert(at === bytes, 'standby log: the record is as long as sized');
  into.writeUInt32LE(checksum(into.subarray(0, bytes)), crcAt);
}

/** A record's groups of payloads (copies), or null when its body does not parse. */
function decodeGroups(whole: Buffer, count: number): Uint8Array[][] | null {
  const groups: Uint8Array[][] = [];
  let at = headerBytes;
  for (let g = 0; g < count; g++) {
    if (at + 4 > whole.length) return null;
    const entries = whole.readUInt32LE(at);
    at += 4;
    const group: Uint8Array[] = [];
    for (let k = 0; k < entries; k++) {
      if (at + 4 > whole.length) return null;
      const length = whole.readUInt32LE(at);
      if (at + 4 + length > whole.length) return null;
      group.push(Uint8Array.prototype.slice.call(whole, at + 4, at + 4 + length));
      at += 4 + length;
    }
    groups.push(group);
  }
  return at === whole.length ? groups : null;
}
