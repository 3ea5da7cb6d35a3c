/**
 * What the replication transport's datagram size (UdpTransport.setPayloadBytes) costs a log
 * entry: two transports in this process on loopback, member 1 sends `entries` appends of one
 * entry of `--bytes` (13,000: an entry at 100k/s) at `--rate` a second, paced as ever, and
 * member 2 takes them whole.
 * Per size: the thread's CPU per entry (sending: encode, cut, CRC, MAC, sendto; and taking:
 * recv, CRC, MAC, reassembly, decode), the datagrams an entry went in, and the repair (NAKs,
 * resends) of what the receive buffer lost, and the entries lost for good (one datagram each:
 * not kept for NAKs; consensus resends them). The sizes run in turn, round after round; each
 * figure is the median of the rounds.
 *
 *   node dist/bench/micro/replication/datagram-size.bench.js            5 rounds, 2,000 entries
 *   node dist/bench/micro/replication/datagram-size.bench.js --small    CI size: 1 round, 200
 *   ... --ports N   bind on ports N..N+1 (a shared machine's range), not on ones the kernel picks
 */
import { udpPayloadBytesDefault, udpPayloadBytesMax } from '../../../src/constants.js';
import type { Message } from '../../../src/replication/messages.js';
import { append, medianRow, pair } from '../../lib/udp-pair.js';
import { checkArgs, flag } from '../../lib/flags.js';
import { machine, machineLine, printTable } from '../../lib/table.js';

checkArgs({
  run: 'node dist/bench/micro/replication/datagram-size.bench.js',
  switches: { '--small': 'the CI size: 1 round of 200 entries (5 of 2,000)' },
  values: {
    '--rounds': 'rounds of each size, the median shown',
    '--entries': 'entries (appends of one entry) a round',
    '--bytes': "an entry's payload, bytes (13,000)",
    '--rate': 'entries sent a second (1,000: 100k commands/s)',
    '--ports': 'bind on ports N..N+1 (0: the kernel picks)',
  },
});
const small = process.argv.includes('--small');
const rounds = flag('--rounds', small ? 1 : 5);
const entries = flag('--entries', small ? 200 : 2_000);
const bytes = flag('--bytes', 13_000, 1, 1 << 20);
const rate = flag('--rate', 1_000, 1, 1_000_000);
const ports = flag('--ports', 0, 0, 65_530);
/** The default (any path), a 9,000-byte jumbo frame's (less IP, UDP and 40), the largest. */
const sizes = [udpPayloadBytesDefault, 8_932, udpPayloadBytesMax];

interface Figures {
  cpu_us_per_entry: number;
  datagrams_per_entry: number;
  naks: number;
  resent: number;
  lost: number;
  ms: number;
}

/** One round at chunk `size`: members 1 and 2 made, `entries` sent, all taken, closed. */
async function round(size: number, tag: number): Promise<Figures> {
  const received: Message[] = [];
  const { a, b } = await pair(received, ports);
  if (size !== udpPayloadBytesDefault) a.setPayloadBytes(size);
  const messages = Array.from({ length: entries }, (_, i) => append(1, 1, bytes, tag + i));
  const cpu = process.cpuUsage();
  const start = performance.now();
  try {
    // Sent at `rate` entries a second (a 1 ms timer, catching up on a late one) until all are,
    // then until every entry is taken, or none more for a second: a message of one datagram
    // is not kept for NAKs (consensus resends it), so a lost one is counted, not waited for.
    let sent = 0;
    let last = 0;
    let lastAt = start;
    let used = process.cpuUsage(cpu);
    while (sent < entries || (received.length < entries && performance.now() - lastAt < 1_000)) {
      const due = Math.min(entries, Math.ceil(((performance.now() - start) * rate) / 1000));
      for (; sent < due; sent++) a.send(2, messages[sent]);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (received.length > last) {
        [last, lastAt] = [received.length, performance.now()];
        used = process.cpuUsage(cpu); // to the last taken: the wait for lost ones is idle
      }
    }
    return {
      cpu_us_per_entry: Math.round(((used.user + used.system) / entries) * 10) / 10,
      datagrams_per_entry:
        Math.round(((a.stats.datagramsSent - a.stats.fragmentsResent) / entries) * 100) / 100,
      naks: b.stats.naksSent,
      resent: a.stats.fragmentsResent,
      lost: entries - received.length,
      ms: Math.round(lastAt - start),
    };
  } finally {
    a.close();
    b.close();
  }
}

async function main(): Promise<void> {
  const results = sizes.map((): Figures[] => []);
  for (let r = 0; r < rounds; r++) {
    for (let s = 0; s < sizes.length; s++) results[s].push(await round(sizes[s], r * 100_000));
  }
  const cases = sizes.map((size, s) => ({ chunk_bytes: size, ...medianRow(results[s]) }));
  const host = await machine();
  printTable(
    `datagram size (${small ? 'small' : 'default'}): median of ${rounds} round(s), ` +
      `${entries} entries of ${bytes} bytes; ${machineLine(host)}`,
    cases,
  );
  const config = { bench: 'datagram-size', size: small ? 'small' : 'default', rounds, entries };
  console.log(JSON.stringify({ ...config, bytes, cpu_steal_pct: host.cpu_steal_pct, cases }));
}

await main();
