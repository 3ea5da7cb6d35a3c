/**
 * A replication datagram's header, its checksum and its MAC (the transport's layout,
 * udp-transport.ts).
 *
 *   0      1        2      3      4            8       10      12       16       32      40
 *   +------+--------+------+------+------------+-------+-------+--------+--------+-------+-----+
 *   | 0xB5 | version| type | from | message id | index | count | CRC-32 | MAC    | start | ... |
 *   +------+--------+------+------+------------+-------+-------+--------+--------+-------+-----+
 *   MAC (transport version 3 on): 16 bytes of HMAC-SHA256 under the cluster's secret, of every
 *   byte of the datagram, the CRC-32 and MAC fields taken as zero (datagram-mac.ts).
 *   start (version 4 on): the sender's start, a float64 that only grows across its runs; with
 *   the message id, it lets a receiver take each message once (replay-window.ts).
 *   CRC-32: of every byte of the datagram (the MAC included), its own four taken as zero
 *   (version 2 on; version 1 left them zero and checked nothing).
 *
 * Why a checksum of our own: UDP's is 16 bits, optional on IPv4, and misses some double-bit
 * errors. A datagram's header and its message's header (term, commit, acks, NAK ranges, votes)
 * were trusted as they came: one bit flipped in the term of 5 of a primary's datagrams (0.2%
 * for 15 s, through a corrupting proxy) deposed it twice, and a flipped durable position or
 * commit could have counted a false majority. CRC-32 finds every error of 1 to 3 bits and
 * every burst of up to 32 bits in a datagram of the default size (the IEEE polynomial's Hamming
 * distance is 4 below 91,607 bits; such a datagram is below 11,400); in a larger one (a member's
 * option, up to 65,507 bytes) every error of 1 or 2 bits and every burst of up to 32, and damage
 * it misses still fails the MAC (refused as forged, never taken). node's zlib.crc32 (native,
 * node 20.15 on) cost 0.36-0.43 µs a 1,400-byte datagram here (0.1 µs an 84-byte heartbeat),
 * a JS CRC-32C (slice-by-8) 0.73-1.1 µs, a word-wise FNV-1a hash 0.42-0.44 µs, and it finds
 * less: bench/micro/replication/datagram-checksum.bench.ts. Paid once a datagram sent (an
 * append's datagrams are sealed once for every standby) and once a datagram received.
 *
 * Why both, when the MAC finds damage too: the CRC-32 sits where version 2 has it, so that a
 * member of version 2 still finds a version-3 datagram intact and says "member 2 speaks
 * transport version 3" (a rolling upgrade), rather than counting it as damaged; and damage
 * (counted, repaired as loss) stays apart from forgery (refused, told). It costs a fifth of
 * the MAC (bench/micro/replication/datagram-mac.bench.ts).
 */
import { crc32 } from 'node:zlib';
import { udpPayloadBytesDefault, udpPayloadBytesMax } from '../constants.js';
import { assert } from '../stdx/assert.js';
import { DatagramMac } from './datagram-mac.js';

export const datagramMagic = 0xb5;
/**
 * 2: every datagram carries a CRC-32 of its bytes (`checksumAt`). 3: and a MAC under the
 * cluster's secret (`macAt`). 4: and its sender's start (`startAt`); the chunk starts at 40.
 * 5: a member remembers the others' starts across its restarts, and asks a member whose run
 * it cannot take to renew it (type Renew, run-renewal.ts), which a member of 4 would ignore.
 */
export const transportVersion = 5;
/** The last version with no checksum (the field was zero): still told apart, see check(). */
const uncheckedVersion = 1;
export const datagramHeaderBytes = 40;
/** What every version from 2 on has alike: its version byte, and its checksum at 12. */
export const checkedHeaderBytes = 16;
/** Versions from 2 on keep the checksum here, so that one version can check another's. */
const checksumAt = 12;
const macAt = 16;
/** The fields the MAC is computed without: the checksum and the MAC itself. */
export const macFieldsEnd = 32;
const startAt = 32;
/**
 * The largest datagram a member takes, IPv4's largest UDP payload (65,535 less the IP and UDP
 * headers): a fragment of udpPayloadBytesMax, the largest chunk a member may send. Every member
 * takes up to it, whatever size it sends itself; larger ones are not.
 */
export const datagramBytesMax = 65_507;
/** A fragment of the default chunk (udpPayloadBytesDefault): the unit of the pacing. */
export const datagramBytesDefault = datagramHeaderBytes + udpPayloadBytesDefault;
assert(datagramHeaderBytes + udpPayloadBytesMax === datagramBytesMax, 'datagram: the max fills');

/** The MAC of this layout under `secret` (the cluster's, secretBytes). */
export function datagramMac(secret: Uint8Array): DatagramMac {
  return new DatagramMac(secret, datagramBytesMax, checksumAt, macFieldsEnd);
}

export const enum DatagramType {
  Fragment = 1,
  Nak = 2,
  /** Begin a new run above a start named (run-renewal.ts). */
  Renew = 3,
}

/** Writes a header of the sender's `start`; the checksum and MAC stay zero until seal(). */
export function writeHeader(
  datagram: Buffer,
  type: DatagramType,
  from: number,
  id: number,
  index: number,
  count: number,
  start: number,
): void {
  datagram.writeUInt8(datagramMagic, 0);
  datagram.writeUInt8(transportVersion, 1);
  datagram.writeUInt8(type, 2);
  datagram.writeUInt8(from, 3);
  datagram.writeUInt32LE(id, 4);
  datagram.writeUInt16LE(index, 8);
  datagram.writeUInt16LE(count, 10);
  datagram.fill(0, checksumAt, macFieldsEnd);
  datagram.writeDoubleLE(start, startAt);
}

/** The sender's start a datagram (intact, of this version) carries. */
export function startOf(datagram: Buffer): number {
  return datagram.readDoubleLE(startAt);
}

/** Sets the MAC, then the checksum, of a datagram whose every other byte is written. */
export function seal(datagram: Buffer, mac: DatagramMac): void {
  datagram.fill(0, checksumAt, macFieldsEnd);
  mac.sign(datagram, macAt);
  datagram.writeUInt32LE(crc32(datagram), checksumAt);
}

export const enum Check {
  Intact = 0,
  /** The checksum does not match: a damaged datagram (or forged), dropped unread. */
  Corrupt = 1,
  /** A version-1 member's (no checksum): its version byte is all that may be read. */
  Unchecked = 2,
}

/**
 * Whether `datagram` (of at least checkedHeaderBytes) is as its sender sealed it. Nothing in
 * it but its length is read before this. The checksum field is zeroed to compute the sum (the
 * datagram is the receiver's own buffer; only its chunk is kept). A version-1 datagram has a
 * zero field and version byte 1; a damaged version-2 one looks so only when two bits of its
 * version and all 32 of its checksum are hit, and even then one datagram concludes nothing
 * (OtherVersions wants several).
 */
export function check(datagram: Buffer): Check {
  const said = datagram.readUInt32LE(checksumAt);
  if (said === 0 && datagram.readUInt8(1) === uncheckedVersion) return Check.Unchecked;
  datagram.writeUInt32LE(0, checksumAt);
  return crc32(datagram) === said ? Check.Intact : Check.Corrupt;
}

/**
 * Whether the MAC of `datagram` (intact, of this version) is the cluster secret's: made by a
 * member (or replayed: see docs/ROLES.md). Checked once its source is the member's.
 */
export function authentic(datagram: Buffer, mac: DatagramMac): boolean {
  const n = datagram.byteLength;
  return n >= datagramHeaderBytes && n <= datagramBytesMax && mac.verify(datagram, macAt);
}

/**
 * Message `id` (`bytes`) of member `from`'s run `start` as its sealed datagrams, each a chunk
 * of at most `payloadBytes` (the last the rest). Allocates them.
 */
export function fragments(
  bytes: Buffer,
  id: number,
  from: number,
  start: number,
  payloadBytes: number,
  mac: DatagramMac,
): Buffer[] {
  const n = Math.ceil(bytes.byteLength / payloadBytes);
  assert(n >= 1 && n <= 0xffff, 'datagram: a message of 1 to 65,535 fragments');
  const datagrams: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * payloadBytes;
    const end = Math.min(at + payloadBytes, bytes.byteLength);
    // allocUnsafe takes small buffers from node's pool (Buffer.alloc made an ArrayBuffer per
    // header); every byte of it is written below.
    const datagram = Buffer.allocUnsafe(datagramHeaderBytes + end - at);
    writeHeader(datagram, DatagramType.Fragment, from, id, i, n, start);
    bytes.copy(datagram, datagramHeaderBytes, at, end);
    // Once: the datagram goes to every peer sharing it, and again to answer NAKs. (Cut and
    // signed anew for each NAK, resends cost ~4 µs each; a receiver NAKing a burst of loss
    // made a test's sender resend 140,000 of them.)
    seal(datagram, mac);
    datagrams.push(datagram);
  }
  return datagrams;
}
