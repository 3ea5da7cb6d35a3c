/**
 * What a replication datagram's MAC costs (src/replication/datagram-mac.ts), side by side with
 * the ways node:crypto offers to make one, and with the CRC-32 every datagram also carries:
 *
 *   DatagramMac         HMAC-SHA256 from two one-shot crypto.hash() calls on buffers made once,
 *                       latin1 strings out (what the transport uses)
 *   hash(), Buffers out the same with Buffers out (a Buffer per hash)
 *   createHmac          crypto.createHmac per datagram (an Hmac object and a Buffer each)
 *   BLAKE2b, key prefix blake2b512 over a key block then the datagram (not keyed BLAKE2, which
 *                       node:crypto lacks; secure as BLAKE2 has no length extension)
 *   createHmac BLAKE2b  HMAC-BLAKE2b512
 *   zlib.crc32          the checksum alone
 *
 * Two sizes: an 84-byte heartbeat and a datagram of the default size (udpPayloadBytesDefault).
 * Each MAC is checked against createHmac's once before timing. The machine is shared and noisy:
 * the cases run in turn, round after round, and each case's best round is shown.
 *
 *   node dist/bench/micro/replication/datagram-mac.bench.js           200k datagrams a round
 *   node dist/bench/micro/replication/datagram-mac.bench.js --small   CI size: 10k
 */
import { createHmac, hash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  datagramBytesDefault,
  datagramBytesMax,
  macFieldsEnd,
} from '../../../src/replication/datagram.js';
import { DatagramMac, macBytes, secretBytes } from '../../../src/replication/datagram-mac.js';
import { flag } from '../../lib/flags.js';
import { machine, machineLine, printTable } from '../../lib/table.js';

const small = process.argv.includes('--small');
const datagrams = flag('--datagrams', small ? 10_000 : 200_000);
const rounds = flag('--rounds', small ? 5 : 20);
const sizes = [84, datagramBytesDefault];
const macAt = 16;

const secret = randomBytes(secretBytes);
const key = createHmac('sha256', secret)
  .update('bourse replication datagrams, transport version 3')
  .digest();
const mac = new DatagramMac(secret, datagramBytesMax, 12, macFieldsEnd);

/** HMAC-SHA256 from hash() with Buffers out, on buffers made once. */
const inner = Buffer.alloc(64 + datagramBytesMax);
const outer = Buffer.alloc(96);
for (let i = 0; i < 64; i++) {
  inner[i] = (key[i] ?? 0) ^ 0x36;
  outer[i] = (key[i] ?? 0) ^ 0x5c;
}
function hashBuffers(d: Buffer): number {
  d.copy(inner, 64);
  inner.fill(0, 64 + 12, 64 + macFieldsEnd);
  hash('sha256', inner.subarray(0, 64 + d.byteLength), 'buffer').copy(outer, 64);
  return hash('sha256', outer, 'buffer')[0];
}

function createHmacCase(d: Buffer): number {
  return createHmac('sha256', key).update(d).digest()[0];
}

const blakeBlock = Buffer.alloc(128 + datagramBytesMax);
key.copy(blakeBlock);
function blakePrefix(d: Buffer): number {
  d.copy(blakeBlock, 128);
  return hash('blake2b512', blakeBlock.subarray(0, 128 + d.byteLength), 'buffer')[0];
}

function hmacBlake(d: Buffer): number {
  return createHmac('blake2b512', key).update(d).digest()[0];
}

function datagramMac(d: Buffer): number {
  mac.sign(d, macAt);
  return d[macAt];
}

const cases: [string, (d: Buffer) => number][] = [
  ['DatagramMac (hash(), strings out)', datagramMac],
  ['hash(), Buffers out', hashBuffers],
  ['createHmac per datagram', createHmacCase],
  ['BLAKE2b, key prefix', blakePrefix],
  ['createHmac BLAKE2b', hmacBlake],
  ['zlib.crc32 (the checksum)', (d) => crc32(d) & 0xff],
];

/** DatagramMac's MAC is createHmac's (over the datagram with its two fields zero), cut. */
function checkOnce(): void {
  const d = randomBytes(datagramBytesMax);
  mac.sign(d, macAt);
  const zeroed = Buffer.from(d).fill(0, 12, macFieldsEnd);
  const want = createHmac('sha256', key).update(zeroed).digest().subarray(0, macBytes);
  if (!want.equals(d.subarray(macAt, macAt + macBytes))) throw new Error('MAC is not HMAC');
}

/** Best ns per datagram of each case at `size`, and a result hash. */
function measure(size: number): { best: number[]; hash: number } {
  const d = randomBytes(size);
  const best = cases.map(() => Infinity);
  let sum = 0;
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < cases.length; c++) {
      const f = cases[c][1];
      const start = process.hrtime.bigint();
      for (let i = 0; i < datagrams; i++) {
        d[40 + (i % (size - 40))] ^= 1; // each datagram other than the last (past the MAC)
        sum = (sum + f(d)) >>> 0;
      }
      best[c] = Math.min(best[c], Number(process.hrtime.bigint() - start) / datagrams);
    }
  }
  return { best, hash: sum };
}

async function main(): Promise<void> {
  checkOnce();
  const results = sizes.map(measure);
  const host = await machine();
  printTable(
    `datagram MAC (${small ? 'small' : 'default'}): ${datagrams} datagrams a round, best of ` +
      `${rounds} rounds, cases in turn; ${machineLine(host)}`,
    cases.map(([name], c) => ({
      case: name,
      [`ns, ${sizes[0]} B`]: Math.round(results[0].best[c]),
      [`ns, ${sizes[1]} B`]: Math.round(results[1].best[c]),
    })),
  );
  const figures = cases.map(([name], c) => ({
    name,
    ns_small: Math.round(results[0].best[c]),
    ns_large: Math.round(results[1].best[c]),
  }));
  const resultHash = (results[0].hash ^ results[1].hash) >>> 0;
  const config = { bench: 'datagram-mac', datagrams, rounds, sizes, result_hash: resultHash };
  const steal = host.cpu_steal_pct;
  console.log(JSON.stringify({ ...config, cpu_steal_pct: steal, cases: figures, machine: host }));
}

await main();
