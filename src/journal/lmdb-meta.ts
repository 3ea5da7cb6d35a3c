/**
 * Checks an LMDB file's two meta pages before lmdb-js maps it. LMDB maps the whole file and
 * trusts its meta page: a file cut short made every reader die of SIGBUS on the first page past
 * its end, and garbage over a meta page made it die of SIGSEGV, with no message either way.
 *
 * The layout, as lmdb-js 3.5 (its own LMDB fork, data version 2) writes it on 64-bit Linux, and
 * as read back from a node's journal.mdb and snapshots.mdb (mdb.c: MDB_page_header, MDB_meta):
 *
 *   page 0 at byte 0, page 1 at byte pageSize; each:
 *     0  u64 pgno (0 or 1)    8  u64 txnid    16 u16 pad    18 u16 flags (P_META 0x08)
 *     20 u32 lower/upper      24 MDB_meta:
 *     24 u32 magic 0xBEEFC0DE 28 u32 version (low 16 bits: 2)   32 u64 address   40 u64 mapsize
 *     48 MDB_db free-list (its first u32 is the page size)      96 MDB_db main
 *        (an MDB_db's root page is its u64 at 40: the free list's at 88, main's at 136)
 *     144 u64 last page used  152 u64 txnid of the commit that wrote this meta
 *
 * The page header is 24 bytes in this fork (LMDB 0.9's is 16). LMDB reads the meta with the
 * higher txnid, and the pages up to its last one. Both meta pages must be sound: this fork reads
 * page 1 without checking it, and either page damaged crashed every reader (both seen).
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { StorageError } from './journal-errors.js';
import { pagePastEnd } from './lmdb-pages.js';

const metaBytes = 160;
const metaFlag = 0x08;
const magic = 0xbeefc0de;
const dataVersion = 2;
const pageSizeMin = 256; // LMDB refuses smaller and larger pages (mdb_env_set_pagesize)
const pageSizeMax = 65_536;

/** What was found: no file, an empty one (LMDB makes a new environment of it), or sound. */
export type LmdbFileState = 'absent' | 'empty' | 'sound';

interface Meta {
  pageSizeBytes: number;
  lastPage: number;
  txnId: bigint;
  /** The free-page and main databases' root pages. */
  roots: number[];
}

/**
 * Refuses an LMDB file whose meta pages are damaged or that is shorter than its meta page says.
 * `code` is the StorageError code to refuse with; `advice` ends the message (what to do).
 * @throws StorageError `code` naming the file and what is wrong with it.
 */
export function checkLmdbFile(path: string, code: string, advice: string): LmdbFileState {
  const kind = notAFile(path);
  if (kind !== null)
    throw new StorageError(code, `${path} is ${kind}, not an LMDB file; ${advice}`);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'absent';
    return 'sound'; // unreadable: LMDB's open says why (permissions), without mapping anything
  }
  try {
    if (fstatSync(fd).size === 0) return 'empty';
    const refuse = (what: string): StorageError =>
      new StorageError(code, `${path} is damaged: ${what}; ${advice}`);
    for (let walk = 0; walk < liveWalksMax; walk++) {
      const newest = newestMeta(fd, refuse);
      const short = shortfall(fd, newest);
      if (short.missing === null) return 'sound';
      // A commit during the walk may have reused pages it read (freed two commits before):
      // what it found holds only if no writer committed meanwhile. Else walk again.
      if (newestMeta(fd, refuse).txnId === newest.txnId) {
        throw refuse(
          `it is cut short (${short.size} bytes; its last page, ${newest.lastPage}, ends at ` +
            `byte ${short.needed} with ${newest.pageSizeBytes}-byte pages, and ${short.missing})`,
        );
      }
    }
    return 'sound'; // a writer commits to it all the while: LMDB has it open, and whole
  } finally {
    closeSync(fd);
  }
}

/**
 * What `path` is when it is there but is not a regular file, else null (absent or unreadable:
 * the open below says so). A folder in a file's place was read as one: readSync threw EISDIR,
 * and every tool failed with an internal error and a stack trace (exit 70); a named pipe would
 * have held the open for ever.
 */
function notAFile(path: string): string | null {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch {
    return null;
  }
  if (stats.isFile()) return null;
  return stats.isDirectory() ? 'a folder' : 'not a regular file (a device, a pipe or a socket)';
}

/**
 * Extends a sound file that ends before its last page to that page's end, with zeros in pages
 * LMDB never reads (lmdb-pages.ts), so that later checks need no walk: every worker and snapshot
 * task checks the journal when it opens it, and the walk of a journal of many GB takes seconds
 * (32 ms for 150 MB here). Only for the process that writes the file, before it writes, the
 * data folder's lock held: a writer committing meanwhile could be cut back by the truncate. A
 * damaged file is left as it is, for the check to refuse. Returns the bytes added.
 */
export function fillShortLmdbFile(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch {
    return 0; // absent or unreadable: the check says why
  }
  try {
    if (fstatSync(fd).size === 0) return 0;
    let newest: Meta;
    try {
      newest = newestMeta(fd, (what) => new StorageError('', what));
    } catch {
      return 0; // damaged meta pages: refused by the check
    }
    const short = shortfall(fd, newest);
    if (short.size >= short.needed || short.missing !== null) return 0; // whole, or cut short
    ftruncateSync(fd, short.needed);
    return short.needed - short.size;
  } finally {
    closeSync(fd);
  }
}

/**
 * The file's size (taken after `newest` was read), the bytes its last page ends at, and, when
 * it is shorter, the first page its B-trees reach that it does not hold (null: none).
 *
 * The size is taken after the meta: LMDB writes a commit's pages before its meta page, so the
 * file then holds what this meta's commit wrote. Taken before (it was), a commit by another
 * thread or process in between named pages past the size read, and a live journal was refused
 * as "cut short" (a member's workers open it while it is written). A sound file may end before
 * its last page (pages LMDB never wrote, lmdb-pages.ts): a short one is damaged only when its
 * B-trees reach a page it does not hold.
 */
function shortfall(
  fd: number,
  newest: Meta,
): { size: number; needed: number; missing: string | null } {
  const size = fstatSync(fd).size;
  const needed = (newest.lastPage + 1) * newest.pageSizeBytes;
  if (size >= needed) return { size, needed, missing: null };
  const file = { fd, pageSizeBytes: newest.pageSizeBytes, sizeBytes: size };
  return { size, needed, missing: pagePastEnd(file, newest.roots) };
}

/**
 * Walks of a short file made while a writer commits to it: a walk of a large journal under
 * load never ends between two commits, and the writer that keeps committing has it open.
 */
const liveWalksMax = 3;

/** The meta page with the higher txnid; both must be sound. @throws a refusal if not. */
function newestMeta(fd: number, refuse: (what: string) => StorageError): Meta {
  const first = readMeta(fd, 0, 0);
  if (typeof first === 'string') throw refuse(`its first meta page ${first}`);
  const second = readMeta(fd, first.pageSizeBytes, 1);
  if (typeof second === 'string') throw refuse(`its second meta page ${second}`);
  if (second.pageSizeBytes !== first.pageSizeBytes) {
    throw refuse('its two meta pages name different page sizes');
  }
  return second.txnId > first.txnId ? second : first;
}

/** The meta page `pgno` at byte `at`, or what is wrong with it. */
function readMeta(fd: number, at: number, pgno: number): Meta | string {
  const page = Buffer.alloc(metaBytes);
  if (readSync(fd, page, 0, metaBytes, at) < metaBytes) return 'is past the end of the file';
  if (page.readUInt32LE(24) !== magic) return 'has no LMDB magic (0xBEEFC0DE)';
  if ((page.readUInt32LE(28) & 0xffff) !== dataVersion) return 'has another LMDB data version';
  if ((page.readUInt16LE(18) & metaFlag) === 0) return 'is not marked as a meta page';
  if (page.readBigUInt64LE(0) !== BigInt(pgno)) return 'has the wrong page number';
  const pageSizeBytes = page.readUInt32LE(48);
  const power = (pageSizeBytes & (pageSizeBytes - 1)) === 0;
  if (!power || pageSizeBytes < pageSizeMin || pageSizeBytes > pageSizeMax) {
    return `names an impossible page size (${pageSizeBytes})`;
  }
  const lastPage = page.readBigUInt64LE(144);
  if (lastPage < 1n || lastPage > BigInt(Number.MAX_SAFE_INTEGER) / BigInt(pageSizeBytes)) {
    return `names an impossible last page (${lastPage})`;
  }
  const roots = [page.readBigUInt64LE(88), page.readBigUInt64LE(136)].map(Number);
  return { pageSizeBytes, lastPage: Number(lastPage), txnId: page.readBigUInt64LE(152), roots };
}
