/**
 * The MAC of a replication datagram: HMAC-SHA256 under a key drawn from the cluster's secret,
 * cut to its first 16 bytes (datagram.ts places it). Only a holder of the secret can make a
 * datagram that members take: a forged term, vote, ack or append without it is refused.
 *
 *   key   = HMAC-SHA256(secret, "bourse replication datagrams, transport version 3")
 *   MAC   = HMAC-SHA256(key, datagram with its checksum and MAC fields zero)[0..16)
 *         = SHA-256((key ^ opad) || SHA-256((key ^ ipad) || datagram))   (RFC 2104)
 *
 * Why HMAC-SHA256 computed here, from two one-shot hashes: node's crypto.createHmac builds an
 * Hmac object (and its native handle) and a Buffer per call, and `hash()` with a latin1 string
 * out builds a short string only. Measured on the 2-core test machine, three runs at load
 * averages of 10 to 19 (bench/micro/replication/datagram-mac.bench.ts), 84 / 1,416-byte
 * datagrams: this way 0.6-1.3 / 1.3-2.2 µs; the same with Buffers out 1.4-1.9 / 2.1-3.1 µs;
 * createHmac 1.5-2.5 / 2.3-3.9 µs. Keyed BLAKE2 is not in node:crypto: BLAKE2b with the key as
 * a prefix block took 0.9-1.4 / 1.8-3.8 µs, HMAC-BLAKE2b 2.2-2.9 / 2.9-5.3 µs, no gain worth
 * leaving the standard construction for (this CPU hashes SHA-256 in hardware).
 * 128 bits of MAC: a forger's chance is 2^-128 a datagram.
 *
 * The key is derived, not the secret itself, so that another use of the same secret, or a
 * later transport version, gets another key. Buffers are allocated once, here; each call
 * builds two 32-character strings (node:crypto has no way to hash into a given buffer).
 */
import { createHmac, hash } from 'node:crypto';
import { replicationSecretBytes } from '../constants.js';
import { assert } from '../stdx/assert.js';

/** Bytes of the secret (and of the key derived from it). */
export const secretBytes = replicationSecretBytes;
/** Bytes of the MAC a datagram carries. */
export const macBytes = 16;
/** SHA-256's block. */
const blockBytes = 64;
const keyLabel = 'bourse replication datagrams, transport version 3';
/** Views of `inner` kept, by length: the default datagram's (1,424) and SHA-256's block. */
const viewsCachedMax = 2048 + blockBytes;

export class DatagramMac {
  /** (key ^ ipad), then room for the largest datagram. */
  private readonly inner: Buffer;
  /** (key ^ opad), then the inner digest. */
  private readonly outer = Buffer.alloc(blockBytes + 32);
  /**
   * `inner`'s first n bytes by n up to viewsCachedMax, made once each (a view per datagram was
   * an object each); a longer datagram's is made per call (65,000 cached views of larger
   * datagrams' odd lengths would hold megabytes, to save an object beside hashing kilobytes).
   */
  private readonly views: (Buffer | undefined)[];

  /**
   * `secret`: the cluster's (secretBytes). `datagramBytesMax`: the largest datagram to sign or
   * check; `zeroFrom` to `zeroTo`: the fields taken as zero (the checksum and the MAC).
   */
  constructor(
    secret: Uint8Array,
    readonly datagramBytesMax: number,
    private readonly zeroFrom: number,
    private readonly zeroTo: number,
  ) {
    assert(secret.byteLength === secretBytes, 'datagram-mac: a secret of secretBytes');
    assert(zeroTo - zeroFrom >= macBytes, 'datagram-mac: the MAC is within the zeroed fields');
    const key = createHmac('sha256', secret).update(keyLabel).digest();
    this.inner = Buffer.alloc(blockBytes + datagramBytesMax);
    for (let i = 0; i < blockBytes; i++) {
      const k = i < key.byteLength ? key[i] : 0;
      this.inner[i] = k ^ 0x36;
      this.outer[i] = k ^ 0x5c;
    }
    this.views = new Array<Buffer | undefined>(viewsCachedMax + 1);
  }

  /** Writes the MAC of `datagram` at `at` (within the fields taken as zero). */
  sign(datagram: Buffer, at: number): void {
    assert(at >= this.zeroFrom && at + macBytes <= this.zeroTo, 'datagram-mac: MAC field');
    const mac = this.compute(datagram);
    datagram.write(mac, at, macBytes, 'latin1');
  }

  /** Whether the MAC at `at` is the one the secret gives `datagram` (in constant time). */
  verify(datagram: Buffer, at: number): boolean {
    assert(at >= this.zeroFrom && at + macBytes <= this.zeroTo, 'datagram-mac: MAC field');
    if (datagram.byteLength > this.datagramBytesMax) return false;
    const mac = this.compute(datagram);
    let differ = 0;
    for (let i = 0; i < macBytes; i++) differ |= mac.charCodeAt(i) ^ datagram[at + i];
    return differ === 0;
  }

  /** The full HMAC of `datagram` as 32 latin1 characters (one per byte). */
  private compute(datagram: Buffer): string {
    const n = datagram.byteLength;
    assert(n <= this.datagramBytesMax, 'datagram-mac: datagram within the bound');
    assert(n >= this.zeroTo, 'datagram-mac: a whole header');
    datagram.copy(this.inner, blockBytes);
    this.inner.fill(0, blockBytes + this.zeroFrom, blockBytes + this.zeroTo);
    // 'binary' is node's other name for latin1: one character per byte.
    const digest = hash('sha256', this.view(blockBytes + n), 'binary');
    this.outer.write(digest, blockBytes, 32, 'latin1');
    return hash('sha256', this.outer, 'binary');
  }

  private view(length: number): Buffer {
    if (length > viewsCachedMax) return this.inner.subarray(0, length);
    let v = this.views[length];
    if (v === undefined) this.views[length] = v = this.inner.subarray(0, length);
    return v;
  }
}
