/**
 * What the replication transport's repair sends when the network is in trouble
 * (src/replication/nak-pacing.ts): NAKs and resends, counted (transport-stats.ts), over two
 * transports on loopback with the transport's own seeded fault injection.
 *
 *   silent sender   member 3 (a raw socket) sends `silent` messages of 3 fragments, each but
 *                   the first, and nothing more: member 2's NAKs until it drops them all
 *   resends lost    member 1 sends 20 messages of 15 fragments at 20% loss, then its link to
 *                   member 2 is cut one way: member 2's NAKs arrive, the resends do not
 *   loss 5%, 10%    `messages` messages of 15 fragments at that loss each way (NAKs lost too),
 *                   until every one is whole: what the repair cost, and how long it took
 *
 *   node dist/bench/micro/replication/nak-repair.bench.js            3 rounds, 60 messages
 *   node dist/bench/micro/replication/nak-repair.bench.js --small    CI size: 1 round, 20
 *   ... --ports N   bind on ports N..N+2 (a shared machine's range), not on ones the kernel picks
 *
 * Counts depend on timing (a loaded machine NAKs later, and less): each figure is the median
 * of the rounds, and old and new builds are compared by alternated runs.
 */
import { randomBytes } from 'node:crypto';
import { udpPayloadBytesDefault } from '../../../src/constants.js';
import type { Message } from '../../../src/replication/messages.js';
import { noFaultPlan, UdpTransport } from '../../../src/replication/udp-transport.js';
import {
  append,
  medianRow,
  pair,
  rawSocket,
  sealedFragments,
  secret,
  sendRaw,
} from '../../lib/udp-pair.js';
import { checkArgs, flag } from '../../lib/flags.js';
import { machine, machineLine, printTable } from '../../lib/table.js';

checkArgs({
  run: 'node dist/bench/micro/replication/nak-repair.bench.js',
  switches: { '--small': 'the CI size: 1 round of 20 messages (3 of 60)' },
  values: {
    '--rounds': 'rounds of each scenario, the median shown',
    '--messages': 'messages of the loss scenarios',
    '--silent': 'incomplete messages of the silent sender (200)',
    '--ports': 'bind on ports N..N+2 (0: the kernel picks)',
  },
});
const small = process.argv.includes('--small');
const rounds = flag('--rounds', small ? 1 : 3);
const messages = flag('--messages', small ? 20 : 60);
const silent = flag('--silent', 200, 1, 250);
const ports = flag('--ports', 0, 0, 65_530);

interface Figures {
  naks: number;
  nak_windows_full: number;
  resent: number;
  resends_coalesced: number;
  /** Datagrams the sender sent (originals and resends), and the receiver's NAKs. */
  datagrams: number;
  ms: number;
}

/** Members 1 and 2 on loopback; `received` gets member 2's messages. */
async function members(received: Message[]): Promise<[UdpTransport, UdpTransport]> {
  const { a, b } = await pair(received, ports);
  return [a, b];
}

async function waitFor(done: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('nak-repair: a scenario did not end');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function figures(a: UdpTransport | null, b: UdpTransport, startedAt: number): Figures {
  return {
    naks: b.stats.naksSent,
    nak_windows_full: b.stats.nakWindowsFull ?? 0, // absent before nak-pacing
    resent: a?.stats.fragmentsResent ?? 0,
    resends_coalesced: a?.stats.resendsCoalesced ?? 0,
    datagrams: (a?.stats.datagramsSent ?? 0) + b.stats.datagramsSent,
    ms: Math.round(performance.now() - startedAt),
  };
}

async function silentSender(): Promise<Figures> {
  const b = new UdpTransport(2, [], () => {}, secret);
  const raw = await rawSocket('127.0.0.1', ports && ports + 2);
  try {
    const port = await b.bind('127.0.0.1', ports && ports + 1);
    b.setPeers([{ id: 3, host: '127.0.0.1', port: raw.address().port }]);
    const startedAt = performance.now();
    const start = Date.now();
    for (let id = 1; id <= silent; id++) {
      const fragments = sealedFragments(3, id, start, randomBytes(3 * udpPayloadBytesDefault));
      for (const f of fragments.slice(1)) await sendRaw(raw, f, port);
    }
    await waitFor(() => b.stats.messagesDropped >= silent);
    return figures(null, b, startedAt);
  } finally {
    raw.close();
    b.close();
  }
}

async function resendsLost(seed: number): Promise<Figures> {
  const received: Message[] = [];
  const [a, b] = await members(received);
  try {
    a.faults = { ...noFaultPlan(seed), drop: 0.2 };
    const startedAt = performance.now();
    for (let i = 0; i < 20; i++) a.send(2, append(1, 4, 5_000, i));
    await new Promise((resolve) => setImmediate(resolve)); // sent: the first pump
    a.faults.blockTo.add(2);
    await waitFor(() => received.length + b.stats.messagesDropped >= 20);
    return figures(a, b, startedAt);
  } finally {
    a.close();
    b.close();
  }
}

async function lossy(seed: number, drop: number): Promise<Figures> {
  const received: Message[] = [];
  const [a, b] = await members(received);
  try {
    a.faults = { ...noFaultPlan(seed), drop };
    b.faults = { ...noFaultPlan(seed + 1000), drop };
    const startedAt = performance.now();
    for (let i = 0; i < messages; i++) a.send(2, append(1, 4, 5_000, i)); // 15 fragments each
    await waitFor(() => received.length >= messages);
    return figures(a, b, startedAt);
  } finally {
    a.close();
    b.close();
  }
}

async function main(): Promise<void> {
  const scenarios: Array<[string, (round: number) => Promise<Figures>]> = [
    ['silent sender', () => silentSender()],
    ['resends lost', (r) => resendsLost(31 + r)],
    ['loss 5%', (r) => lossy(41 + r, 0.05)],
    ['loss 10%', (r) => lossy(51 + r, 0.1)],
  ];
  const results = new Map<string, Figures[]>(scenarios.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of scenarios) results.get(name)!.push(await run(r)); // in turn
  }
  const cases = scenarios.map(([name]) => ({ name, ...medianRow(results.get(name)!) }));
  const host = await machine();
  printTable(
    `NAK repair (${small ? 'small' : 'default'}): median of ${rounds} round(s), ` +
      `${messages} messages, ${silent} silent; ${machineLine(host)}`,
    cases.map((c) => ({ ...c, name: c.name })),
  );
  const config = { bench: 'nak-repair', size: small ? 'small' : 'default', rounds, messages };
  console.log(
    JSON.stringify({ ...config, cpu_steal_pct: host.cpu_steal_pct, cases, machine: host }),
  );
}

await main();
