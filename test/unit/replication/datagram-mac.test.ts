/**
 * The datagram MAC (src/replication/datagram-mac.ts) is HMAC-SHA256 as RFC 2104 and node's
 * createHmac make it, under the key derived from the secret, over the datagram with its
 * checksum and MAC fields taken as zero, cut to 16 bytes; and any one bit changed in what it
 * covers (the header after the MAC included: the sender's start), the MAC included, fails it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { datagramBytesMax, datagramHeaderBytes } from '../../../src/replication/datagram.js';
import { datagramMac, macFieldsEnd } from '../../../src/replication/datagram.js';
import { DatagramMac, macBytes, secretBytes } from '../../../src/replication/datagram-mac.js';

const secret = randomBytes(secretBytes);
/** The layout's own: every header field but the checksum and the MAC covered (the start too). */
const mac = datagramMac(secret);
const macAt = 16;

/** What the MAC of `datagram` must be, from node's createHmac. */
function expected(datagram: Buffer): Buffer {
  const key = createHmac('sha256', secret)
    .update('bourse replication datagrams, transport version 3')
    .digest();
  const zeroed = Buffer.from(datagram);
  zeroed.fill(0, 12, macFieldsEnd);
  return createHmac('sha256', key).update(zeroed).digest().subarray(0, macBytes);
}

test('the MAC is HMAC-SHA256 under the derived key, cut to 16 bytes, at every length', () => {
  for (let n = datagramHeaderBytes; n <= datagramBytesMax; n += 37) {
    const datagram = randomBytes(n);
    mac.sign(datagram, macAt);
    assert.deepEqual(datagram.subarray(macAt, macAt + macBytes), expected(datagram), `n ${n}`);
    assert.equal(mac.verify(datagram, macAt), true);
  }
  const largest = randomBytes(datagramBytesMax);
  mac.sign(largest, macAt);
  assert.equal(mac.verify(largest, macAt), true);
  assert.equal(mac.verify(Buffer.concat([largest, Buffer.alloc(1)]), macAt), false, 'too long');
});

test('any bit changed outside the checksum fails the MAC; the checksum is not covered', () => {
  const datagram = randomBytes(200);
  mac.sign(datagram, macAt);
  for (let bit = 0; bit < datagram.byteLength * 8; bit++) {
    const flipped = Buffer.from(datagram);
    flipped[bit >> 3] ^= 1 << (bit & 7);
    const inChecksum = bit >= 12 * 8 && bit < 16 * 8;
    assert.equal(mac.verify(flipped, macAt), inChecksum, `bit ${bit}`);
  }
  const other = new DatagramMac(randomBytes(secretBytes), datagramBytesMax, 12, 32);
  assert.equal(other.verify(datagram, macAt), false, 'another secret');
});
