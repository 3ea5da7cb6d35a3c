/**
 * Finds a page that LMDB would read but that lies past the end of its file, reading the file
 * with pread, never mapping it (a mapped page past the end kills the reader with SIGBUS).
 *
 * Why a walk and not a size check: a sound file may end before its last page. LMDB never writes
 * a page allocated and freed again in one transaction ("loose", mdb.c: mdb_page_flush skips
 * P_LOOSE), and such pages at the end of the file stay unwritten. A node killed after a
 * transaction that deleted entries (a fenced tail, removed snapshot parts) left files 1 to 4
 * pages short, all sound; a fixed allowance refused them at restart as "cut short". A file cut
 * by someone else lacks pages its B-trees reach; this walk finds one.
 *
 * Page layout (this lmdb-js fork of LMDB, 64-bit; lmdb-meta.ts draws the meta page):
 *
 *   0 u64 pgno   8 u64 txnid   16 u16 pad   18 u16 flags   20 u16 lower  22 u16 upper
 *                                                           (overflow: 20 u32 pages)
 *   24 u16 offsets of the page's nodes, (lower / 2) of them, each from byte 24
 *
 *   node:  0 u16 lo  2 u16 hi  4 u16 flags  6 u16 key size  8 key, then data
 *     branch page: the child page is lo | hi << 16 | flags << 32
 *     leaf page:   F_BIGDATA  data is the u64 first page of an overflow run
 *                  F_SUBDATA  data is an MDB_db (48 bytes) whose root is the u64 at 40:
 *                             a named database, or with F_DUPDATA a key's duplicates
 */
import { readSync } from 'node:fs';

const headerBytes = 24;
const pBranch = 0x01;
const pLeaf = 0x02;
const pLeaf2 = 0x20; // fixed-size duplicates: no nodes, nothing reached from it
const fBigData = 0x01;
const fSubData = 0x02;
const dbRootAt = 40;
const twoTo32 = 2 ** 32;

/** An empty tree's root (P_INVALID, all ones; read as a double it is 2^64). */
const noRoot = 2 ** 64;

/** The file to walk: its descriptor, page size and length in bytes. */
export interface PagedFile {
  fd: number;
  pageSizeBytes: number;
  sizeBytes: number;
}

/**
 * Walks the trees from `roots` (the free-page and main databases' roots of the newest meta)
 * and names the first page reached that the file does not hold whole, or returns null.
 */
export function pagePastEnd(file: PagedFile, roots: readonly number[]): string | null {
  const filePages = Math.floor(file.sizeBytes / file.pageSizeBytes);
  const seen = new Uint8Array(filePages);
  const page = Buffer.alloc(file.pageSizeBytes);
  const stack = [...roots];
  while (stack.length > 0) {
    const pgno = stack.pop() as number;
    if (pgno === noRoot) continue;
    if (pgno >= filePages) return `page ${pgno}, which its B-tree reaches, is past its end`;
    if (seen[pgno] === 1) continue; // a damaged tree may point twice at one page
    seen[pgno] = 1;
    readSync(file.fd, page, 0, file.pageSizeBytes, pgno * file.pageSizeBytes);
    const missing = pushChildren(file, page, stack, filePages);
    if (missing !== null) return missing;
  }
  return null;
}

/** Pushes the pages a branch or leaf page reaches; names an overflow run past the end. */
function pushChildren(
  file: PagedFile,
  page: Buffer,
  stack: number[],
  filePages: number,
): string | null {
  const flags = page.readUInt16LE(18);
  const branch = (flags & pBranch) !== 0;
  if ((!branch && (flags & pLeaf) === 0) || (flags & pLeaf2) !== 0) return null;
  const nodes = Math.min(page.readUInt16LE(20) >>> 1, (page.length - headerBytes) >>> 1);
  for (let i = 0; i < nodes; i++) {
    const node = page.readUInt16LE(headerBytes + 2 * i) + headerBytes;
    if (node + 8 > page.length) continue; // damaged: LMDB reports it, the walk goes on
    const nodeFlags = page.readUInt16LE(node + 4);
    if (branch) {
      const low = page.readUInt16LE(node) + page.readUInt16LE(node + 2) * 65_536;
      stack.push(low + nodeFlags * twoTo32);
      continue;
    }
    const data = node + 8 + page.readUInt16LE(node + 6);
    if ((nodeFlags & fBigData) !== 0 && data + 8 <= page.length) {
      const missing = overflowPastEnd(file, readU64(page, data), filePages);
      if (missing !== null) return missing;
    } else if ((nodeFlags & fSubData) !== 0 && data + dbRootAt + 8 <= page.length) {
      stack.push(readU64(page, data + dbRootAt));
    }
  }
  return null;
}

/** Names an overflow run (its page count is in its first page's header) not held whole. */
function overflowPastEnd(file: PagedFile, first: number, filePages: number): string | null {
  const reached = 'which its B-tree reaches';
  if (first >= filePages) return `overflow page ${first}, ${reached}, is past its end`;
  const header = Buffer.alloc(headerBytes);
  readSync(file.fd, header, 0, headerBytes, first * file.pageSizeBytes);
  const pages = header.readUInt32LE(20);
  if (first + pages <= filePages) return null;
  return `overflow pages ${first} to ${first + pages - 1}, ${reached}, run past its end`;
}

function readU64(buffer: Buffer, at: number): number {
  return buffer.readUInt32LE(at) + buffer.readUInt32LE(at + 4) * twoTo32;
}
