/**
 * Replication messages as bytes. Everything a peer sends is untrusted until checked:
 * `decodeMessage` bounds-checks every length against the buffer and returns null for anything
 * malformed, so a bad datagram is dropped, never thrown.
 *
 *   0     1        2      3           4             8          16
 *   +-----+--------+------+-----------+-------------+----------+---------------------------+
 *   | kind| version| from | members u8| cluster u32 | term f64 | kind's body               |
 *   +-----+--------+------+-----------+-------------+----------+---------------------------+
 *   (members: bit id - 1 for each member of the sender's cluster file)
 *   append:       prevIndex f64, prevHash 32, commit f64, entry count u32, then each entry:
 *                 term f64, first f64, count u32, payload bytes u32, packed bytes u32,
 *                 prevHash 32, hash 32, last f64, payload packed (zero-words.ts);
 *                 then life u32 (the standby's, echoed: messages.ts Append.life)
 *   status:       ok u8, flags u8, reserved 2, life u32, match f64, durable f64, nak f64
 *                 (flags bit 0: recovering; the byte was reserved, written 0 and never read,
 *                 so members of this version built before it read every status as not
 *                 recovering, and it changes no version: their own say 0)
 *                 (life, and an append's: added within this version too. Members built before
 *                 never read the status's reserved bytes nor an append's bytes after its
 *                 entries; theirs say life 0, which names no life: lifeOf is never 0)
 *   vote-request: lastIndex f64, lastTerm f64, pre u8, reserved 3, first u32, life u32
 *   vote:         granted u8, pre u8, to u8 (the candidate it answers), reserved 1, life u32
 *                 (the candidate's life, echoed: both added within this version too. Members
 *                 built before never read past `first` and `to`; theirs say life 0, a vote of
 *                 which counts for no candidate of this build: consensus.ts receive)
 *   timeout-now:  (no body)
 */
import { clusterMembersMax, termMax } from '../constants.js';
import type { Append, Entry, Message } from './messages.js';
import { packedBytesMax, packZeroWords, unpackZeroWords } from './zero-words.js';

/**
 * 3: entry payloads packed (zero-words.ts). 4: each entry says its last sequence. 5: packing
 * predicts each word from the two events before (not XOR with one), a mask per 32 words.
 * 6: every message carries its sender's cluster id and members, a vote request its first
 * entry's id (and, since, timeout-now: a kind older members drop as garbage, so they only
 * miss the hint that speeds a handover up). 7: entries may hold events version 6 members
 * cannot apply (AllCanceled, command fingerprints in head events): a standby of 6 asserted on
 * the first CancelAll, so the two versions now ignore each other, as upgrades expect.
 * 8: a vote names the candidate it answers (messages.ts, Vote). 9: entries may hold
 * CancelOnDisconnectSet events (engine/cancel-cover.ts), which a member of 8 cannot apply.
 */
export const replicationVersion = 9;
const headerBytes = 16;
/** A status's flags byte: the sender is recovering (it lost its disk). */
const statusRecovering = 1;
const hashBytes = 32;
const entryHeaderBytes = 8 + 8 + 4 + 4 + 4 + hashBytes * 2 + 8;
/** One packed byte stands for at most 32 payload bytes (a 4-byte mask for 32 words). */
const unpackRatioMax = 32;

const enum Kind {
  Append = 1,
  Status = 2,
  VoteRequest = 3,
  Vote = 4,
  TimeoutNow = 5,
}

const kindOf: Readonly<Record<Message['kind'], Kind>> = {
  append: Kind.Append,
  status: Kind.Status,
  'vote-request': Kind.VoteRequest,
  vote: Kind.Vote,
  'timeout-now': Kind.TimeoutNow,
};

/**
 * Each payload's packed bytes, kept while its entry lives: the primary sends the same entry to
 * every standby (and again on a resend), and packing is a pass over every word.
 */
const packedOf = new WeakMap<Uint8Array, Uint8Array>();

/** Where batches are packed: grown to the largest batch's room, then reused. */
let packing = Buffer.allocUnsafeSlow(0);

function packed(payload: Uint8Array): Uint8Array {
  let bytes = packedOf.get(payload);
  if (bytes === undefined) {
    const room = packedBytesMax(payload.byteLength);
    // Not zero-filled: packZeroWords writes every byte it counts, and only those are kept.
    if (packing.byteLength < room) packing = Buffer.allocUnsafeSlow(room);
    const length = packZeroWords(payload, packing, 0);
    // A copy of the packed length only: packed in a buffer of its own, sized for the batch
    // unpacked, an entry kept ~10 times its packed bytes alive as external memory (the
    // primary's main isolate ran a GC every 0.3-0.6 s under its pressure), and each such
    // buffer was fresh memory to fault in (3.5 ms a 1 MB append of a member's catch-up).
    bytes = Buffer.allocUnsafeSlow(length);
    bytes.set(packing.subarray(0, length));
    packedOf.set(payload, bytes);
  }
  return bytes;
}

export function encodeMessage(m: Message): Buffer {
  const size = headerBytes + bodyBytes(m);
  // An append (tens of KB) writes every byte but the header's reserved ones: no zero-fill first.
  const buf =
    m.kind === 'append' ? Buffer.allocUnsafeSlow(size).fill(0, 0, headerBytes) : Buffer.alloc(size);
  buf.writeUInt8(kindOf[m.kind], 0);
  buf.writeUInt8(replicationVersion, 1);
  buf.writeUInt8(m.from, 2);
  buf.writeUInt8(m.members, 3);
  buf.writeUInt32LE(m.cluster, 4);
  buf.writeDoubleLE(m.term, 8);
  const at = headerBytes;
  if (m.kind === 'append') return writeAppend(buf, at, m);
  if (m.kind === 'status') {
    buf.writeUInt8(m.ok ? 1 : 0, at);
    buf.writeUInt8(m.recovering ? statusRecovering : 0, at + 1);
    buf.writeUInt32LE(m.life, at + 4);
    buf.writeDoubleLE(m.match, at + 8);
    buf.writeDoubleLE(m.durable, at + 16);
    buf.writeDoubleLE(m.nak, at + 24);
  } else if (m.kind === 'vote-request') {
    buf.writeDoubleLE(m.lastIndex, at);
    buf.writeDoubleLE(m.lastTerm, at + 8);
    buf.writeUInt8(m.pre ? 1 : 0, at + 16);
    buf.writeUInt32LE(m.first, at + 20);
    buf.writeUInt32LE(m.life, at + 24);
  } else if (m.kind === 'vote') {
    buf.writeUInt8(m.granted ? 1 : 0, at);
    buf.writeUInt8(m.pre ? 1 : 0, at + 1);
    buf.writeUInt8(m.to, at + 2);
    buf.writeUInt32LE(m.life, at + 4);
  }
  return buf;
}

function bodyBytes(m: Message): number {
  if (m.kind === 'status') return 32;
  if (m.kind === 'vote-request') return 28;
  if (m.kind === 'vote') return 8;
  if (m.kind === 'timeout-now') return 0;
  let bytes = 8 + hashBytes + 8 + 4 + 4; // the life after the entries
  for (const e of m.entries) bytes += entryHeaderBytes + packed(e.payload).byteLength;
  return bytes;
}

function writeAppend(buf: Buffer, start: number, m: Append): Buffer {
  let at = start;
  buf.writeDoubleLE(m.prevIndex, at);
  buf.write(m.prevHash, at + 8, 'hex');
  buf.writeDoubleLE(m.commit, at + 8 + hashBytes);
  buf.writeUInt32LE(m.entries.length, at + 16 + hashBytes);
  at += 20 + hashBytes;
  for (const e of m.entries) {
    buf.writeDoubleLE(e.term, at);
    buf.writeDoubleLE(e.first, at + 8);
    buf.writeUInt32LE(e.count, at + 16);
    buf.writeUInt32LE(e.payload.byteLength, at + 20);
    const bytes = packed(e.payload);
    buf.writeUInt32LE(bytes.byteLength, at + 24);
    buf.write(e.prevHash, at + 28, 'hex');
    buf.write(e.hash, at + 28 + hashBytes, 'hex');
    buf.writeDoubleLE(e.last, at + 28 + hashBytes * 2);
    buf.set(bytes, at + entryHeaderBytes);
    at += entryHeaderBytes + bytes.byteLength;
  }
  buf.writeUInt32LE(m.life, at);
  return buf;
}

/**
 * The version `buf` says it is of, when it has a message's header (its length and a known
 * kind), else null: a peer's message of another version is told apart from garbage.
 */
export function messageVersion(buf: Buffer): number | null {
  if (buf.byteLength < headerBytes) return null;
  const kind = buf.readUInt8(0);
  return kind >= Kind.Append && kind <= Kind.TimeoutNow ? buf.readUInt8(1) : null;
}

/** The message in `buf`, or null when it is malformed in any way. */
export function decodeMessage(buf: Buffer): Message | null {
  if (buf.byteLength < headerBytes || buf.readUInt8(1) !== replicationVersion) return null;
  const from = buf.readUInt8(2);
  const members = buf.readUInt8(3);
  const cluster = buf.readUInt32LE(4);
  const term = buf.readDoubleLE(8);
  if (from < 1 || from > clusterMembersMax || !isTerm(term)) return null;
  const at = headerBytes;
  const left = buf.byteLength - at;
  switch (buf.readUInt8(0)) {
    case Kind.Append:
      return readAppend(buf, from, { cluster, members, term });
    case Kind.Status: {
      if (left < 32) return null;
      const match = buf.readDoubleLE(at + 8);
      const durable = buf.readDoubleLE(at + 16);
      const nak = buf.readDoubleLE(at + 24);
      if (!isCount(match) || !isCount(durable) || !isCount(nak) || durable > match) return null;
      const ok = buf.readUInt8(at) === 1;
      // Other bits of the flags byte are left for later flags (read as none here).
      const recovering = (buf.readUInt8(at + 1) & statusRecovering) !== 0;
      const life = buf.readUInt32LE(at + 4);
      const fields = { ok, match, durable, nak, recovering, life };
      return { kind: 'status', cluster, members, term, from, ...fields };
    }
    case Kind.VoteRequest: {
      if (left < 24) return null;
      const lastIndex = buf.readDoubleLE(at);
      const lastTerm = buf.readDoubleLE(at + 8);
      if (!isCount(lastIndex) || !isTerm(lastTerm)) return null;
      const pre = buf.readUInt8(at + 16) === 1;
      const first = buf.readUInt32LE(at + 20);
      const life = left >= 28 ? buf.readUInt32LE(at + 24) : 0; // 0: built before lives
      const request = { lastIndex, lastTerm, first, pre, life };
      return { kind: 'vote-request', cluster, members, term, from, ...request };
    }
    case Kind.Vote: {
      if (left < 3) return null;
      const pre = buf.readUInt8(at + 1) === 1;
      const granted = buf.readUInt8(at) === 1;
      const to = buf.readUInt8(at + 2);
      if (to < 1 || to > clusterMembersMax) return null;
      const life = left >= 8 ? buf.readUInt32LE(at + 4) : 0; // 0: built before lives
      return { kind: 'vote', cluster, members, term, from, granted, pre, to, life };
    }
    case Kind.TimeoutNow:
      return { kind: 'timeout-now', cluster, members, term, from };
    default:
      return null;
  }
}

/** The header's fields every message has (but its kind and sender). */
interface Header {
  cluster: number;
  members: number;
  term: number;
}

function readAppend(buf: Buffer, from: number, header: Header): Append | null {
  let at = headerBytes;
  if (buf.byteLength < at + 20 + hashBytes) return null;
  const prevIndex = buf.readDoubleLE(at);
  const prevHash = buf.toString('hex', at + 8, at + 8 + hashBytes);
  const commit = buf.readDoubleLE(at + 8 + hashBytes);
  const count = buf.readUInt32LE(at + 16 + hashBytes);
  if (!isCount(prevIndex) || !isCount(commit)) return null;
  at += 20 + hashBytes;
  if (count > (buf.byteLength - at) / entryHeaderBytes) return null;
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    if (buf.byteLength < at + entryHeaderBytes) return null;
    const e = {
      term: buf.readDoubleLE(at),
      first: buf.readDoubleLE(at + 8),
      last: buf.readDoubleLE(at + 28 + hashBytes * 2),
      count: buf.readUInt32LE(at + 16),
      prevHash: buf.toString('hex', at + 28, at + 28 + hashBytes),
      hash: buf.toString('hex', at + 28 + hashBytes, at + 28 + hashBytes * 2),
    };
    const bytes = buf.readUInt32LE(at + 20);
    const packed = buf.readUInt32LE(at + 24);
    at += entryHeaderBytes;
    if (!isTerm(e.term) || !isCount(e.first) || at + packed > buf.byteLength) return null;
    if (!isCount(e.last) || e.last < e.first) return null;
    if (bytes > packed * unpackRatioMax) return null; // more than the packed bytes can say
    const payload = unpackZeroWords(buf, at, packed, bytes);
    if (payload === null) return null;
    entries.push({ ...e, payload });
    at += packed;
  }
  // A member built before lives sends none: 0, which names no life.
  const life = buf.byteLength >= at + 4 ? buf.readUInt32LE(at) : 0;
  return { kind: 'append', ...header, from, prevIndex, prevHash, entries, commit, life };
}

/** A non-negative safe integer. */
function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** A term: a count no higher than termMax (a higher one is refused as malformed). */
function isTerm(value: number): boolean {
  return isCount(value) && value <= termMax;
}
