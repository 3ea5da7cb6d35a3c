/**
 * What a replication datagram's checksum costs (src/replication/datagram.ts), side by side
 * with what it could have been: node's zlib.crc32 (native, node 20.15 on), a JS CRC-32C
 * (slice-by-8 tables) and a word-wise FNV-1a hash (as fast, but it misses errors a CRC finds:
 * a flip of bit 31 of two words at the same stride cancels out). One datagram is the
 * transport's largest: a 16-byte header and a chunk of udpPayloadBytesDefault.
 *
 *   node dist/bench/micro/replication/datagram-checksum.bench.js           2M datagrams a case
 *   node dist/bench/micro/replication/datagram-checksum.bench.js --small   CI size: 100k
 *
 * The machine is shared and noisy: each case runs `rounds` times, the best round is shown.
 */
import { crc32 } from 'node:zlib';
import { udpPayloadBytesDefault } from '../../../src/constants.js';
import { datagramHeaderBytes } from '../../../src/replication/datagram.js';
import { checkArgs, flag } from '../../lib/flags.js';
import { machine, machineLine, printTable } from '../../lib/table.js';

checkArgs({
  run: 'node dist/bench/micro/replication/datagram-checksum.bench.js',
  switches: { '--small': 'the CI size: 100k datagrams a case (2M)' },
  values: { '--datagrams': 'datagrams a round', '--rounds': 'rounds a case, the best shown (7)' },
});
const small = process.argv.includes('--small');
const datagrams = flag('--datagrams', small ? 100_000 : 2_000_000);
const rounds = flag('--rounds', 7);
const datagramBytes = datagramHeaderBytes + udpPayloadBytesDefault;

/** CRC-32C (Castagnoli) tables for slice-by-8: 8 × 256 words. */
const tables = new Int32Array(256 * 8);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  tables[i] = c;
}
for (let t = 1; t < 8; t++) {
  for (let i = 0; i < 256; i++) {
    const prev = tables[(t - 1) * 256 + i];
    tables[t * 256 + i] = (prev >>> 8) ^ tables[prev & 0xff];
  }
}

function crc32c(b: Uint8Array): number {
  const t = tables;
  let c = -1;
  let i = 0;
  for (; i + 8 <= b.length; i += 8) {
    const a = c ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));
    c =
      t[7 * 256 + (a & 0xff)] ^
      t[6 * 256 + ((a >>> 8) & 0xff)] ^
      t[5 * 256 + ((a >>> 16) & 0xff)] ^
      t[4 * 256 + (a >>> 24)] ^
      t[3 * 256 + b[i + 4]] ^
      t[2 * 256 + b[i + 5]] ^
      t[256 + b[i + 6]] ^
      t[b[i + 7]];
  }
  for (; i < b.length; i++) c = (c >>> 8) ^ t[(c ^ b[i]) & 0xff];
  return ~c >>> 0;
}

function fnvWords(b: Uint8Array): number {
  const words = new Int32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return h >>> 0;
}

interface Case {
  name: string;
  ns_per_datagram: number;
  gb_per_s: number;
  hash: number;
}

function run(name: string, sum: (b: Uint8Array) => number, datagram: Buffer): Case {
  let best = Infinity;
  let hash = 0;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < datagrams; i++) {
      datagram[i % datagramBytes] ^= 1; // each datagram other than the last
      hash = (hash + sum(datagram)) >>> 0;
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / datagrams);
  }
  const ns = Math.round(best);
  return { name, ns_per_datagram: ns, gb_per_s: +(datagramBytes / best).toFixed(2), hash };
}

async function main(): Promise<void> {
  const datagram = Buffer.alloc(datagramBytes);
  for (let i = 0; i < datagramBytes; i++) datagram[i] = (i * 2654435761) >>> 24;
  const cases = [
    run('zlib.crc32 (native CRC-32)', (b) => crc32(b), datagram),
    run('JS CRC-32C slice-by-8', crc32c, datagram),
    run('JS FNV-1a by word (weak)', fnvWords, datagram),
  ];
  const host = await machine();
  printTable(
    `datagram checksum (${small ? 'small' : 'default'}): ${datagrams} datagrams of ` +
      `${datagramBytes} bytes a round, best of ${rounds}; ${machineLine(host)}`,
    cases.map((c) => ({
      case: c.name,
      'ns/datagram': c.ns_per_datagram,
      'GB/s': c.gb_per_s,
      'result hash': c.hash.toString(16),
    })),
  );
  const figures = {
    bench: 'datagram-checksum',
    size: small ? 'small' : 'default',
    cpu_steal_pct: host.cpu_steal_pct, // as every bench's JSON line (README)
    datagrams,
    datagramBytes,
    rounds,
    cases,
  };
  console.log(JSON.stringify({ ...figures, machine: host }));
}

await main();
